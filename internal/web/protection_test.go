package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

func TestCSRFMissingOrWrongIs403AndAudited(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	srv := newServer(t, pool)
	c := signedIn(t, srv, "operator")
	token := csrfTokenOf(t, c, srv.URL)
	form := func(tok string) url.Values {
		v := url.Values{"retentionInDays": {"3"}, "idempotency_key": {uuid.NewString()}}
		if tok != "" {
			v.Set("_csrf", tok)
		}
		return v
	}
	for name, v := range map[string]url.Values{"missing": form(""), "wrong": form("not-" + token)} {
		resp, _ := fetch(t, c, post(srv.URL, clusterPath+"/snapshots", v))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d, want 403", name, resp.StatusCode)
		}
	}
	// In the htmx header instead of the form, the right token passes.
	req := post(srv.URL, clusterPath+"/snapshots", form(""))
	req.Header.Set("X-CSRF-Token", token)
	req.Header.Set("HX-Request", "true")
	if resp, _ := fetch(t, c, req); resp.StatusCode != http.StatusOK {
		t.Errorf("token in X-CSRF-Token: %d, want 200", resp.StatusCode)
	}
	if n := countAudit(t, pool, `action = 'csrf.refused' AND outcome = 'denied' AND actor_subject = 'dev|operator'`); n != 2 {
		t.Errorf("%d CSRF refusals audited with the person, want 2", n)
	}
	var jobs int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs`).Scan(&jobs); err != nil || jobs != 1 {
		t.Errorf("%d jobs, want the one with a valid token (%v)", jobs, err)
	}
}

func TestDeniedPagesAreAuditedWithoutRevealingTheProject(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	srv := newServer(t, pool)
	rita := signedIn(t, srv, "reporting-operator") // operator of the second project only
	resp, doc := fetch(t, rita, mustGet(srv.URL+clusterPath))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another project's cluster page = %d, want 403", resp.StatusCode)
	}
	if strings.Contains(doc.Text(), atlassim.FixtureReplicaSetCluster) || strings.Contains(doc.Find("main").Text(), "Payments") {
		t.Errorf("the 403 page reveals what is behind it: %q", doc.Find("main").Text())
	}
	if n := countAudit(t, pool, `action = 'access.denied' AND actor_subject = 'dev|reporting-operator' AND project_id = $1
		AND params->'groups' ? 'reporting-operators'`, atlassim.FixtureProjectID); n != 1 {
		t.Errorf("%d access.denied records with the person's groups, want 1", n)
	}
	// So is an action in that project, refused before anything is done.
	v := url.Values{"_csrf": {csrfTokenOf(t, rita, srv.URL)}, "idempotency_key": {uuid.NewString()}, "retentionInDays": {"3"}}
	if resp, _ := fetch(t, rita, post(srv.URL, clusterPath+"/snapshots", v)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("snapshot in another project = %d, want 403", resp.StatusCode)
	}
	if n := countAudit(t, pool, `action = 'access.denied' AND params->>'method' = 'POST' AND params->'groups' ? 'reporting-operators'`); n != 1 {
		t.Errorf("%d denied POST records with the person's groups, want 1", n)
	}
	// Her own project is fine, and lists show only it.
	if resp, _ := fetch(t, rita, mustGet(srv.URL+"/projects/"+atlassim.FixtureProject2ID)); resp.StatusCode != http.StatusOK {
		t.Errorf("own project = %d", resp.StatusCode)
	}
	_, doc = fetch(t, rita, mustGet(srv.URL+"/projects"))
	if strings.Contains(doc.Text(), atlassim.FixtureProjectID) {
		t.Error("/projects lists a project she may not see")
	}
	// A project that does not exist is 403 too for her (no probing for ids),
	// and a malformed id is 404 for everyone.
	if resp, _ := fetch(t, rita, mustGet(srv.URL+"/projects/ffffffffffffffffffffffff")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("unknown project = %d, want 403", resp.StatusCode)
	}
	if resp, _ := fetch(t, rita, mustGet(srv.URL+"/projects/nope")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("malformed project id = %d, want 404", resp.StatusCode)
	}
}

func TestApprovalFlowOnTheJobPage(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	srv := newServer(t, pool)
	// The built-in dev policy asks for approval of the second project's exports.
	const reportingCluster = "/projects/" + atlassim.FixtureProject2ID + "/clusters/" + atlassim.FixtureReportingCluster
	oscar, olga := signedIn(t, srv, "operator"), signedIn(t, srv, "operator2")
	_, doc := fetch(t, oscar, mustGet(srv.URL+reportingCluster))
	action, v := actionForm(t, doc, "/exports")
	v.Set("snapshotId", "65a1b2c3d4e5f60718293e21") // Reporting0's completed scheduled snapshot
	v.Set("exportBucketId", atlassim.FixtureReportingBucketID)
	resp, _ := fetch(t, oscar, post(srv.URL, action, v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("export request = %d", resp.StatusCode)
	}
	jobURL := resp.Header.Get("Location")
	_, doc = fetch(t, oscar, mustGet(srv.URL+jobURL))
	if doc.Find(`[data-testid="approve"]`).Length() != 0 || doc.Find(`[data-testid="approval-self"]`).Length() != 1 {
		t.Error("the requester is offered to approve their own export")
	}
	token := csrfTokenOf(t, oscar, srv.URL)
	if resp, _ := fetch(t, oscar, post(srv.URL, jobURL+"/approve", url.Values{"_csrf": {token}})); resp.StatusCode != http.StatusForbidden {
		t.Errorf("self-approval = %d, want 403", resp.StatusCode)
	}
	var state string
	if err := pool.QueryRow(context.Background(), `SELECT state FROM jobs`).Scan(&state); err != nil || state != "awaiting_approval" {
		t.Fatalf("state after self-approval = %q %v", state, err)
	}

	_, doc = fetch(t, olga, mustGet(srv.URL+jobURL))
	if doc.Find(`[data-testid="approve"]`).Length() != 1 {
		t.Fatal("another operator is not offered to approve")
	}
	token = csrfTokenOf(t, olga, srv.URL)
	resp, _ = fetch(t, olga, post(srv.URL, jobURL+"/approve", url.Values{"_csrf": {token}}))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approval = %d", resp.StatusCode)
	}
	_, doc = fetch(t, olga, mustGet(srv.URL+jobURL))
	if got := doc.Find(`[data-testid="approved-by"]`).Text(); got != "Olga Operator" {
		t.Errorf("approved by %q", got)
	}
	if err := pool.QueryRow(context.Background(), `SELECT state FROM jobs`).Scan(&state); err != nil || state != "queued" {
		t.Errorf("state after approval = %q %v, want queued (Atlas accepted it)", state, err)
	}
}
