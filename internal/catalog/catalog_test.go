package catalog_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/catalog"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/policy"
)

func TestOnlyWhatThePersonMaySee(t *testing.T) {
	sim, err := atlassim.New(atlassim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client, err := atlas.New(atlas.WithBaseURL(srv.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse("policy.yaml", []byte("grants:\n  - project: "+atlassim.FixtureProject2ID+"\n    role: viewer\n    groups: [analysts]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := catalog.New(client, policy.Fixed(p))
	ctx := context.Background()
	analyst := identity.User{Subject: "a", Groups: []string{"analysts"}}
	stranger := identity.User{Subject: "s", Groups: []string{"sales"}}

	projects, err := c.Projects(ctx, analyst)
	if err != nil || len(projects) != 1 || projects[0].ID != atlassim.FixtureProject2ID {
		t.Fatalf("analyst's projects = %v, %v; want only %s", projects, err, atlassim.FixtureProject2ID)
	}
	if projects, err := c.Projects(ctx, stranger); err != nil || len(projects) != 0 {
		t.Errorf("stranger's projects = %v, %v; want none", projects, err)
	}
	if _, err := c.Project(ctx, analyst, atlassim.FixtureProject2ID); err != nil {
		t.Errorf("analyst's own project: %v", err)
	}
	for _, g := range []string{atlassim.FixtureProjectID, "ffffffffffffffffffffffff"} {
		if a, err := c.Project(ctx, analyst, g); a != nil || !errors.Is(err, identity.ErrDenied) {
			t.Errorf("project %s: client %v, err %v; want denied, no client", g, a, err)
		}
	}
}
