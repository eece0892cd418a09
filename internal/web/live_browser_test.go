package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/browsertest"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/policy"
	"github.com/snapdesk/snapdesk/internal/poller"
	"github.com/snapdesk/snapdesk/internal/web"
)

// TestTakeSnapshotInBrowserUpdatesLive takes a snapshot from the cluster
// page in headless Chromium (htmx POST), sees the new job row appear, then
// lets the poller record Atlas finishing it and sees the row change to
// succeeded without a reload (Postgres NOTIFY → server-sent event → htmx).
func TestTakeSnapshotInBrowserUpdatesLive(t *testing.T) {
	pool := dbtest.New(t)
	clock := atlassim.NewManualClock(time.Now().UTC())
	sim, err := atlassim.New(atlassim.Config{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	client, err := atlas.New(atlas.WithBaseURL(simSrv.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := jobs.NewService(jobs.NewStore(pool), client, policy.Fixed(auth.DevPolicy()), log)
	hub := live.NewHub(pool, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)
	sessions := auth.NewSessions(pool, auth.SessionConfig{IdleTimeout: time.Hour, Lifetime: 12 * time.Hour})
	defer sessions.Close()
	e, err := web.New(web.Deps{Pool: pool, Logger: log, Version: "v-test", Jobs: svc, Live: hub, Sessions: sessions, DevSignIn: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	// Registered before the browser's cleanup, so it runs after the browser
	// has closed its event stream.
	t.Cleanup(srv.Close)
	pcfg := poller.DefaultConfig()
	pcfg.MinBackoff = time.Millisecond
	p := poller.New(pcfg, svc, metrics.New(), log)

	b := browsertest.New(t)
	consoleErrs := browsertest.ConsoleErrors(b)
	signInBrowser(t, b, srv.URL, "operator")
	const retention = `form[data-testid="take-snapshot-form"] input[name="retentionInDays"]`
	const newRow = `#jobs-feed tr[id^="job-"]`
	err = chromedp.Do(b,
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
