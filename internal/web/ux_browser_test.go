package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/browsertest"
)

// inViewport is a script: every element sel matches is drawn, and lies
// within the window's width (not off to the right, scrolled out of sight).
func inViewport(sel string) string {
	return `(() => { const els = [...document.querySelectorAll(` + strconv.Quote(sel) + `)];
		if (els.length === 0) return "no element matches";
		for (const e of els) { const r = e.getBoundingClientRect();
			if (r.width === 0 || r.height === 0) return "not drawn: " + e.outerHTML.slice(0, 80);
			if (r.left < 0 || r.right > window.innerWidth) return "off-screen: left " + r.left + ", right " + r.right + " of " + window.innerWidth; }
		return ""; })()`
}

// TestBrowserSnapshotTableOnAPhone: at 390 px wide, the cluster page's
// snapshot table keeps every snapshot's status on screen.
func TestBrowserSnapshotTableOnAPhone(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	a.do(t, "open the cluster at 390 px",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(a.URL+flowClusterPath),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="snapshot-row"]`)),
	)
	browsertest.SaveScreenshot(t, a.B, "cluster-390px")
	if why := browserValue(t, a, "place the status cells", chromedp.Evaluate[string](inViewport(`[data-testid="snapshot-row"] [data-testid="snapshot-status"] [data-testid="state-badge"]`))); why != "" {
		t.Errorf("snapshot status at 390 px: %s", why)
	}
	if why := browserValue(t, a, "place the headers", chromedp.Evaluate[string](inViewport(`table[data-testid="snapshots"] th:nth-child(2)`))); why != "" {
		t.Errorf("Status header at 390 px: %s", why)
	}
	if why := browserValue(t, a, "place the rows' cells", chromedp.Evaluate[string](inViewport(`[data-testid="snapshot-row"] > td:not(.hide-narrow)`))); why != "" {
		t.Errorf("a snapshot row's cell at 390 px: %s", why)
	}
	if got := a.text(t, `table[data-testid="snapshots"] th:nth-child(2)`); got != "Status" {
		t.Errorf("second column = %q, want Status", got)
	}
	a.noConsoleErrors(t)
}

// TestBrowserEmptyJobFeedHasNoHeader: a page with no job yet says so,
// without an empty table header above or below; the first job brings the
// table.
func TestBrowserEmptyJobFeedHasNoHeader(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	const feedTable = `table:has(#jobs-feed)`
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath), chromedp.WaitVisible(chromedp.CSS(`[data-testid="jobs-empty"]`)))
	shown := func(sel string) bool {
		return browserValue(t, a, "is "+sel+" shown", chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`);
			return !!e && e.getClientRects().length > 0; })()`))
	}
	if shown(feedTable + ` thead`) {
		t.Error("an empty job table header is shown beside \"No jobs yet\"")
	}
	a.takeSnapshot(t, flowClusterPath, "2")
	if !shown(feedTable + ` thead`) {
		t.Error("the job table is not shown once a job is in it")
	}
	if shown(`[data-testid="jobs-empty"]`) {
		t.Error("\"No jobs yet\" is still shown beside a job")
	}
	a.noConsoleErrors(t)
}

// TestBrowserCopyJobID: the job page's copy button puts the job id on the
// clipboard (page script, no inline script) and says so.
func TestBrowserCopyJobID(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	jobID := a.takeSnapshot(t, flowClusterPath, "2")
	// Reading the clipboard back needs the permission a person would give.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(a.B, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	button := `[data-testid="job-facts"] button[data-copy="` + jobID + `"]`
	a.do(t, "copy the job id",
		chromedp.Navigate(a.URL+"/jobs/"+jobID),
		chromedp.WaitVisible(chromedp.CSS(button)),
		chromedp.Click(chromedp.CSS(button)),
		containsText(button, "Copied"),
	)
	got := browserValue(t, a, "read the clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if got != jobID {
		t.Errorf("clipboard = %q, want the job id %q", got, jobID)
	}
	if label := a.attr(t, button, "aria-label"); label != "Copy job id" {
		t.Errorf("copy button's label = %q", label)
	}
	a.noConsoleErrors(t)
}

