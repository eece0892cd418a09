package web_test

import (
	"context"
	"encoding/csv"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/browsertest"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/poller"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// The browser flows: what a person does with Snapdesk, in headless
// Chromium, against the real server, a real Postgres, the Atlas simulator
// over HTTP and the poller. Atlas's clock is a ManualClock, so a test moves
// Atlas on and runs a poll cycle instead of sleeping; everything else
// (htmx, the event stream, Postgres NOTIFY) runs for real.

// Paths and selectors of the simulator's fixtures.
const (
	flowProject      = atlassim.FixtureProjectID
	flowClusterPath  = "/projects/" + flowProject + "/clusters/" + atlassim.FixtureReplicaSetCluster
	flowShardedPath  = "/projects/" + flowProject + "/clusters/" + atlassim.FixtureShardedCluster
	flowPipelinePath = "/projects/" + flowProject + "/pipelines/" + atlassim.FixturePipelineName
	// flowPortal is the portal host return_to may lead back to.
	flowPortal = "portal.example.com"

	takeForm        = `form[data-testid="take-snapshot-form"]`
	takeRetention   = takeForm + ` input[name="retentionInDays"]`
	takeDescription = takeForm + ` input[name="description"]`
	takeSubmit      = takeForm + ` [data-testid="take-snapshot-submit"]`
	flashMessage    = `#flash [data-testid="flash"]`
)

// browserApp is the whole app as people reach it, with a browser tab
// signed in as the seeded operator.
type browserApp struct {
	URL    string
	Pool   *pgxpool.Pool
	Sim    *atlassim.Server
	Clock  *atlassim.ManualClock
	Atlas  *atlas.Client
	Hub    *live.Hub
	Poller *poller.Poller
	// B is the browser tab.
	B context.Context
	// ConsoleErrors are the page's errors so far (a 422, a form shown again
	// with its errors, is expected and left out).
	ConsoleErrors func() []string
	// app is the assembled app (its inventory sync, for tests that change
	// Atlas behind Snapdesk's back).
	app    *testApp
	cancel context.CancelFunc // closes a tab of newTab
}

// startBrowserApp is the app (startApp) over a fresh database, with
// Chromium signed in as the operator.
func startBrowserApp(t *testing.T) *browserApp {
	t.Helper()
	app := startApp(t, dbtest.New(t), appOptions{})
	b := browsertest.New(t)
	a := &browserApp{URL: app.Server.URL, Pool: app.Pool, Sim: app.Sim, Clock: app.Clock, Atlas: app.Atlas, Hub: app.Hub, Poller: app.Poller, B: b, app: app,
		ConsoleErrors: browsertest.ConsoleErrors(b, "status of 422")}
	signInBrowser(t, b, app.Server.URL, "operator")
	return a
}

// signInAs signs the operator out and the seeded user key (see
// auth.DevUsers) in, as a person would.
func (a *browserApp) signInAs(t *testing.T, key string) {
	t.Helper()
	a.do(t, "sign out",
		chromedp.Click(chromedp.CSS(`[data-testid="sign-out"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-out"]`)),
	)
	signInBrowser(t, a.B, a.URL, key)
}

// newTab is the app with a new tab of the same browser (signed in as the
// first one is), which close closes.
func (a *browserApp) newTab(t *testing.T) *browserApp {
	t.Helper()
	tab := *a
	var cancel context.CancelFunc
	tab.B, cancel = chromedp.NewContext(a.B)
	t.Cleanup(cancel)
	tab.ConsoleErrors = browsertest.ConsoleErrors(tab.B, "status of 422")
	tab.cancel = cancel
	return &tab
}

// close closes the tab newTab opened, after checking its console.
func (a *browserApp) close(t *testing.T) {
	t.Helper()
	a.noConsoleErrors(t)
	a.cancel()
}

// do runs the steps of what, failing the test with the page as it stands
// when a step fails or the steps take more than 20 seconds.
func (a *browserApp) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(a.B, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		if html, herr := chromedp.Run(a.B, chromedp.OuterHTML(chromedp.CSS("main"))); herr == nil {
			t.Logf("page after the failure:\n%s", html)
		}
		t.Fatalf("%s: %v", what, err)
	}
}

