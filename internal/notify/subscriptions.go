package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// Scopes and channels.
const (
	ScopeProject  = "project"
	ScopePersonal = "personal"

	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"
	ChannelEmail   = "email"
)

// PersonalEventTypes are what a personal subscription may pick: the
// person's own jobs and approvals.
var PersonalEventTypes = []string{JobSucceeded, JobFailed, JobStalled, ApprovalRequested, ApprovalDecided}

// Subscription is who hears about what, and where. Its secrets never leave
// the service: pages get TargetDisplay.
type Subscription struct {
	ID            string
	Scope         string
	ProjectID     string
	Channel       string
	Name          string
	Events        []string
	ClusterName   string
	TargetDisplay string
	EmailTo       []string
	Owner         Person
	CreatedAt     time.Time
}

// NewSubscription is what the settings forms submit.
type NewSubscription struct {
	Scope       string
	ProjectID   string
	Channel     string
	Name        string
	Events      []string
	ClusterName string
	// URL is the webhook or Slack incoming-webhook URL.
	URL string
	// EmailTo are a project subscription's recipients (personal ones go to
	// the person's own address).
	EmailTo []string
}

// FieldError is a form field's problem, named by the form's field name.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ErrNotFound is a subscription or delivery that does not exist or that the
// person may not see (the two are not told apart).
var ErrNotFound = errors.New("notify: no such subscription")

// validate checks a new subscription, naming the form field at fault.
func (s *Service) validate(u identity.User, n *NewSubscription) error {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" {
		return &FieldError{"name", fmt.Sprintf("Give the subscription a name of 1 to %d characters.", rules.MaxSubscriptionNameLen)}
	}
	if msg := rules.CheckLen("the name", n.Name, rules.MaxSubscriptionNameLen); msg != "" {
		return &FieldError{"name", msg}
	}
	allowed := EventTypes
	if n.Scope == ScopePersonal {
		allowed = PersonalEventTypes
	}
	if len(n.Events) == 0 {
		return &FieldError{"events", "Pick at least one event."}
	}
	for _, e := range n.Events {
		if !slices.Contains(allowed, e) {
			return &FieldError{"events", fmt.Sprintf("%q is not an event this subscription can pick.", e)}
		}
	}
	slices.Sort(n.Events)
	n.Events = slices.Compact(n.Events)
	n.ClusterName = strings.TrimSpace(n.ClusterName)
	if msg := rules.CheckLen("the cluster name", n.ClusterName, rules.MaxClusterNameLen); msg != "" {
		return &FieldError{"clusterName", msg}
	}
	if n.ClusterName != "" && (n.Scope != ScopeProject || !rules.ValidClusterName(n.ClusterName)) {
		return &FieldError{"clusterName", "A cluster name has letters, digits and hyphens (or leave it empty for every cluster)."}
	}
	switch n.Channel {
	case ChannelWebhook, ChannelSlack:
		if !s.sealer.Enabled() {
			return &FieldError{"channel", "Webhook and Slack destinations need SNAPDESK_NOTIFY_KEY, which this server does not have. Ask its operators."}
		}
		if msg := rules.CheckLen("the URL", strings.TrimSpace(n.URL), rules.MaxURLLen); msg != "" {
			return &FieldError{"url", msg}
		}
		if err := checkURL(n.URL); err != nil {
			return &FieldError{"url", err.Error()}
		}
	case ChannelEmail:
		if !s.cfg.SMTP.Enabled() {
			return &FieldError{"channel", "Email needs an SMTP server (SNAPDESK_SMTP_ADDR), which this server does not have. Ask its operators."}
		}
		if n.Scope == ScopePersonal {
			if u.Email == "" {
				return &FieldError{"channel", "Your sign-in gives no email address, so email cannot reach you."}
			}
			n.EmailTo = nil
			break
		}
		if len(n.EmailTo) == 0 || len(n.EmailTo) > 20 {
			return &FieldError{"emailTo", "Give 1 to 20 email addresses."}
		}
		if msg := rules.CheckLen("the addresses", strings.Join(n.EmailTo, ","), rules.MaxEmailListLen); msg != "" {
			return &FieldError{"emailTo", msg}
		}
		for i, a := range n.EmailTo {
			addr, err := mail.ParseAddress(strings.TrimSpace(a))
			if err != nil || addr.Name != "" {
				return &FieldError{"emailTo", fmt.Sprintf("%q is not an email address.", a)}
			}
			n.EmailTo[i] = addr.Address
		}
	default:
		return &FieldError{"channel", "Pick webhook, Slack or email."}
	}
	return nil
}

