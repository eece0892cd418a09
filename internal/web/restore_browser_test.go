package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// TestBrowserApprovedAutomatedRestoreFollowedLive: an operator restores
// Cluster0's snapshot onto payments-scratch from the cluster page (the page
// says what will be replaced; a wrong typed name is refused), a second
// operator approves it, and the job page follows the restore live to its
// end; the scratch cluster then holds the snapshot's data.
func TestBrowserApprovedAutomatedRestoreFollowedLive(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	restoreLink := `tr[data-testid="snapshot-actions"][data-snapshot-id="` + atlassim.FixtureSnapshotID + `"] [data-testid="snapshot-restore-link"]`
	a.do(t, "choose to restore onto the scratch cluster",
		chromedp.Navigate(a.URL+flowClusterPath),
		chromedp.Click(chromedp.CSS(restoreLink)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="restore-choose"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="delivery-automated"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="restore-target"]`), atlassim.FixtureProjectID+"/"+atlassim.FixtureScratchCluster),
		chromedp.Click(chromedp.CSS(`[data-testid="restore-continue"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="restore-form"]`)),
	)
	statement := a.text(t, `[data-testid="restore-statement"]`)
	if !strings.HasPrefix(statement, "All data on payments-scratch in payments will be replaced by the snapshot of Cluster0 taken ") {
		t.Errorf("statement = %q", statement)
	}
	a.do(t, "type a wrong name",
		typeText(`[data-testid="restore-confirm"]`, "payments-scratc"),
		chromedp.Click(chromedp.CSS(`[data-testid="restore-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-confirmName"]`)),
	)
	if n := a.countJobs(t, `kind = 'restore'`); n != 0 {
		t.Fatalf("a wrong typed name made %d restore jobs", n)
	}
	a.do(t, "type the target's name",
		typeText(`[data-testid="restore-confirm"]`, atlassim.FixtureScratchCluster),
		chromedp.Click(chromedp.CSS(`[data-testid="restore-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="approval-status"]`)),
	)
	jobURL := browserValue(t, a, "read the job's address", chromedp.Evaluate[string](`location.pathname`))
	if got := a.text(t, `[data-testid="approval-status"]`); !strings.HasPrefix(got, "This restore waits for another operator's approval") {
		t.Errorf("approval status = %q", got)
	}
	if n := a.Sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 0 {
		t.Fatalf("Atlas was asked %d times before the approval", n)
	}

	a.signInAs(t, "operator2")
	a.do(t, "approve as a second operator",
		chromedp.Navigate(a.URL+jobURL),
		chromedp.Click(chromedp.CSS(`[data-testid="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="restore-cancel"]`)),
	)
	a.markPage(t)
	a.following(t, `#job-live`)
	for i := 0; i < 20 && a.countJobs(t, `kind = 'restore' AND state = 'succeeded'`) == 0; i++ {
		a.advance(t, 2*time.Minute)
	}
	a.do(t, "see the restore end, live",
		containsText(`#job-live [data-testid="job-state"]`, "succeeded"),
	)
	a.unchangedPage(t)
	if by, state, _, _ := a.Sim.Contents(atlassim.FixtureProjectID, atlassim.FixtureScratchCluster); by == "" || state != "IDLE" {
		t.Errorf("scratch after the restore: restored by %q, %s", by, state)
	}
	a.noConsoleErrors(t)
}

// TestRestoreDownloadLinksOnlyForTheRequester: the requester's page shows
// the links with their expiry; another operator's page, the live stream
// and the audit page never carry them.
func TestRestoreDownloadLinksOnlyForTheRequester(t *testing.T) {
	t.Parallel()
	app := startApp(t, dbtest.New(t), appOptions{})
	srv := app.Server
	oscar := signedIn(t, srv, "operator")
	olga := signedIn(t, srv, "operator2")
	_, doc := fetch(t, oscar, mustGet(srv.URL+flowClusterPath+"/restores/new?snapshotId="+atlassim.FixtureSnapshotID+"&deliveryType=download"))
	action, v := actionForm(t, doc, "/restores")
	resp, _ := fetch(t, oscar, post(srv.URL, action, v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("download restore = %d", resp.StatusCode)
	}
	jobURL := resp.Header.Get("Location")
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		var done int
		if err := app.Pool.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE kind = 'restore' AND state = 'succeeded'`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done == 1 {
			break
		}
		app.Clock.Advance(2 * time.Minute)
		if _, err := app.Pool.Exec(ctx, `UPDATE jobs SET next_poll_at = now() - interval '1 second' WHERE next_poll_at IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Poller.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, doc = fetch(t, oscar, mustGet(srv.URL+jobURL))
	link := doc.Find(`[data-testid="restore-link"]`).AttrOr("href", "")
	if !strings.HasPrefix(link, "https://") || doc.Find(`[data-testid="restore-links-expiry"]`).Length() != 1 {
		t.Fatalf("the requester sees no link or no expiry: %q", link)
	}
	for _, page := range []string{jobURL, "/audit", "/jobs", flowClusterPath} {
		_, doc := fetch(t, olga, mustGet(srv.URL+page))
		if html, _ := doc.Html(); strings.Contains(html, link) || html == "" {
			t.Errorf("another operator sees the link on %s", page)
		}
	}
	// The requester's own event stream carries the job's live part, which
	// never holds the links.
	_, doc = fetch(t, oscar, mustGet(srv.URL+jobURL))
	if html, _ := doc.Find(`[data-testid="job-live-section"]`).Html(); strings.Contains(html, link) {
		t.Error("the live part of the job page carries the link")
	}
}

// TestFailedDrillFlaggedWhereHealthIsShown: a failed drill of Cluster0 (the
// development policy drills it) flags the cluster on its page and on
// /health.
func TestFailedDrillFlaggedWhereHealthIsShown(t *testing.T) {
	t.Parallel()
	app := startApp(t, dbtest.New(t), appOptions{})
	if _, err := app.Pool.Exec(context.Background(), `INSERT INTO restore_drills
		(drill_key, due_at, project_id, cluster_name, target_project_id, target_cluster_name, outcome, message, finished_at)
		VALUES ('k', now() - interval '1 hour', $1, 'Cluster0', $1, 'payments-scratch', 'failed', 'payments-scratch is UPDATING', now())`, flowProject); err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, app.Server, "viewer")
	_, doc := fetch(t, c, mustGet(app.Server.URL+flowClusterPath))
	if got := doc.Find(`[data-testid="drill-status"]`).AttrOr("data-flagged", ""); got != "on" {
		t.Errorf("cluster page drill status flagged = %q", got)
	}
	if !strings.Contains(doc.Find(`[data-testid="drill-failed"]`).Text(), "UPDATING") {
		t.Error("the cluster page does not say why the drill failed")
	}
	_, doc = fetch(t, c, mustGet(app.Server.URL+"/health"))
	line := doc.Find(`[data-testid="health-line"][data-cluster="Cluster0"]`)
	if line.Find(`[data-testid="health-drill-failed"]`).Length() != 1 {
		t.Error("/health does not flag Cluster0's failed drill")
	}
}
