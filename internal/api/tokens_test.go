package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/tokens"
)

// TestTokenRoleProjectMatrix: what a token may do is its owner's current
// role, narrowed to the token's projects and role, checked at each use.
// Every refusal is a problem document.
func TestTokenRoleProjectMatrix(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	ctx := context.Background()
	operatorP1, opTok := a.token(t, "operator", tokens.Operator, p1)
	viewerTokenOfOperator, _ := a.token(t, "operator", tokens.Viewer, p1)
	operatorP2, _ := a.token(t, "operator", tokens.Operator, p2)
	viewer, _ := a.token(t, "viewer", tokens.Viewer, p1, p2)
	rita, _ := a.token(t, "reporting-operator", tokens.Operator, p2)
	admin, _ := a.token(t, "admin", tokens.Admin, p1)

	r := operatorP1.post(snapshotsPath, map[string]any{"retentionInDays": 2})
	want(t, r, http.StatusAccepted)
	p1Job := r.job(t).ID

	type check struct {
		name   string
		c      *apiClient
		method string
		path   string
		status int
	}
	clusters1, clusters2 := "/projects/"+p1+"/clusters", "/projects/"+p2+"/clusters"
	snap2 := "/projects/" + p2 + "/clusters/" + atlassim.FixtureReportingCluster + "/snapshots"
	for _, k := range []check{
		{"operator token reads its project", operatorP1, http.MethodGet, clusters1, 200},
		{"operator token, another project", operatorP1, http.MethodGet, clusters2, 403},
		{"operator token, another project's action", operatorP1, http.MethodPost, snap2, 403},
		{"viewer-role token of an operator reads", viewerTokenOfOperator, http.MethodGet, clusters1, 200},
		{"viewer-role token of an operator may not act", viewerTokenOfOperator, http.MethodPost, snapshotsPath, 403},
		{"viewer's token may not act", viewer, http.MethodPost, snapshotsPath, 403},
		{"viewer's token reads both projects", viewer, http.MethodGet, clusters2, 200},
		{"viewer's token reads the job", viewer, http.MethodGet, "/jobs/" + p1Job, 200},
		{"a token for project 2 does not see project 1's job", operatorP2, http.MethodGet, "/jobs/" + p1Job, 404},
		{"nor its events", operatorP2, http.MethodGet, "/jobs/" + p1Job + "/events", 404},
		{"an operator of project 2 only acts there", rita, http.MethodGet, clusters1, 403},
		{"an admin's token for project 1 only", admin, http.MethodGet, clusters2, 403},
	} {
		var r answer
		if k.method == http.MethodPost {
			r = k.c.post(k.path, map[string]any{"retentionInDays": 2})
		} else {
			r = k.c.do(k.method, k.path, nil)
		}
		if r.Status != k.status {
			t.Errorf("%s: %s %s = %d, want %d: %s", k.name, k.method, k.path, r.Status, k.status, r.Body)
			continue
		}
		if k.status >= 400 {
			if p := r.problem(t); p.Status != k.status || p.Type == "" || p.Title == "" {
				t.Errorf("%s: problem %+v", k.name, p)
			}
		}
	}

	// The jobs list shows only the token's projects.
	var list struct{ Items []jobAnswer }
	r = operatorP2.do(http.MethodGet, "/jobs", nil)
	want(t, r, http.StatusOK)
	r.json(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("a project 2 token lists %d jobs of project 1", len(list.Items))
	}
	var projects struct{ Items []struct{ ID string } }
	r = operatorP2.do(http.MethodGet, "/projects", nil)
	r.json(t, &projects)
	if len(projects.Items) != 1 || projects.Items[0].ID != p2 {
		t.Errorf("a project 2 token lists projects %+v", projects.Items)
	}

	// Snapshots and health from the inventory: only the token's projects.
	a.sync(t)
	for _, path := range []string{"/snapshots", "/snapshots?project=" + p1, "/health", "/health?project=" + p1} {
		var items struct{ Items []struct{ ProjectID string } }
		r = operatorP2.do(http.MethodGet, path, nil)
		want(t, r, http.StatusOK)
		r.json(t, &items)
		for _, it := range items.Items {
			if it.ProjectID != p2 {
				t.Errorf("%s: a project 2 token sees project %s", path, it.ProjectID)
			}
		}
		if path == "/snapshots" && len(items.Items) == 0 {
			t.Errorf("%s: a project 2 token sees nothing of project 2", path)
		}
	}

	// A refused action is audited naming the token and its owner.
	var n int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE outcome = 'denied' AND action = 'snapshot.take'
		AND actor_subject = 'dev|operator' AND params ? 'token'`).Scan(&n); err != nil || n < 2 {
		t.Errorf("%d denied snapshot.take records naming a token of dev|operator, want 2 or more (%v)", n, err)
	}

	// The token outlives its owner's role: the policy no longer makes
	// operators of the group, so the token may neither act nor read.
	a.reload(t, strings.Replace(devPolicy, "groups: [snapdesk-operators]", "groups: [former-operators]", 1))
	want(t, operatorP1.do(http.MethodGet, clusters1, nil), http.StatusForbidden)
	r = operatorP1.post(snapshotsPath, map[string]any{"retentionInDays": 2})
	want(t, r, http.StatusForbidden)
	r.problem(t)
	a.reload(t, devPolicy)
	want(t, operatorP1.do(http.MethodGet, clusters1, nil), http.StatusOK)
	// The owner left the group at the identity provider: the next sign-in
	// records it, and the token loses the group's rights.
	oscar := devUser(t, "operator")
	oscar.Groups = []string{"former-operators"}
	if err := a.Tokens.RefreshOwner(ctx, oscar); err != nil {
		t.Fatal(err)
	}
	want(t, operatorP1.do(http.MethodGet, clusters1, nil), http.StatusForbidden)

	// Expired, revoked, unknown, missing, a cookie instead of a token.
	if _, err := a.Pool.Exec(ctx, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, opTok.ID); err != nil {
		t.Fatal(err)
	}
	r = operatorP1.do(http.MethodGet, "/projects", nil)
	want(t, r, http.StatusUnauthorized)
	if p := r.problem(t); !strings.Contains(p.Detail, "expired") || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("expired: %+v", p)
	}
	vtok := mustList(t, a, "viewer")
	if _, err := a.Tokens.Revoke(ctx, devUser(t, "viewer"), audit0, vtok.ID); err != nil {
		t.Fatal(err)
	}
	r = viewer.do(http.MethodGet, "/projects", nil)
	want(t, r, http.StatusUnauthorized)
	if p := r.problem(t); !strings.Contains(p.Detail, "revoked") {
		t.Errorf("revoked: %+v", p)
	}
	unknown := a.client(t, tokens.Prefix+"bm90LWEtdG9rZW4")
	want(t, unknown.do(http.MethodGet, "/projects", nil), http.StatusUnauthorized)
	anonymous := a.client(t, "")
	r = anonymous.do(http.MethodGet, "/projects", nil)
	want(t, r, http.StatusUnauthorized)
	r.problem(t)
	r = anonymous.do(http.MethodGet, "/projects", nil, "Cookie", "session=abc; snapdesk_csrf=def")
	want(t, r, http.StatusUnauthorized)
	if p := r.problem(t); !strings.Contains(p.Detail, "cookies") {
		t.Errorf("session cookie: %+v", p)
	}
	r = anonymous.do(http.MethodPost, snapshotsPath, map[string]any{"retentionInDays": 2}, "Cookie", "session=abc", "Idempotency-Key", "k")
	want(t, r, http.StatusUnauthorized)
}

func mustList(t *testing.T, a *testAPI, key string) tokens.Token {
	t.Helper()
	list, err := a.Tokens.List(context.Background(), devUser(t, key), false)
	if err != nil || len(list) == 0 {
		t.Fatalf("tokens of %s: %v %v", key, list, err)
	}
	return list[0]
}

// TestTokenCreationRules: a token is never above its creator's role, lives
// at most 90 days, and only admins make a team's service token, which acts
// with the team's rights; creation and revocation are audited, and only a
// hash of the secret is stored.
func TestTokenCreationRules(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	ctx := context.Background()
	create := func(key string, r tokens.CreateRequest) (tokens.Token, string, error) {
		if r.Lifetime == 0 {
			r.Lifetime = 30 * 24 * time.Hour
		}
		if r.Name == "" {
			r.Name = "ci"
		}
		return a.Tokens.Create(ctx, devUser(t, key), audit0, r)
	}
	var verr *tokens.ValidationError
	if _, _, err := create("viewer", tokens.CreateRequest{Projects: []string{p1}, Role: tokens.Operator}); !errors.Is(err, identity.ErrDenied) {
		t.Errorf("viewer made an operator token: %v", err)
	}
	if _, _, err := create("reporting-operator", tokens.CreateRequest{Projects: []string{p1, p2}, Role: tokens.Viewer}); !errors.Is(err, identity.ErrDenied) {
		t.Errorf("a token for a project its owner cannot see: %v", err)
	}
	if _, _, err := create("operator", tokens.CreateRequest{Projects: []string{p1}, Role: tokens.Operator, Lifetime: 91 * 24 * time.Hour}); !errors.As(err, &verr) || verr.Field != "expiresInDays" {
		t.Errorf("91 days: %v", err)
	}
	if _, _, err := create("operator", tokens.CreateRequest{Name: " ", Projects: []string{p1}, Role: tokens.Operator}); !errors.As(err, &verr) || verr.Field != "name" {
		t.Errorf("no name: %v", err)
	}
	if _, _, err := create("operator", tokens.CreateRequest{Projects: []string{p1}, Role: "root"}); !errors.As(err, &verr) || verr.Field != "role" {
		t.Errorf("role root: %v", err)
	}
	if _, _, err := create("operator", tokens.CreateRequest{Team: "snapdesk-operators", Projects: []string{p1}, Role: tokens.Operator}); !errors.Is(err, identity.ErrDenied) {
		t.Errorf("an operator made a service token: %v", err)
	}

	// An admin's service token for the operators' team acts as the team.
	tok, secret, err := create("admin", tokens.CreateRequest{Name: "backstage", Team: "snapdesk-operators", Projects: []string{p1}, Role: tokens.Operator})
	if err != nil {
		t.Fatal(err)
	}
	svc := a.client(t, secret)
	r := svc.post(snapshotsPath, map[string]any{"retentionInDays": 2})
	want(t, r, http.StatusAccepted)
	if j := r.job(t); j.RequestedBy.Subject != "team:snapdesk-operators" {
		t.Errorf("service token's job requested by %q", j.RequestedBy.Subject)
	}
	// A team the policy gives nothing may do nothing.
	_, nobody, err := create("admin", tokens.CreateRequest{Name: "nobody", Team: "unknown-team", Projects: []string{p1}, Role: tokens.Admin})
	if err != nil {
		t.Fatal(err)
	}
	want(t, a.client(t, nobody).do(http.MethodGet, "/projects/"+p1+"/clusters", nil), http.StatusForbidden)

	// Only the hash is stored; creation and revocation are audited.
	var stored int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE secret_hash = sha256($1::bytea)`, []byte(secret)).Scan(&stored); err != nil || stored != 1 {
		t.Errorf("hash lookup found %d rows (%v)", stored, err)
	}
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens t WHERE t::text LIKE '%' || $1 || '%'`, secret).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("the secret is stored in %d rows (%v)", stored, err)
	}
	if _, err := a.Tokens.Revoke(ctx, devUser(t, "operator"), audit0, tok.ID); !errors.Is(err, identity.ErrDenied) {
		t.Errorf("an operator revoked the team's token: %v", err)
	}
	if _, err := a.Tokens.Revoke(ctx, devUser(t, "admin"), audit0, tok.ID); err != nil {
		t.Fatal(err)
	}
	want(t, svc.do(http.MethodGet, "/projects", nil), http.StatusUnauthorized)
	var actions []string
	rows, err := a.Pool.Query(ctx, `SELECT action || ':' || outcome FROM audit_events WHERE action LIKE 'token.%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		actions = append(actions, s)
	}
	rows.Close()
	got := strings.Join(actions, " ")
	for _, w := range []string{"token.create:denied", "token.create:error", "token.create:ok", "token.revoke:denied", "token.revoke:ok"} {
		if !strings.Contains(got, w) {
			t.Errorf("audit has %q, want %s among them", got, w)
		}
	}
}
