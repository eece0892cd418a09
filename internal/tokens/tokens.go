// Package tokens keeps the API's credentials: personal access tokens that
// a signed-in person creates for their own automation, and service tokens
// an admin creates for a team. A token's secret is shown once and stored
// only as a SHA-256; at each use the token stands for its owner with the
// owner's current rights, narrowed to the token's projects and role.
package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// Prefix starts every secret, so scanners and people recognise one.
const Prefix = "sdk_"

// Limits on what a token may be given.
const (
	MaxLifetime = 90 * 24 * time.Hour
)

// Kind is who owns a token.
type Kind string

// Kinds of token.
const (
	KindPersonal Kind = "personal"
	KindService  Kind = "service"
)

// Role caps what a token may do. Each includes the ones before it.
type Role string

// Roles, weakest first.
const (
	Viewer   Role = "viewer"
	Operator Role = "operator"
	Admin    Role = "admin"
)

// Roles lists the roles, weakest first, for forms.
var Roles = []Role{Viewer, Operator, Admin}

// Perms are the permissions the role allows (as the policy's roles do).
func (r Role) Perms() []identity.Permission {
	switch r {
	case Viewer:
		return []identity.Permission{identity.PermView}
	case Operator:
		return []identity.Permission{identity.PermView, identity.PermOperate, identity.PermApprove}
	case Admin:
		return []identity.Permission{identity.PermView, identity.PermOperate, identity.PermApprove, identity.PermAuditDownload}
	}
	return nil
}

// top is the permission that marks the role (held by it and stronger ones).
func (r Role) top() identity.Permission {
	p := r.Perms()
	if len(p) == 0 {
		return ""
	}
	return p[len(p)-1]
}

// Token is a stored token (never its secret).
type Token struct {
	ID         string
	Kind       Kind
	Name       string
	Owner      identity.User
	Team       string
	Projects   []string
	Role       Role
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	RevokedBy  string
}

// Active reports whether the token may be used at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

// User is who a request made with the token acts as: the owner, carrying
// the token's narrowing.
func (t Token) User() identity.User {
	u := t.Owner
	u.Token = &identity.Token{ID: t.ID, Name: t.Name, Projects: slices.Clone(t.Projects), Perms: t.Role.Perms()}
	return u
}

// teamUser is the identity a team's service token acts as: the team's
// group, as the policy grants it.
func teamUser(team string) identity.User {
	return identity.User{Subject: "team:" + team, Name: team + " (team)", Groups: []string{team}}
}

// Errors of Authenticate. Each is a 401 to the caller.
var (
	ErrInvalid = errors.New("tokens: unknown or malformed token")
	ErrExpired = errors.New("tokens: token expired")
	ErrRevoked = errors.New("tokens: token revoked")
)

// ValidationError is a form field to correct.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// Service creates, lists, revokes and checks tokens.
type Service struct {
	pool  *pgxpool.Pool
	authz identity.Authorizer
	now   func() time.Time
}

// New is the token service; authz judges what a creator may hand out.
func New(pool *pgxpool.Pool, authz identity.Authorizer) *Service {
	return &Service{pool: pool, authz: authz, now: time.Now}
}

// CreateRequest asks for a token. Team is set for service tokens.
type CreateRequest struct {
	Name     string
	Team     string
	Projects []string
	Role     Role
	// Lifetime is how long the token lives, at most MaxLifetime.
	Lifetime time.Duration
}

