package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/browsertest"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// TestTakeSnapshotInBrowserUpdatesLive takes a snapshot from the cluster
// page in headless Chromium (htmx POST), sees the new job row appear, then
// lets the poller record Atlas finishing it and sees the row change to
// succeeded without a reload (Postgres NOTIFY → server-sent event → htmx).
func TestTakeSnapshotInBrowserUpdatesLive(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	app := startApp(t, pool, appOptions{})
	srv, sim, clock, p := app.Server, app.Sim, app.Clock, app.Poller
	ctx := context.Background()

	b := browsertest.New(t)
	consoleErrs := browsertest.ConsoleErrors(b)
	signInBrowser(t, b, srv.URL, "operator")
	const retention = `form[data-testid="take-snapshot-form"] input[name="retentionInDays"]`
	const newRow = `#jobs-feed tr[id^="job-"]`
	err := chromedp.Do(b,
		chromedp.Navigate(srv.URL+clusterPath),
		chromedp.Poll[chromedp.Void](`(() => { const e = document.querySelector(`+strconv.Quote(retention)+`);
			return !!(e && e["htmx-internal-data"] && e["htmx-internal-data"].initHash); })()`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+strconv.Quote(retention)+`).focus()`),
		browsertest.InsertText("2"),
		// The expiry preview follows what is typed.
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="snapshot-expiry"]').textContent.includes(`+strconv.Quote(time.Now().UTC().Add(48*time.Hour).Format("2006"))+`)`),
		chromedp.Click(chromedp.CSS(`[data-testid="take-snapshot-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(newRow+` [data-testid="state-badge"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	if err != nil {
		t.Fatalf("take snapshot in the browser: %v", err)
	}
	flash, err := chromedp.Run(b, chromedp.AttributeValue(chromedp.CSS(`[data-testid="flash"]`), "class"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(flash.Value, "error") {
		t.Errorf("flash after taking a snapshot is an error: %q", flash.Value)
	}
	state, err := chromedp.Run(b, chromedp.AttributeValue(chromedp.CSS(newRow+` [data-testid="state-badge"]`), "data-state"))
	if err != nil {
		t.Fatal(err)
	}
	if state.Value != "queued" {
		t.Errorf("new row state = %q, want queued", state.Value)
	}
	if n := sim.Calls()["takeGroupClusterBackupSnapshots"]; n != 1 {
		t.Fatalf("Atlas asked %d times", n)
	}
	// Atlas finishes the snapshot; the poller records it.
	clock.Advance(time.Hour)
	if _, err := pool.Exec(ctx, `UPDATE jobs SET next_poll_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Cycle(ctx); err != nil || st.Transitions == 0 {
		t.Fatalf("poll cycle: %+v, %v", st, err)
	}
	err = chromedp.Do(b, chromedp.WaitVisible(chromedp.CSS(newRow+` [data-testid="state-badge"][data-state="succeeded"]`)))
	if err != nil {
		t.Fatalf("the row did not turn succeeded without a reload: %v", err)
	}
	if got := consoleErrs(); len(got) > 0 {
		t.Errorf("console errors: %v", got)
	}
}