// TestBrowserAuditFitsALaptop: at 1280 px, the audit table's When column
// is one line and nothing (the request id) is cut off or scrolled away.
func TestBrowserAuditFitsALaptop(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	a.exportSnapshotFromCluster(t)
	a.signInAs(t, "admin")
	a.do(t, "open the audit trail",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(a.URL+"/audit"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-row"]`)),
	)
	browsertest.SaveScreenshot(t, a.B, "audit-1280px")
	lines := browserValue(t, a, "measure the When cells", chromedp.Evaluate[float64](`Math.max(...[...document.querySelectorAll('[data-testid="audit-when"] time')]
		.map(e => e.getClientRects().length))`))
	if lines != 1 {
		t.Errorf("a When cell's time takes %v lines, want 1", lines)
	}
	overflow := browserValue(t, a, "measure the table", chromedp.Evaluate[string](`(() => {
		const w = document.querySelector('table[data-testid="audit"]').closest('.table-wrap');
		if (w.scrollWidth > w.clientWidth) return "the table scrolls sideways: " + w.scrollWidth + " > " + w.clientWidth;
		const right = w.getBoundingClientRect().right;
		for (const c of document.querySelectorAll('[data-testid="audit-request"]')) {
			const r = c.getBoundingClientRect();
			if (r.width === 0) return "request column hidden";
			if (r.right > right + 0.5) return "request id cut off at " + r.right + " > " + right;
		}
		return ""; })()`))
	if overflow != "" {
		t.Error(overflow)
	}
	if strings.TrimSpace(a.text(t, `[data-testid="time-rule"]`)) == "" {
		t.Error("the time rule is not stated on the page")
	}
	a.noConsoleErrors(t)
}

// exportSnapshotFromCluster exports the fixture snapshot to the AWS
// bucket from the cluster page, so the trail has a few records.
func (a *browserApp) exportSnapshotFromCluster(t *testing.T) {
	t.Helper()
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath))
	a.exportSnapshot(t, atlassim.FixtureSnapshotID, atlassim.FixtureAWSBucketID)
}