// checkURL accepts https URLs, and http only to this machine (a receiver
// on `make run`): messages never cross a network in the clear.
func checkURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil {
		return errors.New("Give the full URL, such as https://hooks.slack.com/services/… or https://example.com/webhooks/snapdesk.")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return errors.New("The URL must start with https:// (http:// only for a receiver on this machine).")
}

// displayURL shows where messages go without the path, which for Slack is
// the secret.
func displayURL(raw string) string {
	u, _ := url.Parse(strings.TrimSpace(raw))
	return u.Scheme + "://" + u.Host + "/…"
}

// Create stores a subscription and audits it. For a webhook it returns the
// signing secret, to be shown this once: only its sealed form is kept.
func (s *Service) Create(ctx context.Context, u identity.User, o audit.Origin, n NewSubscription) (Subscription, string, error) {
	action := "notify.subscription.create"
	switch n.Scope {
	case ScopeProject:
		if err := identity.Require(ctx, s.authz, u, n.ProjectID, identity.PermManageNotifications); err != nil {
			return Subscription{}, "", err
		}
	case ScopePersonal:
		n.ProjectID, n.ClusterName = "", ""
	default:
		return Subscription{}, "", fmt.Errorf("notify: unknown scope %q", n.Scope)
	}
	if err := s.validate(u, &n); err != nil {
		return Subscription{}, "", err
	}
	id := uuid.NewString()
	sub := Subscription{ID: id, Scope: n.Scope, ProjectID: n.ProjectID, Channel: n.Channel, Name: n.Name, Events: n.Events,
		ClusterName: n.ClusterName, EmailTo: n.EmailTo, Owner: Person{Subject: u.Subject, Email: u.Email, Name: u.Name}}
	var targetSealed, secretSealed []byte
	var secret string
	var err error
	switch n.Channel {
	case ChannelWebhook, ChannelSlack:
		sub.TargetDisplay = displayURL(n.URL)
		if targetSealed, err = s.sealer.Seal(strings.TrimSpace(n.URL), id); err != nil {
			return Subscription{}, "", err
		}
		if n.Channel == ChannelWebhook {
			if secret, err = NewSecret(); err != nil {
				return Subscription{}, "", err
			}
			if secretSealed, err = s.sealer.Seal(secret, id); err != nil {
				return Subscription{}, "", err
			}
		}
	case ChannelEmail:
		sub.TargetDisplay = strings.Join(n.EmailTo, ", ")
		if n.Scope == ScopePersonal {
			sub.TargetDisplay = u.Email
		}
	}
	var projectID any
	if n.ProjectID != "" {
		projectID = n.ProjectID
	}
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	emailTo := n.EmailTo
	if emailTo == nil {
		emailTo = []string{}
	}
	err = db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO notify_subscriptions (id, scope, project_id, channel, name, events, cluster_name,
				target_display, target_sealed, secret_sealed, email_to, owner_subject, owner_email, owner_name, owner_groups)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING created_at`,
			id, n.Scope, projectID, n.Channel, n.Name, n.Events, n.ClusterName, sub.TargetDisplay, targetSealed, secretSealed,
			emailTo, u.Subject, u.Email, u.Name, groups).Scan(&sub.CreatedAt); err != nil {
			return fmt.Errorf("notify: store subscription: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Event{Actor: u, Action: action, Target: audit.Target{ProjectID: n.ProjectID, ClusterName: n.ClusterName},
			Params: auditParams(sub), Outcome: audit.OK, Message: "notification subscription " + n.Name + " created", Origin: o})
		return err
	})
	if err != nil {
		return Subscription{}, "", err
	}
	return sub, secret, nil
}

// auditParams is what the trail records of a subscription: never the URL
// or the secret.
func auditParams(sub Subscription) map[string]any {
	return map[string]any{"subscriptionId": sub.ID, "scope": sub.Scope, "channel": sub.Channel, "name": sub.Name,
		"events": sub.Events, "destination": sub.TargetDisplay}
}

const subColumns = `id, scope, COALESCE(project_id, ''), channel, name, events, cluster_name, target_display, email_to,
	owner_subject, owner_email, owner_name, created_at`

func scanSub(row pgx.CollectableRow) (Subscription, error) {
	var x Subscription
	err := row.Scan(&x.ID, &x.Scope, &x.ProjectID, &x.Channel, &x.Name, &x.Events, &x.ClusterName, &x.TargetDisplay, &x.EmailTo,
		&x.Owner.Subject, &x.Owner.Email, &x.Owner.Name, &x.CreatedAt)
	return x, err
}

// ProjectSubscriptions lists a project's subscriptions, for its admins.
func (s *Service) ProjectSubscriptions(ctx context.Context, u identity.User, projectID string) ([]Subscription, error) {
	if err := identity.Require(ctx, s.authz, u, projectID, identity.PermManageNotifications); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+subColumns+` FROM notify_subscriptions
		WHERE scope = 'project' AND project_id = $1 ORDER BY created_at`, projectID)
	if err != nil {
		return nil, fmt.Errorf("notify: subscriptions of project %s: %w", projectID, err)
	}
	return pgx.CollectRows(rows, scanSub)
}

// PersonalSubscriptions lists the person's own subscriptions.
func (s *Service) PersonalSubscriptions(ctx context.Context, u identity.User) ([]Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subColumns+` FROM notify_subscriptions
		WHERE scope = 'personal' AND owner_subject = $1 ORDER BY created_at`, u.Subject)
	if err != nil {
		return nil, fmt.Errorf("notify: personal subscriptions: %w", err)
	}
	return pgx.CollectRows(rows, scanSub)
}

// Subscription returns one subscription if u may manage it: a personal one
// to its owner, a project one to the project's admins. Anyone else gets
// ErrNotFound, so ids reveal nothing.
func (s *Service) Subscription(ctx context.Context, u identity.User, id string) (Subscription, error) {
	if uuid.Validate(id) != nil {
		return Subscription{}, ErrNotFound
	}
	rows, err := s.pool.Query(ctx, `SELECT `+subColumns+` FROM notify_subscriptions WHERE id = $1::uuid`, id)
	if err != nil {
		return Subscription{}, fmt.Errorf("notify: subscription %s: %w", id, err)
	}
	sub, err := pgx.CollectExactlyOneRow(rows, scanSub)
	if errors.Is(err, pgx.ErrNoRows) {
		return Subscription{}, ErrNotFound
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("notify: subscription %s: %w", id, err)
	}
	if !s.mayManage(ctx, u, sub) {
		return Subscription{}, ErrNotFound
	}
	return sub, nil
}

func (s *Service) mayManage(ctx context.Context, u identity.User, sub Subscription) bool {
	if sub.Scope == ScopePersonal {
		return u.Subject != "" && sub.Owner.Subject == u.Subject
	}
	return s.authz.Can(ctx, u, sub.ProjectID, identity.PermManageNotifications)
}

// Delete removes a subscription (and its deliveries' history) and audits it.
func (s *Service) Delete(ctx context.Context, u identity.User, o audit.Origin, id string) (Subscription, error) {
	sub, err := s.Subscription(ctx, u, id)
	if err != nil {
		return sub, err
	}
	err = db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM notify_subscriptions WHERE id = $1::uuid`, id); err != nil {
			return fmt.Errorf("notify: delete subscription %s: %w", id, err)
		}
		_, err := audit.Append(ctx, tx, audit.Event{Actor: u, Action: "notify.subscription.delete", Target: audit.Target{ProjectID: sub.ProjectID, ClusterName: sub.ClusterName},
			Params: auditParams(sub), Outcome: audit.OK, Message: "notification subscription " + sub.Name + " deleted", Origin: o})
		return err
	})
	return sub, err
}

// RefreshOwner records u's current groups, email and name on their
// personal subscriptions (called at each sign-in), so that who may hear
// about a project's approvals follows the groups the identity provider
// gives them now.
func (s *Service) RefreshOwner(ctx context.Context, u identity.User) error {
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	if _, err := s.pool.Exec(ctx, `UPDATE notify_subscriptions SET owner_groups = $2, owner_email = $3, owner_name = $4
		WHERE scope = 'personal' AND owner_subject = $1`, u.Subject, groups, u.Email, u.Name); err != nil {
		return fmt.Errorf("notify: refresh subscriptions of %s: %w", u.Subject, err)
	}
	return nil
}
