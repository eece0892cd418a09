// Package identitytest holds authorizers for tests that are not about
// permissions. They live outside internal/identity so no production
// package can reach for them.
package identitytest

import (
	"context"

	"github.com/snapdesk/snapdesk/internal/identity"
)

// AllowAll grants every permission on every project.
type AllowAll struct{}

// Can always allows.
func (AllowAll) Can(context.Context, identity.User, string, identity.Permission) bool { return true }

// VisibleProjects is every project.
func (AllowAll) VisibleProjects(context.Context, identity.User) ([]string, bool) { return nil, true }

// DenyAll refuses everything.
type DenyAll struct{}

// Can always refuses.
func (DenyAll) Can(context.Context, identity.User, string, identity.Permission) bool { return false }

// VisibleProjects is none.
func (DenyAll) VisibleProjects(context.Context, identity.User) ([]string, bool) { return nil, false }