// browserValue runs one action that reads the page.
func browserValue[T any](t *testing.T, a *browserApp, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(a.B, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// attr is the attribute name of the first element sel matches.
func (a *browserApp) attr(t *testing.T, sel, name string) string {
	t.Helper()
	r := browserValue(t, a, "read "+name+" of "+sel, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if !r.Exists {
		t.Fatalf("%s has no attribute %s", sel, name)
	}
	return r.Value
}

// text is the text of the first element sel matches, spaces collapsed.
func (a *browserApp) text(t *testing.T, sel string) string {
	t.Helper()
	return strings.Join(strings.Fields(browserValue(t, a, "read the text of "+sel, chromedp.TextContent(chromedp.CSS(sel)))), " ")
}

// count is how many elements sel matches now.
func (a *browserApp) count(t *testing.T, sel string) int {
	t.Helper()
	return browserValue(t, a, "count "+sel, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
}

// processed waits until htmx has processed the element sel (it does so
// after its settle delay; a field typed into or a form submitted before
// then acts as plain HTML).
func processed(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(() => { const e = document.querySelector(` + strconv.Quote(sel) + `);
		return !!(e && e["htmx-internal-data"] && e["htmx-internal-data"].initHash); })()`)
}

// containsText waits until the element sel contains text.
func containsText(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(document.querySelector(` + strconv.Quote(sel) + `) || {textContent: ""}).textContent.includes(` + strconv.Quote(text) + `)`)
}

// typeText replaces the value of the field sel as typing would.
func typeText(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); e.focus(); e.select(); })()`),
		browsertest.InsertText(text),
	)
}

// clearField empties the field sel as select-all and delete would.
func clearField(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(` + strconv.Quote(sel) + `);
		e.focus(); e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})); })()`)
}

