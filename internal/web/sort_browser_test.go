package web_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// TestBrowserClusterJobTableSorts: on the cluster page, a click on the Job
// column's header orders the jobs by kind, as a URL the person can keep; a
// job taken there takes its place in that order; a second click turns the
// order round.
func TestBrowserClusterJobTableSorts(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	cl := atlassim.FixtureReplicaSetCluster
	ids := seedJobs(t, a.Pool,
		seededJob{kind: "export", state: "succeeded", requester: "Adam Admin", cluster: cl, age: 2 * time.Hour},
		seededJob{kind: "snapshot", state: "succeeded", requester: "Olga Operator", cluster: cl, age: time.Hour},
	)
	export, snapshot := ids[0], ids[1]
	const (
		rows       = `#jobs-feed tr[data-testid="job-row"]`
		kindHeader = `table[data-testid="job-table"] th[data-sort-key="kind"]`
	)
	rowOrder := func() []string {
		return browserValue(t, a, "read the job rows", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('`+rows+`')].map(r => r.dataset.jobId)`))
	}
	location := func() string {
		return browserValue(t, a, "read the address", chromedp.Location())
	}
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath), chromedp.WaitVisible(chromedp.CSS(rows)))
	if got := rowOrder(); !slices.Equal(got, []string{snapshot, export}) {
		t.Fatalf("rows = %v, want newest first", got)
	}
	if got := a.attr(t, kindHeader, "aria-sort"); got != "none" {
		t.Errorf("Job header aria-sort = %q before sorting", got)
	}

	a.do(t, "order the jobs by kind",
		chromedp.Click(chromedp.CSS(`[data-testid="sort-kind"]`)),
		chromedp.WaitVisible(chromedp.CSS(kindHeader+`[aria-sort="ascending"]`)),
	)
	if got := location(); !strings.HasSuffix(got, flowClusterPath+"?sort=kind") {
		t.Errorf("address = %q, want the cluster ordered by kind", got)
	}
	if got := rowOrder(); !slices.Equal(got, []string{export, snapshot}) {
		t.Errorf("ordered by kind: rows = %v, want the export first", got)
	}
	if got := a.text(t, `[data-testid="sort-kind"]`); got != "Job ↑" {
		t.Errorf("sorted header reads %q", got)
	}

	// A job taken from the ordered page takes its place in the order (the
	// feed reads itself again with ?sort), not the top.
	kinds := `[...document.querySelectorAll('` + rows + `')].map(r => r.dataset.kind).join()`
	a.do(t, "take a snapshot on the ordered page",
		processed(takeRetention),
		processed(`#jobs-feed`),
		typeText(takeRetention, "2"),
		containsText(`[data-testid="snapshot-expiry"]`, "expires on"),
		chromedp.Click(chromedp.CSS(takeSubmit)),
		containsText(flashMessage, "Snapshot requested."),
		chromedp.Poll[chromedp.Void](kinds+` === "export,snapshot,snapshot"`),
	)
	got := rowOrder()
	if len(got) != 3 || got[0] != export || got[2] != snapshot {
		t.Fatalf("after taking a snapshot ordered by kind: rows = %v, want the export, the new snapshot, then the older one", got)
	}
	taken := got[1]
	if got := location(); !strings.HasSuffix(got, flowClusterPath+"?sort=kind") {
		t.Errorf("address after the action = %q", got)
	}
	// The rows read again still follow their jobs live.
	a.following(t, "#job-"+taken)

	a.do(t, "turn the order round",
		chromedp.Click(chromedp.CSS(`[data-testid="sort-kind"]`)),
		chromedp.WaitVisible(chromedp.CSS(kindHeader+`[aria-sort="descending"]`)),
	)
	if got := location(); !strings.HasSuffix(got, flowClusterPath+"?sort=-kind") {
		t.Errorf("address = %q, want the cluster ordered by kind, Z to A", got)
	}
	if got := rowOrder(); !slices.Equal(got, []string{taken, snapshot, export}) {
		t.Errorf("ordered by kind, Z to A: rows = %v", got)
	}
	// The address is the order: opened again, the page is in it.
	a.do(t, "open the address again", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(kindHeader+`[aria-sort="descending"]`)))
	if got := rowOrder(); !slices.Equal(got, []string{taken, snapshot, export}) {
		t.Errorf("reloaded: rows = %v", got)
	}
	a.noConsoleErrors(t)
}
