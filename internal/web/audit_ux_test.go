package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// TestAuditSaysWhatAPersonMaySee: Rita operates the second project only.
// Refused on the first project's page, she opens the audit page: her
// refusal is recorded but not hers to see, and the page says so (and what
// she may see) instead of "Nothing has been recorded yet".
func TestAuditSaysWhatAPersonMaySee(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	rita := signedIn(t, srv, "reporting-operator")
	if resp, _ := fetch(t, rita, mustGet(srv.URL+"/projects/"+atlassim.FixtureProjectID)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another project's page = %d, want 403", resp.StatusCode)
	}
	_, doc := fetch(t, rita, mustGet(srv.URL+"/audit"))
	if n := doc.Find(`[data-testid="audit-row"]`).Length(); n != 0 {
		t.Fatalf("she sees %d records about a project she may not view", n)
	}
	empty := strings.Join(strings.Fields(doc.Find(`[data-testid="audit-empty"]`).Text()), " ")
	if strings.Contains(empty, "Nothing has been recorded yet.") {
		t.Errorf("audit page tells her nothing was recorded: %q", empty)
	}
	if got := doc.Find(`[data-testid="audit-own-refusals"]`).Text(); !strings.Contains(got, "One of your requests was refused") {
		t.Errorf("own refusals = %q", got)
	}
	scope := doc.Find(`[data-testid="audit-scope"]`)
	if href := scope.Find("a").AttrOr("href", ""); href != "/projects/"+atlassim.FixtureProject2ID {
		t.Errorf("scope names %q, want her project", href)
	}
	if !strings.Contains(scope.Text(), "UTC") {
		t.Errorf("scope = %q: the time rule is not stated", scope.Text())
	}
	// An operator of every project sees every project's records, and is
	// told so (not that they may view no project).
	oscar := signedIn(t, srv, "operator")
	_, doc = fetch(t, oscar, mustGet(srv.URL+"/audit"))
	if got := doc.Find(`[data-testid="audit-scope"]`).Text(); !strings.Contains(got, "You see the records of every project") {
		t.Errorf("an operator of every project is told %q", got)
	}
	// An admin of every project is told they see everything.
	ada := signedIn(t, srv, "admin")
	_, doc = fetch(t, ada, mustGet(srv.URL+"/audit"))
	if got := doc.Find(`[data-testid="audit-scope"]`).Text(); !strings.Contains(got, "You see every record") {
		t.Errorf("admin's scope = %q", got)
	}
}
