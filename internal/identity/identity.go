// Package identity names the person behind a request and what they may do.
// It is the seam between the sign-in layer (internal/auth), which fills it
// in, and the services, which consult it: services never import auth.
package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// User is a signed-in person as the identity provider describes them.
type User struct {
	// Subject is the provider's stable id for the person.
	Subject string
	Email   string
	Name    string
	// Groups are the provider's groups, mapped to roles by the policy.
	Groups []string
	// Token is set when the person (or team) acts through an API token:
	// their rights, narrowed to the token's projects and permissions.
	Token *Token
}

// Token is the API token a request came with, as the authorizer and the
// audit trail need it (never its secret).
type Token struct {
	ID   string
	Name string
	// Projects the token may act on.
	Projects []string
	// Perms are what the token's role allows, whatever the owner's role.
	Perms []Permission
}

// Allows reports whether the token reaches this permission on the project
// (the owner's own role is checked besides).
func (t *Token) Allows(projectID string, p Permission) bool {
	return slices.Contains(t.Projects, projectID) && slices.Contains(t.Perms, p)
}

// Display is how the person is shown: name, else email, else subject.
func (u User) Display() string {
	switch {
	case u.Name != "":
		return u.Name
	case u.Email != "":
		return u.Email
	default:
		return u.Subject
	}
}

// Permission is something a role allows on a project.
type Permission string

// The permissions, from least to most powerful role that grants them.
const (
	// PermView: see a project's clusters, snapshots, jobs and audit records (viewer).
	PermView Permission = "view"
	// PermOperate: take snapshots, export, trigger ingestions (operator).
	PermOperate Permission = "operate"
	// PermApprove: approve another person's export where the policy asks for it (operator).
	PermApprove Permission = "approve"
	// PermAuditDownload: download the project's audit trail (admin).
	PermAuditDownload Permission = "audit.download"
	// PermManageNotifications: set up the project's notification subscriptions (admin).
	PermManageNotifications Permission = "notifications.manage"
)

// AllProjects stands for every Atlas project in Can, e.g. for cross-project
// lists an admin may see.
const AllProjects = "*"

// Authorizer decides whether a user holds a permission on an Atlas project.
type Authorizer interface {
	Can(ctx context.Context, u User, projectID string, p Permission) bool
	// VisibleProjects lists the project ids u may view; all=true means every project.
	VisibleProjects(ctx context.Context, u User) (ids []string, all bool)
}

// ErrDenied is returned (wrapped in *DeniedError) when a permission is missing.
var ErrDenied = errors.New("permission denied")

// DeniedError says who was refused what, where.
type DeniedError struct {
	User       User
	ProjectID  string
	Permission Permission
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%s may not %s in project %s", e.User.Display(), e.Permission, e.ProjectID)
}

func (e *DeniedError) Unwrap() error { return ErrDenied }

// Require returns a *DeniedError unless a allows u the permission on projectID.
func Require(ctx context.Context, a Authorizer, u User, projectID string, p Permission) error {
	if a.Can(ctx, u, projectID, p) {
		return nil
	}
	return &DeniedError{User: u, ProjectID: projectID, Permission: p}
}

type ctxKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// FromContext returns the user carried by ctx, if any.
func FromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

// System is the actor of what Snapdesk does on its own (a lapsed approval,
// a policy reload), in the audit trail.
var System = User{Subject: "snapdesk", Name: "Snapdesk"}