// Create makes a token for u (a personal token) or, when r.Team is set and
// u is an admin of every project named, for the team. It returns the
// token and its secret, which is never available again.
func (s *Service) Create(ctx context.Context, u identity.User, o audit.Origin, r CreateRequest) (Token, string, error) {
	kind := KindPersonal
	if r.Team != "" {
		kind = KindService
	}
	r.Name, r.Team = strings.TrimSpace(r.Name), strings.TrimSpace(r.Team)
	if err := s.validate(ctx, u, kind, &r); err != nil {
		action := "token.create"
		aerr := audit.Log(ctx, s.pool, audit.Event{Actor: u, Action: action, Outcome: outcomeOf(err), Message: err.Error(), Origin: o,
			Params: map[string]any{"name": r.Name, "kind": string(kind), "team": r.Team, "projects": r.Projects, "role": string(r.Role)}})
		return Token{}, "", errors.Join(err, aerr)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Token{}, "", fmt.Errorf("tokens: random: %w", err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw)
	t := Token{ID: uuid.NewString(), Kind: kind, Name: r.Name, Team: r.Team, Projects: r.Projects, Role: r.Role, CreatedBy: who(u)}
	t.Owner = identity.User{Subject: u.Subject, Email: u.Email, Name: u.Name, Groups: u.Groups}
	if kind == KindService {
		t.Owner = teamUser(r.Team)
	}
	err := db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (id, kind, name, secret_hash, owner_subject, owner_email, owner_name, owner_groups,
				team, projects, role, created_by_subject, created_by_email, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now() + $14::interval)
			RETURNING created_at, expires_at`,
			t.ID, string(kind), t.Name, hash(secret), t.Owner.Subject, t.Owner.Email, t.Owner.Name, nonNil(t.Owner.Groups),
			t.Team, t.Projects, string(t.Role), u.Subject, u.Email, fmt.Sprintf("%d seconds", int64(r.Lifetime/time.Second)),
		).Scan(&t.CreatedAt, &t.ExpiresAt)
		if err != nil {
			return fmt.Errorf("tokens: create: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Event{Actor: u, Action: "token.create", Outcome: audit.OK, Origin: o,
			Message: fmt.Sprintf("%s token %q created", kind, t.Name),
			Params: map[string]any{"tokenId": t.ID, "name": t.Name, "kind": string(kind), "team": t.Team, "projects": t.Projects,
				"role": string(t.Role), "expiresAt": t.ExpiresAt.UTC().Format(time.RFC3339)}})
		return err
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

func outcomeOf(err error) audit.Outcome {
	if errors.Is(err, identity.ErrDenied) {
		return audit.Denied
	}
	return audit.Error
}

func (s *Service) validate(ctx context.Context, u identity.User, kind Kind, r *CreateRequest) error {
	switch {
	case r.Name == "":
		return &ValidationError{Field: "name", Msg: "give the token a name, e.g. what will use it"}
	case rules.Chars(r.Name) > rules.MaxTokenNameLen:
		return &ValidationError{Field: "name", Msg: rules.CheckLen("the name", r.Name, rules.MaxTokenNameLen)}
	case kind == KindService && rules.Chars(r.Team) > rules.MaxTeamLen:
		return &ValidationError{Field: "team", Msg: rules.CheckLen("the team", r.Team, rules.MaxTeamLen)}
	case kind == KindService && strings.ContainsAny(r.Team, " \t\r\n,"):
		return &ValidationError{Field: "team", Msg: fmt.Sprintf("the team's group as the policy names it (at most %d characters, no spaces)", rules.MaxTeamLen)}
	case len(r.Projects) == 0:
		return &ValidationError{Field: "projects", Msg: "choose at least one project"}
	case r.Role.top() == "":
		return &ValidationError{Field: "role", Msg: "choose viewer, operator or admin"}
	case r.Lifetime < time.Hour || r.Lifetime > MaxLifetime:
		return &ValidationError{Field: "expiresInDays", Msg: "a token lives 1 to 90 days"}
	}
	slices.Sort(r.Projects)
	r.Projects = slices.Compact(r.Projects)
	for _, p := range r.Projects {
		if !atlas.ValidID(p) {
			return &ValidationError{Field: "projects", Msg: "not an Atlas project id: " + p}
		}
		// Never above the creator's own role; a service token needs an
		// admin of each project it reaches.
		need := r.Role.top()
		if kind == KindService {
			need = identity.PermAuditDownload
		}
		if err := identity.Require(ctx, s.authz, u, p, need); err != nil {
			return err
		}
	}
	return nil
}

func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func who(u identity.User) string {
	if u.Email != "" {
		return u.Email
	}
	return u.Subject
}

const columns = `id, kind, name, owner_subject, owner_email, owner_name, owner_groups, team, projects, role,
	created_by_email, created_by_subject, created_at, expires_at, last_used_at, revoked_at, revoked_by`

func scan(row pgx.Row) (Token, error) {
	var t Token
	var kind, role, byEmail, bySubject string
	err := row.Scan(&t.ID, &kind, &t.Name, &t.Owner.Subject, &t.Owner.Email, &t.Owner.Name, &t.Owner.Groups, &t.Team, &t.Projects, &role,
		&byEmail, &bySubject, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt, &t.RevokedBy)
	t.Kind, t.Role, t.CreatedBy = Kind(kind), Role(role), byEmail
	if t.CreatedBy == "" {
		t.CreatedBy = bySubject
	}
	return t, err
}

// Authenticate finds the token a secret belongs to and returns who a
// request with it acts as. Its last use is recorded at most once a minute.
func (s *Service) Authenticate(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, Prefix) || len(secret) > 100 {
		return Token{}, ErrInvalid
	}
	t, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM api_tokens WHERE secret_hash = $1`, hash(secret)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, ErrInvalid
	}
	if err != nil {
		return Token{}, fmt.Errorf("tokens: authenticate: %w", err)
	}
	now := s.now()
	switch {
	case t.RevokedAt != nil:
		return t, ErrRevoked
	case !now.Before(t.ExpiresAt):
		return t, ErrExpired
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if _, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, t.ID); err != nil {
			return Token{}, fmt.Errorf("tokens: record use: %w", err)
		}
	}
	return t, nil
}