// TestBrowserTimesFollowOneRule: in a browser set to Tokyo time, pages
// still show every time in UTC, as the footer says and the audit date
// filters read them: one rule, not the browser's zone on one page and
// UTC in the filters.
func TestBrowserTimesFollowOneRule(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	if _, err := chromedp.Call(a.B, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	zone := browserValue(t, a, "read the browser's zone", chromedp.Evaluate[string](`Intl.DateTimeFormat().resolvedOptions().timeZone`))
	if zone != "Asia/Tokyo" {
		t.Fatalf("browser zone = %q", zone)
	}
	jobID := a.takeSnapshot(t, flowClusterPath, "2")
	for _, page := range []string{flowClusterPath, "/jobs/" + jobID, "/audit"} {
		a.do(t, "open "+page, chromedp.Navigate(a.URL+page), chromedp.WaitVisible(chromedp.CSS(`[data-testid="time-rule"]`)))
		bad := browserValue(t, a, "read the times of "+page, chromedp.Evaluate[[]string](`[...document.querySelectorAll("time")]
			.map(e => e.textContent.trim()).filter(s => !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC$/.test(s))`))
		if len(bad) > 0 {
			t.Errorf("%s shows times not in UTC: %q", page, bad)
		}
		if got := a.text(t, `[data-testid="time-rule"]`); got != "All times are in UTC." {
			t.Errorf("%s states the rule as %q", page, got)
		}
	}
	if got := a.text(t, `label[for="audit-filters-from"]`); got != "From (UTC)" {
		t.Errorf("audit date filter label = %q", got)
	}
	a.noConsoleErrors(t)
}

// TestBrowserApproverRejectsWithAReason: Olga finds Oscar's export under
// "Waiting for you", opens it (no progress bar, the lapse time spaced and
// in UTC), rejects it with a reason, and the page shows who and why.
func TestBrowserApproverRejectsWithAReason(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	const reporting = "/projects/" + atlassim.FixtureProject2ID + "/clusters/" + atlassim.FixtureReportingCluster
	const actions = `tr[data-testid="snapshot-actions"][data-snapshot-id="65a1b2c3d4e5f60718293e21"]`
	a.do(t, "ask for an export of Reporting0's snapshot",
		chromedp.Navigate(a.URL+reporting),
		chromedp.Click(chromedp.CSS(actions+` [data-testid="export-details"] > summary`)),
		processed(actions+` form[data-testid="export-form"]`),
		chromedp.SetValue(chromedp.CSS(actions+` [data-testid="bucket-picker"]`), atlassim.FixtureReportingBucketID),
		chromedp.Click(chromedp.CSS(actions+` [data-testid="export-submit"]`)),
		containsText(flashMessage, "waits for another operator's approval"),
	)
	a.signInAs(t, "operator2")
	const waiting = `[data-testid="overview-waiting"] [data-testid="waiting-job"] a`
	a.do(t, "open the export waiting for Olga",
		chromedp.Navigate(a.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(waiting)),
		chromedp.Click(chromedp.CSS(waiting)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reject-form"]`)),
	)
	if n := a.count(t, `[data-testid="job-live-section"] progress`); n != 0 {
		t.Errorf("%d progress bars on an export Atlas was never asked for", n)
	}
	status := a.text(t, `[data-testid="approval-status"]`)
	if !strings.Contains(status, "lapses at 20") || !strings.HasSuffix(status, " UTC.") {
		t.Errorf("approval status = %q", status)
	}
	const why = "Analytics exports go to the EU bucket."
	a.do(t, "reject with a reason",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="reject-reason"]`), why),
		chromedp.Click(chromedp.CSS(`[data-testid="reject"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="rejection-reason"]`)),
	)
	if got := a.text(t, `[data-testid="rejection-reason"]`); got != why {
		t.Errorf("reason shown = %q", got)
	}
	if got := a.text(t, `[data-testid="approval-status"]`); !strings.HasPrefix(got, "Rejected by Olga Operator at ") {
		t.Errorf("approval status = %q", got)
	}
	browsertest.SaveScreenshot(t, a.B, "rejected-export")
	a.noConsoleErrors(t)
}

// TestBrowserExportAgainAsksFirst: exporting a snapshot to a bucket that
// already holds it is not done on one click: the form asks, beside an
// "Export it again" box, keeping what was chosen, and makes no job; ticked,
// the same form exports the second copy.
func TestBrowserExportAgainAsksFirst(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	a.exportSnapshotFromCluster(t)
	a.advance(t, time.Hour) // Atlas finishes the first export
	exports := func() int { return a.countJobs(t, `kind = 'export'`) }
	if n := exports(); n != 1 {
		t.Fatalf("%d export jobs after the first export", n)
	}

	actions := `tr[data-testid="snapshot-actions"][data-snapshot-id="` + atlassim.FixtureSnapshotID + `"]`
	exportForm := actions + ` form[data-testid="export-form"]`
	again := exportForm + ` [data-testid="export-again"]`
	question := exportForm + ` [data-testid="error-exportAgain"]`
	a.do(t, "open the snapshot's export form",
		chromedp.Navigate(a.URL+flowClusterPath),
		chromedp.Click(chromedp.CSS(actions+` [data-testid="export-details"] > summary`)),
		processed(exportForm),
		chromedp.WaitVisible(chromedp.CSS(exportForm+` [data-testid="reexport-warning"]`)),
	)
	if checked := browserValue(t, a, "read the box", chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(again)+`).checked`)); checked {
		t.Fatal("Export it again is ticked before anyone ticked it")
	}
	a.do(t, "export it to the same bucket again",
		chromedp.SetValue(chromedp.CSS(exportForm+` [data-testid="bucket-picker"]`), atlassim.FixtureAWSBucketID),
		chromedp.Click(chromedp.CSS(exportForm+` [data-testid="export-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(question)),
	)
	if said := a.text(t, question); !strings.Contains(said, "snapdesk-exports-aws already holds an export of this snapshot") {
		t.Errorf("the form asks %q", said)
	}
	if got := a.attr(t, again, "aria-invalid"); got != "true" {
		t.Errorf("the box is not marked as the field to answer (aria-invalid=%q)", got)
	}
	if got := browserValue(t, a, "read the bucket", chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(exportForm+` [data-testid="bucket-picker"]`)+`).value`)); got != atlassim.FixtureAWSBucketID {
		t.Errorf("the chosen bucket was lost: %q", got)
	}
	if n := exports(); n != 1 {
		t.Fatalf("%d export jobs after the question, want 1", n)
	}

	a.do(t, "tick Export it again and submit",
		chromedp.Click(chromedp.CSS(again)),
		chromedp.Click(chromedp.CSS(exportForm+` [data-testid="export-submit"]`)),
		containsText(flashMessage, "Export requested."),
	)
	if n := exports(); n != 2 {
		t.Errorf("%d export jobs after confirming, want 2", n)
	}
	a.noConsoleErrors(t)
}
