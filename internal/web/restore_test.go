package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestRestoreRefusalRendersLikeOtherActions: a refused restore comes back
// as a refused snapshot does: 422, the same form with what was typed and
// the same idempotency key (so the corrected form makes one job), the
// message beside the field it is about (and named by the field's
// aria-describedby) or, for a refusal of the whole request, in the form;
// to htmx, the form alone.
func TestRestoreRefusalRendersLikeOtherActions(t *testing.T) {
	t.Parallel()
	app := startApp(t, dbtest.New(t), appOptions{})
	srv := app.Server
	c := signedIn(t, srv, "operator")

	// The Take snapshot form, refused: what every action's refusal looks like.
	_, doc := fetch(t, c, mustGet(srv.URL+flowClusterPath))
	v := formValues(doc, `[data-testid="take-snapshot-form"]`)
	v.Set(rules.FieldDescription, "before the release")
	resp, doc := fetch(t, c, post(srv.URL, flowClusterPath+"/snapshots", v))
	refusedBeside(t, "snapshot", resp, doc, `form[action$="/snapshots"]`, v.Get(rules.FieldIdempotencyKey), `input[name="`+rules.FieldRetentionInDays+`"]`, rules.FieldRetentionInDays)
	if got := doc.Find(`input[name="`+rules.FieldDescription+`"]`).AttrOr("value", ""); got != "before the release" {
		t.Errorf("snapshot: typed description lost: %q", got)
	}

	// A restore onto the scratch cluster with a wrong typed name.
	target := atlassim.FixtureProjectID + "/" + atlassim.FixtureScratchCluster
	q := url.Values{rules.FieldSnapshotID: {atlassim.FixtureSnapshotID}, rules.FieldDeliveryType: {rules.DeliveryAutomated}, rules.FieldTarget: {target}}
	_, doc = fetch(t, c, mustGet(srv.URL+flowClusterPath+"/restores/new?"+q.Encode()))
	action, v := actionForm(t, doc, "/restores")
	key := v.Get(rules.FieldIdempotencyKey)
	v.Set(rules.FieldConfirmName, "payments-scratc")
	resp, doc = fetch(t, c, post(srv.URL, action, v))
	form := refusedBeside(t, "restore", resp, doc, `[data-testid="restore-form"]`, key, `[data-testid="restore-confirm"]`, rules.FieldConfirmName)
	if got := form.Find(`[data-testid="restore-confirm"]`).AttrOr("value", ""); got != "payments-scratc" {
		t.Errorf("restore: typed name lost: %q", got)
	}
	if got := byTestID(form, "error-"+rules.FieldConfirmName).Text(); !strings.Contains(got, atlassim.FixtureScratchCluster) {
		t.Errorf("restore: the message does not name the cluster to type: %q", got)
	}
	if got := form.Find(`input[name="`+rules.FieldTarget+`"]`).AttrOr("value", ""); got != target {
		t.Errorf("restore: target lost: %q", got)
	}
	if byTestID(form, "restore-statement").Length() != 1 {
		t.Error("restore: the form shown again no longer says what will be replaced")
	}

	// Posted with htmx, the refusal is the forms alone, as an action's is.
	req := post(srv.URL, action, v)
	req.Header.Set("HX-Request", "true")
	resp, doc = fetch(t, c, req)
	refusedBeside(t, "restore with htmx", resp, doc, `[data-testid="restore-form"]`, key, `[data-testid="restore-confirm"]`, rules.FieldConfirmName)
	if n := doc.Find(`h1, nav`).Length(); n != 0 {
		t.Errorf("restore with htmx: the answer carries the page around the form (%d h1/nav)", n)
	}

	// Refused by the service as a whole (the target is busy): the reason
	// in the form, the typed name and the key kept.
	if err := app.Sim.SetClusterState(atlassim.FixtureProjectID, atlassim.FixtureScratchCluster, "UPDATING"); err != nil {
		t.Fatal(err)
	}
	v.Set(rules.FieldConfirmName, atlassim.FixtureScratchCluster)
	resp, doc = fetch(t, c, post(srv.URL, action, v))
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("restore onto a busy cluster = %d, want 422", resp.StatusCode)
	}
	form = byTestID(doc, "restore-form")
	if got := byTestID(form, "form-refusal").Text(); !strings.Contains(got, "IDLE") {
		t.Errorf("busy target: refusal in the form = %q", got)
	}
	if got := byTestID(form, "idempotency-key").AttrOr("value", ""); got != key {
		t.Errorf("busy target: key %q, want the posted %q", got, key)
	}
	if got := form.Find(`[data-testid="restore-confirm"]`).AttrOr("value", ""); got != atlassim.FixtureScratchCluster {
		t.Errorf("busy target: typed name lost: %q", got)
	}
	if n := restoreJobs(t, app); n != 0 {
		t.Fatalf("refused restores made %d jobs", n)
	}

	// Corrected, the same form makes one restore.
	if err := app.Sim.SetClusterState(atlassim.FixtureProjectID, atlassim.FixtureScratchCluster, "IDLE"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp, _ = fetch(t, c, post(srv.URL, action, v))
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/jobs/") {
			t.Fatalf("corrected restore = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := restoreJobs(t, app); n != 1 {
		t.Errorf("the corrected form posted twice made %d restore jobs, want 1", n)
	}
}

// refusedBeside checks that resp is a refused action form: 422, the form
// sel with the posted key, and a message for field beside it that the
// field (input) names in its aria-describedby. It returns the form.
func refusedBeside(t *testing.T, what string, resp *http.Response, doc *goquery.Document, sel, key, input, field string) *goquery.Selection {
	t.Helper()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("%s: refused form = %d, want 422", what, resp.StatusCode)
	}
	form := doc.Find(sel)
	if form.Length() != 1 {
		t.Fatalf("%s: the form %s is not shown again", what, sel)
	}
	if got := byTestID(form, "idempotency-key").AttrOr("value", ""); got != key {
		t.Errorf("%s: key %q, want the posted %q", what, got, key)
	}
	msg := byTestID(form, "error-"+field)
	if strings.TrimSpace(msg.Text()) == "" {
		t.Fatalf("%s: no message beside %s", what, field)
	}
	id := msg.AttrOr("id", "")
	if d := form.Find(input).AttrOr("aria-describedby", ""); id == "" || !strings.Contains(d, id) {
		t.Errorf("%s: %s is described by %q, not by its message %q", what, field, d, id)
	}
	if got := form.Find(input).AttrOr("aria-invalid", ""); got != "true" {
		t.Errorf("%s: %s aria-invalid = %q", what, field, got)
	}
	return form
}

func restoreJobs(t *testing.T, app *testApp) int {
	t.Helper()
	var n int
	if err := app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE kind = 'restore'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
