// Package catalog is people's read access to Atlas: the projects, clusters,
// snapshots, buckets and pipelines the pages show. Every read goes through a
// permission check against the policy here, so no handler can show a
// project to someone who may not see it.
package catalog

import (
	"context"
	"fmt"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/identity"
)

// Catalog hands out read access to Atlas, project by project.
type Catalog struct {
	atlas *atlas.Client
	authz identity.Authorizer
}

// New is the catalog over client, checked with authz.
func New(client *atlas.Client, authz identity.Authorizer) *Catalog {
	return &Catalog{atlas: client, authz: authz}
}

// Projects lists the Atlas projects u may view.
func (c *Catalog) Projects(ctx context.Context, u identity.User) ([]atlas.Project, error) {
	var out []atlas.Project
	for p, err := range c.atlas.Projects.All(ctx) {
		if err != nil {
			return nil, fmt.Errorf("catalog: projects: %w", err)
		}
		if c.authz.Can(ctx, u, p.ID, identity.PermView) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Project returns the client to read project groupID with, once u may view
// it, and a *identity.DeniedError otherwise. Whether the project exists is
// not looked up first: a refusal reveals nothing about other projects.
func (c *Catalog) Project(ctx context.Context, u identity.User, groupID string) (*atlas.Client, error) {
	if err := identity.Require(ctx, c.authz, u, groupID, identity.PermView); err != nil {
		return nil, err
	}
	return c.atlas, nil
}
