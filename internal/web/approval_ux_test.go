package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// reportingCluster's exports need a second operator's approval in the
// built-in development policy.
const reportingCluster = "/projects/" + atlassim.FixtureProject2ID + "/clusters/" + atlassim.FixtureReportingCluster

// requestApproval has c ask for an export of Reporting0's completed
// snapshot, which waits for approval; it returns the job page's path.
func requestApproval(t *testing.T, srvURL string, c *http.Client) string {
	t.Helper()
	_, doc := fetch(t, c, mustGet(srvURL+reportingCluster))
	action, v := actionForm(t, doc, "/exports")
	v.Set("snapshotId", "65a1b2c3d4e5f60718293e21")
	v.Set("exportBucketId", atlassim.FixtureReportingBucketID)
	resp, _ := fetch(t, c, post(srvURL, action, v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("export request = %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

var utcTime = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC`)

// TestAwaitingApprovalReadsAsWaiting: an export waiting for approval shows
// no progress bar (Atlas was never asked), its sentences keep their spaces
// around times, and its history shows no raw timestamp.
func TestAwaitingApprovalReadsAsWaiting(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	oscar := signedIn(t, srv, "operator")
	jobURL := requestApproval(t, srv.URL, oscar)
	_, doc := fetch(t, oscar, mustGet(srv.URL+jobURL))

	live := doc.Find(`[data-testid="job-live-section"]`)
	if n := live.Find(`progress, [data-testid="export-progress"]`).Length(); n != 0 {
		t.Errorf("an export awaiting approval shows %d progress elements; Atlas was never called", n)
	}
	if got := live.Find(`[data-testid="not-started"]`).Text(); !strings.Contains(got, "Atlas has not been asked yet") {
		t.Errorf("not-started note = %q", got)
	}
	status := strings.Join(strings.Fields(doc.Find(`[data-testid="approval-status"]`).Text()), " ")
	if !regexp.MustCompile(`lapses at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\.$`).MatchString(status) {
		t.Errorf("approval status = %q: want \"lapses at <time> UTC.\" with its spaces", status)
	}
	doc.Find(`[data-testid="timeline-message"]`).Each(func(_ int, s *goquery.Selection) {
		if regexp.MustCompile(`\dT\d`).MatchString(s.Text()) {
			t.Errorf("history message shows a raw timestamp: %q", s.Text())
		}
	})
	msg := doc.Find(`[data-testid="timeline-message"]`).Text()
	if !strings.Contains(msg, "waiting for another operator's approval") {
		t.Errorf("history messages = %q", msg)
	}
}

// TestRejectionAsksForAReasonAndShowsIt: another operator must say why
// they reject; the reason is on the job page and in the audit record.
func TestRejectionAsksForAReasonAndShowsIt(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	srv := newServer(t, pool)
	oscar, olga := signedIn(t, srv, "operator"), signedIn(t, srv, "operator2")
	jobURL := requestApproval(t, srv.URL, oscar)

	_, doc := fetch(t, olga, mustGet(srv.URL+jobURL))
	reason := doc.Find(`[data-testid="reject-form"] textarea[name="reason"]`)
	if _, required := reason.Attr("required"); reason.Length() != 1 || !required {
		t.Fatal("the reject form has no required reason field")
	}
	if id, _ := reason.Attr("id"); doc.Find(`label[for="`+id+`"]`).Length() != 1 {
		t.Error("the reason field has no label")
	}
	token := csrfTokenOf(t, olga, srv.URL)
	resp, doc := fetch(t, olga, post(srv.URL, jobURL+"/reject", url.Values{"_csrf": {token}, "reason": {"   "}}))
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reject without a reason = %d, want 422", resp.StatusCode)
	}
	if got := doc.Find(`[data-testid="error-reason"]`).Text(); !strings.Contains(got, "Say why") {
		t.Errorf("reason error = %q", got)
	}
	var state string
	if err := pool.QueryRow(context.Background(), `SELECT state FROM jobs`).Scan(&state); err != nil || state != "awaiting_approval" {
		t.Fatalf("state after a rejection without reason = %q %v", state, err)
	}

	const why = "Wrong bucket: analytics data goes to the EU one."
	resp, _ = fetch(t, olga, post(srv.URL, jobURL+"/reject", url.Values{"_csrf": {token}, "reason": {why}}))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject = %d", resp.StatusCode)
	}
	_, doc = fetch(t, oscar, mustGet(srv.URL+jobURL))
	if got := doc.Find(`[data-testid="rejection-reason"]`).Text(); got != why {
		t.Errorf("reason on the job page = %q, want %q", got, why)
	}
	status := strings.Join(strings.Fields(doc.Find(`[data-testid="approval-status"]`).Text()), " ")
	if !strings.HasPrefix(status, "Rejected by Olga Operator at ") || !utcTime.MatchString(status) {
		t.Errorf("approval status = %q", status)
	}
	if got := doc.Find(`[data-testid="job-state"] [data-testid="state-badge"]`).AttrOr("data-decision", ""); got != "rejected" {
		t.Errorf("badge decision = %q, want rejected", got)
	}
	if n := countAudit(t, pool, `action = 'export.reject' AND outcome = 'ok' AND actor_email = 'olga.operator@snapdesk.local' AND params->>'reason' = $1`, why); n != 1 {
		t.Errorf("%d export.reject audit records with the reason, want 1", n)
	}
}

// TestWithdrawnRequestIsNeutral: the requester's withdrawal is shown as a
// neutral "withdrawn", with no error, and audited as export.withdraw.
func TestWithdrawnRequestIsNeutral(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	srv := newServer(t, pool)
	oscar := signedIn(t, srv, "operator")
	jobURL := requestApproval(t, srv.URL, oscar)
	_, doc := fetch(t, oscar, mustGet(srv.URL+jobURL))
	if doc.Find(`[data-testid="withdraw"]`).Length() != 1 || doc.Find(`[data-testid="reject-form"]`).Length() != 0 {
		t.Fatal("the requester is not offered to withdraw (or is asked for a rejection reason)")
	}
	token := csrfTokenOf(t, oscar, srv.URL)
	if resp, _ := fetch(t, oscar, post(srv.URL, jobURL+"/reject", url.Values{"_csrf": {token}})); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw = %d", resp.StatusCode)
	}
	_, doc = fetch(t, oscar, mustGet(srv.URL+jobURL))
	badge := doc.Find(`[data-testid="job-state"] [data-testid="state-badge"]`)
	if got := strings.TrimSpace(badge.Text()); got != "withdrawn" || !badge.HasClass("neutral") || badge.HasClass("failed") || badge.HasClass("cancelled") {
		t.Errorf("badge %q class %q: want a neutral \"withdrawn\"", got, badge.AttrOr("class", ""))
	}
	if n := doc.Find(`[data-testid="atlas-error"], .flash.error`).Length(); n != 0 {
		t.Errorf("a withdrawn request shows %d error blocks", n)
	}
	status := strings.Join(strings.Fields(doc.Find(`[data-testid="approval-status"]`).Text()), " ")
	if !strings.HasPrefix(status, "Withdrawn by Oscar Operator at ") {
		t.Errorf("approval status = %q", status)
	}
	if n := countAudit(t, pool, `action = 'export.withdraw' AND outcome = 'ok'`); n != 1 {
		t.Errorf("%d export.withdraw records, want 1", n)
	}
	if n := countAudit(t, pool, `action = 'export.reject'`); n != 0 {
		t.Errorf("%d export.reject records for a withdrawal, want 0", n)
	}
	// The job lists show it as withdrawn too.
	_, doc = fetch(t, oscar, mustGet(srv.URL+"/jobs"))
	if got := doc.Find(`[data-testid="job-row"] [data-decision]`).AttrOr("data-decision", ""); got != "withdrawn" {
		t.Errorf("jobs list badge decision = %q", got)
	}
}

// TestApproverSeesWhatWaitsForThem: the home page lists the exports
// waiting for an approval the person may give: not their own, not to
// viewers.
func TestApproverSeesWhatWaitsForThem(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	oscar, olga, vera := signedIn(t, srv, "operator"), signedIn(t, srv, "operator2"), signedIn(t, srv, "viewer")
	jobURL := requestApproval(t, srv.URL, oscar)

	_, doc := fetch(t, olga, mustGet(srv.URL+"/"))
	items := doc.Find(`[data-testid="overview-waiting"] [data-testid="waiting-job"]`)
	if items.Length() != 1 || items.Find("a").AttrOr("href", "") != jobURL {
		t.Fatalf("Olga's waiting list: %d items, link %q; want the export at %s", items.Length(), items.Find("a").AttrOr("href", ""), jobURL)
	}
	if got := strings.Join(strings.Fields(items.Text()), " "); !strings.Contains(got, "asked by Oscar Operator at ") || !strings.HasSuffix(got, " UTC") {
		t.Errorf("waiting item = %q", got)
	}
	// The snapshot is named by when it was taken, as on the job's page,
	// and the sentence has no stray space before its comma.
	if got := strings.Join(strings.Fields(items.Text()), " "); !strings.HasPrefix(got, "Export of the snapshot of ") || strings.Contains(got, " ,") {
		t.Errorf("waiting item = %q, want the snapshot named by its time", got)
	}
	for name, c := range map[string]*http.Client{"the requester": oscar, "a viewer": vera} {
		_, doc := fetch(t, c, mustGet(srv.URL+"/"))
		if n := doc.Find(`[data-testid="overview-waiting"]`).Length(); n != 0 {
			t.Errorf("%s is shown a waiting-for-you list", name)
		}
	}
	// Once decided, it leaves the list.
	token := csrfTokenOf(t, olga, srv.URL)
	if resp, _ := fetch(t, olga, post(srv.URL, jobURL+"/approve", url.Values{"_csrf": {token}})); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve = %d", resp.StatusCode)
	}
	_, doc = fetch(t, olga, mustGet(srv.URL+"/"))
	if n := doc.Find(`[data-testid="waiting-job"]`).Length(); n != 0 {
		t.Errorf("%d waiting items after the approval", n)
	}
}