// following waits until the page's event stream is open and the element
// sel listens to it: from then on, a change of its job reaches it.
func (a *browserApp) following(t *testing.T, sel string) {
	t.Helper()
	a.do(t, "wait for "+sel+" to follow the event stream",
		chromedp.Poll[chromedp.Void](`(() => { const c = document.querySelector("[sse-connect]");
			const d = c && c["htmx-internal-data"];
			return !!(d && d.sseEventSource && d.sseEventSource.readyState === EventSource.OPEN); })()`),
		chromedp.Poll[chromedp.Void](`(() => { const r = document.querySelector(`+strconv.Quote(sel)+`);
			return !!(r && r["htmx-internal-data"] && r["htmx-internal-data"].sseEventListener); })()`),
	)
	deadline := time.Now().Add(10 * time.Second)
	for a.Hub.Subscribers() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the page's event stream never subscribed to job changes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// markPage tags the document in the tab, so unchangedPage can tell the
// page was updated in place rather than loaded again.
func (a *browserApp) markPage(t *testing.T) {
	t.Helper()
	a.do(t, "mark the page", chromedp.Evaluate[chromedp.Void](`window.snapdeskTestMark = "still here"`))
}

func (a *browserApp) unchangedPage(t *testing.T) {
	t.Helper()
	mark := browserValue(t, a, "read the page mark", chromedp.Evaluate[*string](`window.snapdeskTestMark`))
	if mark == nil || *mark != "still here" {
		t.Error("the page was loaded again; it should have changed in place")
	}
}

// advance moves Atlas's clock on by d and runs one poll cycle with every
// job due, as the poller's loop would once their backoff has passed.
func (a *browserApp) advance(t *testing.T, d time.Duration) poller.CycleStats {
	t.Helper()
	a.Clock.Advance(d)
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `UPDATE jobs SET next_poll_at = now() - interval '1 second' WHERE next_poll_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	st, err := a.Poller.Cycle(ctx)
	if err != nil || st.Errors > 0 {
		t.Fatalf("poll cycle: %+v, %v", st, err)
	}
	return st
}

// countJobs counts the rows of Postgres' jobs table matching where.
func (a *browserApp) countJobs(t *testing.T, where string, args ...any) int {
	t.Helper()
	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// noConsoleErrors fails the test if the pages logged errors.
func (a *browserApp) noConsoleErrors(t *testing.T) {
	t.Helper()
	if got := a.ConsoleErrors(); len(got) > 0 {
		t.Errorf("console errors: %v", got)
	}
}

// takeSnapshot takes a snapshot of the cluster at clusterPath from its
// page, keeping it days, and returns the new job's id once its row is in
// the page's feed.
func (a *browserApp) takeSnapshot(t *testing.T, clusterPath, days string) string {
	t.Helper()
	const row = `#jobs-feed tr[data-kind="snapshot"]`
	a.do(t, "take a snapshot",
		chromedp.Navigate(a.URL+clusterPath),
		processed(takeRetention),
		typeText(takeRetention, days),
		containsText(`[data-testid="snapshot-expiry"]`, "expires on"),
		chromedp.Click(chromedp.CSS(takeSubmit)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		containsText(flashMessage, "Snapshot requested."),
	)
	return a.attr(t, row, "data-job-id")
}

// exportSnapshot exports the completed snapshot id of the cluster page
// the tab shows to the bucket, and returns the new job's id once its row
// is in the page's feed.
func (a *browserApp) exportSnapshot(t *testing.T, snapshotID, bucketID string) string {
	t.Helper()
	actions := `tr[data-testid="snapshot-actions"][data-snapshot-id="` + snapshotID + `"]`
	const row = `#jobs-feed tr[data-kind="export"]`
	a.do(t, "export snapshot "+snapshotID,
		chromedp.Click(chromedp.CSS(actions+` [data-testid="export-details"] > summary`)),
		processed(actions+` form[data-testid="export-form"]`),
		chromedp.SetValue(chromedp.CSS(actions+` [data-testid="bucket-picker"]`), bucketID),
		chromedp.Click(chromedp.CSS(actions+` [data-testid="export-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		containsText(flashMessage, "Export requested."),
	)
	return a.attr(t, row, "data-job-id")
}

// triggerIngestion triggers an ingestion of the first snapshot the
// pipeline page offers, keeping the dataset 7 days, and returns the new
// job's id once its row is in the page's feed, and the snapshot's id.
func (a *browserApp) triggerIngestion(t *testing.T) (jobID, snapshotID string) {
	t.Helper()
	const (
		ingest = `#main form[data-testid="ingest-form"]`
		picker = ingest + ` [data-testid="snapshot-picker"]`
		row    = `#jobs-feed tr[data-kind="ingestion"]`
	)
	a.do(t, "open the pipeline", chromedp.Navigate(a.URL+flowPipelinePath), processed(ingest))
	snapshotID = browserValue(t, a, "pick a snapshot", chromedp.Evaluate[string](`(() => {
		const s = document.querySelector(`+strconv.Quote(picker)+`);
		s.value = s.options[1].value;
		return s.value; })()`))
	a.do(t, "trigger an ingestion",
		chromedp.SetValue(chromedp.CSS(ingest+` input[name="`+rules.FieldRetentionValue+`"]`), "7"),
		chromedp.SetValue(chromedp.CSS(ingest+` select[name="`+rules.FieldRetentionUnits+`"]`), rules.UnitDays),
		chromedp.Click(chromedp.CSS(ingest+` [data-testid="ingest-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		containsText(flashMessage, "Ingestion requested."),
	)
	return a.attr(t, row, "data-job-id"), snapshotID
}

// TestBrowserExportProgressFillsLive exports a completed snapshot from the
// cluster page and watches the export's progress bar in the page's job
// feed move as Atlas works, then fill and turn succeeded, without a reload.
func TestBrowserExportProgressFillsLive(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath))
	a.markPage(t)
	jobID := a.exportSnapshot(t, atlassim.FixtureSnapshotID, atlassim.FixtureAWSBucketID)
	row := `#jobs-feed tr#job-` + jobID
	bar := row + ` [data-testid="progress-bar"]`
	badge := row + ` [data-testid="state-badge"]`
	if n := a.count(t, `#jobs-feed tr[data-testid="job-row"]`); n != 1 {
		t.Errorf("%d rows in the feed after one export", n)
	}
	if a.count(t, bar) != 1 {
		t.Fatal("the new export's row has no progress bar")
	}
	a.following(t, row)

	// Atlas half way through: the bar shows part of the collections.
	if st := a.advance(t, 12*time.Minute); st.Transitions == 0 {
		t.Fatalf("no change recorded half way: %+v", st)
	}
	a.do(t, "see the export running",
		chromedp.WaitVisible(chromedp.CSS(badge+`[data-state="running"]`)),
		chromedp.Poll[chromedp.Void](`(() => { const p = document.querySelector(`+strconv.Quote(bar)+`);
			return !!(p && p.hasAttribute("value") && p.value > 0 && p.value < p.max); })()`),
	)
	half, _ := strconv.Atoi(a.attr(t, bar, "value"))
	total, _ := strconv.Atoi(a.attr(t, bar, "max"))
	if half <= 0 || half >= total {
		t.Errorf("half way the bar is at %d of %d", half, total)
	}
	if got, want := a.text(t, row+` [data-testid="progress-text"]`), strconv.Itoa(half)+" of "+strconv.Itoa(total)+" collections"; got != want {
		t.Errorf("progress text half way = %q, want %q", got, want)
	}

	// Atlas done: the bar is full and the job succeeded.
	if st := a.advance(t, 30*time.Minute); st.Transitions == 0 {
		t.Fatalf("no change recorded at the end: %+v", st)
	}
	a.do(t, "see the export complete",
		chromedp.WaitVisible(chromedp.CSS(badge+`[data-state="succeeded"]`)),
		chromedp.WaitVisible(chromedp.CSS(bar+`[value="`+strconv.Itoa(total)+`"][max="`+strconv.Itoa(total)+`"]`)),
	)
	if got, want := a.text(t, row+` [data-testid="progress-text"]`), strconv.Itoa(total)+" of "+strconv.Itoa(total)+" collections"; got != want {
		t.Errorf("progress text at the end = %q, want %q", got, want)
	}
	a.unchangedPage(t)
	if n := a.countJobs(t, `kind = 'export' AND state = 'succeeded'`); n != 1 {
		t.Errorf("%d succeeded export jobs in Postgres, want 1", n)
	}
	a.noConsoleErrors(t)
}

// TestBrowserIngestionReachesDoneLive triggers an ingestion from the
// pipeline page and watches its row follow the run through Atlas's phases
// to DONE, with the bytes and documents Atlas reports, without a reload;
// the job's page then tells the same.
func TestBrowserIngestionReachesDoneLive(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	jobID, snapshotID := a.triggerIngestion(t)
	row := `#jobs-feed tr#job-` + jobID
	badge := row + ` [data-testid="state-badge"]`
	a.markPage(t)
	a.following(t, row)

	// The run takes its snapshot first.
	a.advance(t, 2*time.Minute)
	a.do(t, "see the run start",
		chromedp.WaitVisible(chromedp.CSS(badge+`[data-state="running"]`)),
		containsText(row+` [data-testid="run-phase"]`, "snapshot"),
	)

	// And is done after its export and ingestion phases.
	a.advance(t, 30*time.Minute)
	a.do(t, "see the run done",
		chromedp.WaitVisible(chromedp.CSS(badge+`[data-state="succeeded"]`)),
		containsText(row+` [data-testid="run-phase"]`, "ingestion"),
	)
	a.unchangedPage(t)

	var runID string
	if err := a.Pool.QueryRow(context.Background(), `SELECT atlas_id FROM jobs WHERE id = $1`, jobID).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	run, err := a.Atlas.Pipelines.GetRun(context.Background(), flowProject, atlassim.FixturePipelineName, runID)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != atlas.RunDone || run.SnapshotID != snapshotID || run.Stats.NumDocs == 0 {
		t.Fatalf("Atlas's run: state %s, snapshot %s (picked %s), %d documents", run.State, run.SnapshotID, snapshotID, run.Stats.NumDocs)
	}
	if got := digits(a.text(t, row+` [data-testid="run-docs"]`)); got != strconv.FormatInt(run.Stats.NumDocs, 10) {
		t.Errorf("documents in the row = %s, Atlas says %d", got, run.Stats.NumDocs)
	}
	if got := digits(a.attr(t, row+` [data-testid="run-bytes"]`, "title")); got != strconv.FormatInt(run.Stats.BytesExported, 10) {
		t.Errorf("bytes in the row = %s, Atlas says %d", got, run.Stats.BytesExported)
	}

	// The job's page says the same.
	a.do(t, "open the job",
		chromedp.Click(chromedp.CSS(row+` [data-testid="job-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-state"] [data-testid="state-badge"][data-state="succeeded"]`)),
	)
	if got := a.text(t, `[data-testid="atlas-state"]`); got != "done" {
		t.Errorf("Atlas state on the job page = %q, want done", got)
	}
	if got := digits(a.text(t, `[data-testid="run-facts"] [data-testid="run-docs"]`)); got != strconv.FormatInt(run.Stats.NumDocs, 10) {
		t.Errorf("documents on the job page = %s, Atlas says %d", got, run.Stats.NumDocs)
	}
	a.noConsoleErrors(t)
}

// TestBrowserValidationErrorInline submits Take snapshot with no retention,
// then with retentions out of range: each time the message is beside the
// field, tied to it for screen readers, and nothing reaches Atlas.
func TestBrowserValidationErrorInline(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	const fieldErr = takeForm + ` [data-testid="error-retentionInDays"]`
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath), processed(takeRetention))
	a.markPage(t)
	a.do(t, "submit without a retention",
		clearField(takeRetention),
		chromedp.Click(chromedp.CSS(takeSubmit)),
		chromedp.WaitVisible(chromedp.CSS(fieldErr)),
	)
	if msg := a.text(t, fieldErr); msg == "" {
		t.Error("empty retention: the error says nothing")
	}
	checkFieldError(t, a, fieldErr)
	if vs, err := browsertest.CheckAccessibility(a.B); err != nil || len(vs) > 0 {
		t.Errorf("the form with its errors: accessibility %v, %v", vs, err)
	}

	for _, days := range []string{"0", "3651"} {
		a.do(t, "submit with retention "+days,
			processed(takeRetention), // the form htmx swapped in
			typeText(takeRetention, days),
			containsText(`[data-testid="snapshot-expiry"]`, "Enter a whole number"),
			// Marked, so the form of the answer can be told from this one.
			chromedp.Evaluate[chromedp.Void](`document.querySelector(`+strconv.Quote(takeForm)+`).dataset.answered = "no"`),
			chromedp.Click(chromedp.CSS(takeSubmit)),
			chromedp.WaitVisible(chromedp.CSS(takeForm+`:not([data-answered]) [data-testid="error-retentionInDays"]`)),
		)
		// The answer keeps what was typed and says what is wrong.
		if got := browserValue(t, a, "retention", chromedp.Value(chromedp.CSS(takeRetention))); got != days {
			t.Errorf("retention after the answer = %q, want %q", got, days)
		}
		if msg := a.text(t, fieldErr); !strings.Contains(msg, "1 to 3650") {
			t.Errorf("retention %s: error %q", days, msg)
		}
		checkFieldError(t, a, fieldErr)
	}
	// htmx answered every post in place: no page was loaded for them.
	a.unchangedPage(t)
	if n := a.countJobs(t, `true`); n != 0 {
		t.Errorf("%d jobs after invalid forms", n)
	}
	if n := a.Sim.Calls()["takeGroupClusterBackupSnapshots"]; n != 0 {
		t.Errorf("Atlas asked %d times", n)
	}
	if n := a.count(t, `#jobs-feed tr[data-testid="job-row"]`); n != 0 {
		t.Errorf("%d rows in the job feed", n)
	}
	a.noConsoleErrors(t)
}

// checkFieldError checks the error sel is beside the retention field (in
// the field's own group) and the field points at it.
func checkFieldError(t *testing.T, a *browserApp, sel string) {
	t.Helper()
	besideField := browserValue(t, a, "find the error's field", chromedp.Evaluate[bool](`(() => {
		const err = document.querySelector(`+strconv.Quote(sel)+`);
		const field = document.querySelector(`+strconv.Quote(takeRetention)+`);
		return err.parentElement === field.parentElement; })()`))
	if !besideField {
		t.Error("the retention error is not beside its field")
	}
	errID := a.attr(t, sel, "id")
	if d := a.attr(t, takeRetention, "aria-describedby"); !slices.Contains(strings.Fields(d), errID) {
		t.Errorf("retention field aria-describedby = %q, want it to name %q", d, errID)
	}
	if inv := a.attr(t, takeRetention, "aria-invalid"); inv != "true" {
		t.Errorf("retention field aria-invalid = %q", inv)
	}
}

// TestBrowserDoubleClickMakesOneJob double-clicks Take snapshot: one
// request, one job in Postgres, one Atlas call, one row.
func TestBrowserDoubleClickMakesOneJob(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	const row = `#jobs-feed tr[data-kind="snapshot"]`
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath), processed(takeRetention))
	a.markPage(t)
	a.do(t, "double-click Take snapshot",
		typeText(takeRetention, "7"),
		containsText(`[data-testid="snapshot-expiry"]`, "expires on"),
		chromedp.DoubleClick(chromedp.CSS(takeSubmit)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		containsText(flashMessage, "Snapshot requested."),
		// The fresh form says a snapshot is in progress: every request the
		// clicks made has been answered.
		chromedp.WaitVisible(chromedp.CSS(takeForm+` [data-testid="disabled-reason"]`)),
	)
	posts := browserValue(t, a, "count the posts", chromedp.Evaluate[int](`performance.getEntriesByType("resource")
		.filter(e => new URL(e.name).pathname.endsWith("/snapshots")).length`))
	if posts != 1 {
		t.Errorf("the double click sent %d requests", posts)
	}
	a.unchangedPage(t)
	if n := a.countJobs(t, `kind = 'snapshot'`); n != 1 {
		t.Errorf("%d snapshot jobs in Postgres after a double click, want 1", n)
	}
	if n := a.Sim.Calls()["takeGroupClusterBackupSnapshots"]; n != 1 {
		t.Errorf("Atlas asked %d times", n)
	}
	if n := a.count(t, `#jobs-feed tr[data-testid="job-row"]`); n != 1 {
		t.Errorf("%d rows in the feed", n)
	}
	if n := a.count(t, `#flash [data-testid="flash"]`); n != 1 {
		t.Errorf("%d flash messages", n)
	}
	a.noConsoleErrors(t)
}

// TestBrowserDeepLinkPrefillsAndLeadsBack follows a portal's deep link to
// Take snapshot: the form is prefilled and, once the snapshot is
// requested, offers the way back to the portal. A link back to a host not
// allowed is refused: the page says so and links nowhere foreign.
func TestBrowserDeepLinkPrefillsAndLeadsBack(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	const back = "https://" + flowPortal + "/x"
	deepLink := func(path, returnTo string) string {
		q := url.Values{"description": {"before the nightly upgrade"}, "retentionInDays": {"7"}, "return_to": {returnTo}}
		return a.URL + path + "/snapshots/new?" + q.Encode()
	}

	a.do(t, "follow the deep link",
		chromedp.Navigate(deepLink(flowClusterPath, back)),
		processed(takeRetention),
	)
	if got := browserValue(t, a, "description", chromedp.Value(chromedp.CSS(takeDescription))); got != "before the nightly upgrade" {
		t.Errorf("description = %q", got)
	}
	if got := browserValue(t, a, "retention", chromedp.Value(chromedp.CSS(takeRetention))); got != "7" {
		t.Errorf("retention = %q", got)
	}
	if got := a.text(t, `[data-testid="snapshot-expiry"]`); !strings.Contains(got, "expires on") {
		t.Errorf("expiry hint = %q", got)
	}
	if got := browserValue(t, a, "return_to", chromedp.Value(chromedp.CSS(takeForm+` [data-testid="return-to"]`))); got != back {
		t.Errorf("the form carries return_to %q", got)
	}
	a.do(t, "take the snapshot",
		chromedp.Click(chromedp.CSS(takeSubmit)),
		chromedp.WaitVisible(chromedp.CSS(flashMessage+` [data-testid="return-to-link"]`)),
	)
	if got := a.attr(t, flashMessage+` [data-testid="return-to-link"]`, "href"); got != back {
		t.Errorf("the way back leads to %q, want %q", got, back)
	}
	var description string
	if err := a.Pool.QueryRow(context.Background(), `SELECT params->>'description' FROM jobs WHERE kind = 'snapshot'`).Scan(&description); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(description, "before the nightly upgrade") {
		t.Errorf("the job's description = %q", description)
	}

	// A foreign host: refused, said, and never linked.
	const foreign = `a[href*="evil.example.net"], form[action*="evil.example.net"], input[value*="evil.example.net"]`
	a.do(t, "follow a deep link to a foreign host",
		chromedp.Navigate(deepLink(flowShardedPath, "https://evil.example.net/")),
		processed(takeRetention),
		chromedp.WaitVisible(chromedp.CSS(takeForm+` [data-testid="error-return_to"]`)),
	)
	if n := a.count(t, foreign) + a.count(t, takeForm+` [data-testid="return-to"]`); n != 0 {
		t.Errorf("the page carries the foreign return_to in %d places", n)
	}
	if got := browserValue(t, a, "retention", chromedp.Value(chromedp.CSS(takeRetention))); got != "7" {
		t.Errorf("retention = %q: the rest of the link should still prefill the form", got)
	}
	a.do(t, "take the snapshot anyway",
		chromedp.Click(chromedp.CSS(takeSubmit)),
		containsText(flashMessage, "Snapshot requested."),
	)
	if n := a.count(t, foreign) + a.count(t, `[data-testid="return-to-link"]`); n != 0 {
		t.Errorf("after the snapshot the page links back %d times", n)
	}
	if n := a.countJobs(t, `kind = 'snapshot'`); n != 2 {
		t.Errorf("%d snapshot jobs, want 2", n)
	}
	a.noConsoleErrors(t)
}

// TestBrowserAuditListsActions takes a snapshot, exports one and triggers
// an ingestion as the operator, then signs in as an admin: /audit lists the
// three actions by the operator, and its CSV download holds them.
func TestBrowserAuditListsActions(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	snapJob := a.takeSnapshot(t, flowClusterPath, "7")
	exportJob := a.exportSnapshot(t, atlassim.FixtureSnapshotID, atlassim.FixtureGCPBucketID)
	ingestJob, _ := a.triggerIngestion(t)

	a.signInAs(t, "admin")
	a.do(t, "open the audit trail",
		chromedp.Navigate(a.URL+"/audit"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit"]`)),
	)
	want := map[string]string{"snapshot.take": snapJob, "export.create": exportJob, "ingestion.trigger": ingestJob}
	type row struct{ Action, Who, Job string }
	rows := browserValue(t, a, "read the audit rows", chromedp.Evaluate[[]row](`[...document.querySelectorAll('[data-testid="audit-row"]')].map(r => ({
		Action: r.dataset.action, Who: r.cells[1].textContent, Job: r.textContent}))`))
	for action, job := range want {
		found := slices.ContainsFunc(rows, func(r row) bool {
			return strings.HasPrefix(r.Action, action) && strings.Contains(r.Who, "Oscar Operator") && strings.Contains(r.Job, job[:8])
		})
		if !found {
			t.Errorf("/audit does not list %s of job %s by the operator; rows: %+v", action, job, rows)
		}
	}

	// The CSV, fetched as the page's own link would, with the session.
	href := a.attr(t, `[data-testid="download-csv"]`, "href")
	body := browserValue(t, a, "download the CSV", chromedp.Evaluate[string](`fetch(`+strconv.Quote(href)+`).then(r => {
		if (!r.ok || !r.headers.get("Content-Type").startsWith("text/csv")) throw new Error("status " + r.status + " " + r.headers.get("Content-Type"));
		return r.text(); })`, chromedp.EvalAwaitPromise))
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(records) < 2 {
		t.Fatalf("the CSV (%d records, %v):\n%s", len(records), err, body)
	}
	for action, job := range want {
		found := slices.ContainsFunc(records[1:], func(rec []string) bool {
			return slices.ContainsFunc(rec, func(f string) bool { return strings.HasPrefix(f, action) }) &&
				slices.Contains(rec, job) && slices.Contains(rec, "oscar.operator@snapdesk.local")
		})
		if !found {
			t.Errorf("the CSV has no %s of job %s by the operator:\n%s", action, job, body)
		}
	}
	a.noConsoleErrors(t)
}

// TestBrowserKeyPagesAccessible checks every key page with axe-core, once
// there is something on them (a snapshot, an export and an ingestion, moved
// on by Atlas), and leaves a screenshot of each in the artifacts directory.
func TestBrowserKeyPagesAccessible(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	a.takeSnapshot(t, flowClusterPath, "7")
	exportJob := a.exportSnapshot(t, atlassim.FixtureSnapshotID, atlassim.FixtureAWSBucketID)
	ingestJob, _ := a.triggerIngestion(t)
	a.advance(t, 12*time.Minute)
	var runID string
	if err := a.Pool.QueryRow(context.Background(), `SELECT atlas_id FROM jobs WHERE id = $1`, ingestJob).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		name, path string
		status     int
	}{
		{"overview", "/", 200},
		{"jobs", "/jobs", 200},
		{"export-job", "/jobs/" + exportJob, 200},
		{"ingestion-job", "/jobs/" + ingestJob, 200},
		{"projects", "/projects", 200},
		{"project", "/projects/" + flowProject, 200},
		{"cluster", flowClusterPath, 200},
		{"pipeline", flowPipelinePath, 200},
		{"run", flowPipelinePath + "/runs/" + runID, 200},
		{"audit", "/audit", 200},
		{"sign-in", "/auth/dev", 200},
		{"export-deep-link", flowClusterPath + "/exports/new?snapshotId=" + atlassim.FixtureSnapshotID, 200},
		{"not-found", "/jobs/00000000-0000-4000-8000-000000000000", 404},
	}
	for _, p := range pages {
		// Each page in a tab of its own, closed after: Chromium keeps the
		// event streams of pages it holds in its back/forward cache open,
		// and six of them exhaust its connections to the server.
		tab := a.newTab(t)
		if p.status == 404 {
			// The page's own status is logged; it is the point here.
			tab.ConsoleErrors = browsertest.ConsoleErrors(tab.B, "status of 422", "status of 404")
		}
		resp := browserValue(t, tab, "open "+p.path, chromedp.NavigateResponse(a.URL+p.path))
		if int(resp.Status) != p.status {
			t.Errorf("%s: status %d, want %d", p.path, resp.Status, p.status)
		}
		tab.do(t, "wait for "+p.path, chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		vs, err := browsertest.CheckAccessibility(tab.B)
		if err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		for _, v := range vs {
			t.Errorf("%s: %s", p.path, v)
		}
		t.Logf("%s: screenshot %s", p.path, browsertest.SaveScreenshot(t, tab.B, p.name))
		tab.close(t)
	}
	a.noConsoleErrors(t)
}

var nonDigits = regexp.MustCompile(`\D`)

// digits are the digits of s: "1,840,000 documents" → "1840000".
func digits(s string) string { return nonDigits.ReplaceAllString(s, "") }