// List returns the tokens u owns or created, newest first; with all (an
// admin's list) every token.
func (s *Service) List(ctx context.Context, u identity.User, all bool) ([]Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM api_tokens
		WHERE $2 OR owner_subject = $1 OR created_by_subject = $1 ORDER BY created_at DESC, id LIMIT 500`, u.Subject, all)
	if err != nil {
		return nil, fmt.Errorf("tokens: list: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("tokens: list: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Revoke ends a token at once. Its owner or creator may revoke it, and an
// admin (of every project it reaches) any token.
func (s *Service) Revoke(ctx context.Context, u identity.User, o audit.Origin, id string) (Token, error) {
	if uuid.Validate(id) != nil {
		return Token{}, db.ErrNotFound
	}
	t, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM api_tokens WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, db.ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("tokens: revoke: %w", err)
	}
	params := map[string]any{"tokenId": t.ID, "name": t.Name, "kind": string(t.Kind)}
	if !s.mayManage(ctx, u, t) {
		err := &identity.DeniedError{User: u, ProjectID: strings.Join(t.Projects, ","), Permission: identity.PermAuditDownload}
		aerr := audit.Log(ctx, s.pool, audit.Event{Actor: u, Action: "token.revoke", Outcome: audit.Denied, Message: err.Error(), Origin: o, Params: params})
		return Token{}, errors.Join(err, aerr)
	}
	err = db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL`, t.ID, who(u))
		if err != nil {
			return fmt.Errorf("tokens: revoke: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil // already revoked: nothing to record twice
		}
		_, err = audit.Append(ctx, tx, audit.Event{Actor: u, Action: "token.revoke", Outcome: audit.OK, Origin: o, Params: params,
			Message: fmt.Sprintf("%s token %q revoked", t.Kind, t.Name)})
		return err
	})
	if err != nil {
		return Token{}, err
	}
	return scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM api_tokens WHERE id = $1`, id))
}

func (s *Service) mayManage(ctx context.Context, u identity.User, t Token) bool {
	if t.Owner.Subject == u.Subject || (t.Kind == KindPersonal && t.CreatedBy == who(u)) {
		return true
	}
	for _, p := range t.Projects {
		if !s.authz.Can(ctx, u, p, identity.PermAuditDownload) {
			return false
		}
	}
	return true
}

// MayManageAll reports whether u is an admin who sees and revokes every
// token and creates service tokens: an admin of every project.
func (s *Service) MayManageAll(ctx context.Context, u identity.User) bool {
	_, all := s.authz.VisibleProjects(ctx, u)
	return all && s.authz.Can(ctx, u, identity.AllProjects, identity.PermAuditDownload)
}

// RefreshOwner records u's current groups on their personal tokens (called
// at sign-in), so a person who leaves a group loses its rights for their
// tokens too.
func (s *Service) RefreshOwner(ctx context.Context, u identity.User) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_tokens SET owner_groups = $2, owner_email = $3, owner_name = $4
		WHERE owner_subject = $1 AND kind = 'personal' AND revoked_at IS NULL
		  AND (owner_groups IS DISTINCT FROM $2 OR owner_email <> $3 OR owner_name <> $4)`,
		u.Subject, nonNil(u.Groups), u.Email, u.Name)
	if err != nil {
		return fmt.Errorf("tokens: refresh owner %s: %w", u.Subject, err)
	}
	return nil
}
