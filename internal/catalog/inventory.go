package catalog

import (
	"context"

	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/inventory"
)

// Inventory hands out read access to the inventory (what Snapdesk knows
// of Atlas, in Postgres), project by project, after the permission check.
// It never reaches Atlas.
type Inventory struct {
	store *inventory.Store
	authz identity.Authorizer
}

// NewInventory is read access to store, checked with authz.
func NewInventory(store *inventory.Store, authz identity.Authorizer) *Inventory {
	return &Inventory{store: store, authz: authz}
}

// Project returns the read-only reader of project groupID once u may view
// it, and a *identity.DeniedError otherwise (whether or not it exists).
func (c *Inventory) Project(ctx context.Context, u identity.User, groupID string) (*inventory.Reader, error) {
	if err := identity.Require(ctx, c.authz, u, groupID, identity.PermView); err != nil {
		return nil, err
	}
	return c.store.Reader(groupID), nil
}

// Projects lists the projects u may view, by name.
func (c *Inventory) Projects(ctx context.Context, u identity.User) ([]inventory.Project, error) {
	all, err := c.store.Projects(ctx)
	if err != nil {
		return nil, err
	}
	var out []inventory.Project
	for _, p := range all {
		if c.authz.Can(ctx, u, p.ID, identity.PermView) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ProjectIDs lists the ids of the projects u may view.
func (c *Inventory) ProjectIDs(ctx context.Context, u identity.User) ([]string, error) {
	ps, err := c.Projects(ctx, u)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids, nil
}
