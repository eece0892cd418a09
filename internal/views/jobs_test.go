package views

import (
	"github.com/PuerkitoBio/goquery"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/rules"
)

func TestJobRowIsLiveAndLinked(t *testing.T) {
	doc := render(t, jobTable("Jobs", JobFeedID, "job-", []Job{exportJob()}))
	row := doc.Find("tr#job-" + jobID)
	if row.Length() != 1 {
		t.Fatalf("no row with id job-%s", jobID)
	}
	if got := attr(t, row, "sse-swap"); got != "job-"+jobID {
		t.Errorf("sse-swap = %q", got)
	}
	if got := attr(t, row, "hx-swap"); got != "innerHTML" {
		t.Errorf("hx-swap = %q, want innerHTML (the event carries the cells)", got)
	}
	if got := attr(t, byTestID(row, "job-link"), "href"); got != "/jobs/"+jobID {
		t.Errorf("job link = %q", got)
	}
	if got := attr(t, doc.Find("tbody"), "id"); got != JobFeedID {
		t.Errorf("tbody id = %q", got)
	}
	badge := byTestID(row, "state-badge")
	if got := attr(t, badge, "class"); got != "badge running" {
		t.Errorf("badge class = %q", got)
	}
	bar := byTestID(row, "progress-bar")
	if attr(t, bar, "value") != "3" || attr(t, bar, "max") != "12" {
		t.Errorf("progress bar value/max = %s/%s, want 3/12", attr(t, bar, "value"), attr(t, bar, "max"))
	}
	if got := text(byTestID(row, "progress-text")); got != "3 of 12 collections" {
		t.Errorf("progress text = %q", got)
	}
	if got := text(row); !strings.Contains(got, "AWS · acme-backups") {
		t.Errorf("row does not name the bucket: %q", got)
	}
}

// The SSE payload of "job-<id>" is the row's cells, and carries the same
// content as the cells of the full row.
func TestJobCellsAreTheRowContent(t *testing.T) {
	j := exportJob()
	j.State, j.Progress.ExportedCollections = "succeeded", 12
	cells := renderFragment(t, JobCells(j))
	row := render(t, jobTable("Jobs", "", "job-", []Job{j})).Find("tbody tr")
	if cells.Find("td").Length() != 6 || row.Find("td").Length() != 6 {
		t.Fatalf("cells: %d in the fragment, %d in the row", cells.Find("td").Length(), row.Find("td").Length())
	}
	if text(cells.Find("tr")) != text(row) {
		t.Errorf("fragment %q\nrow      %q", text(cells.Find("tr")), text(row))
	}
	if got := attr(t, byTestID(cells, "progress-bar"), "value"); got != "12" {
		t.Errorf("finished export progress value = %q", got)
	}
}

func TestJobRowWithoutIDIsStatic(t *testing.T) {
	j := exportJob()
	j.ID, j.RequestedBy = "", ""
	row := render(t, jobTable("Jobs", "", "job-", []Job{j})).Find("tbody tr")
	for _, a := range []string{"id", "sse-swap", "hx-swap"} {
		if _, ok := row.Attr(a); ok {
			t.Errorf("row of a job Snapdesk did not start has %s", a)
		}
	}
	if byTestID(row, "job-link").Length() != 0 || byTestID(row, "external").Length() != 1 {
		t.Errorf("row should say it was started outside Snapdesk, without a link: %q", text(row))
	}
}

func TestExportProgressStates(t *testing.T) {
	j := exportJob()
	j.Progress = Progress{}
	doc := render(t, ExportProgress(j))
	bar := byTestID(doc, "progress-bar")
	if _, ok := bar.Attr("value"); ok || bar.Length() != 1 {
		t.Errorf("unknown total: want an indeterminate bar, got %d bars", bar.Length())
	}
	j.Progress = Progress{ExportedCollections: 20, TotalCollections: 10}
	bar = byTestID(render(t, ExportProgress(j)), "progress-bar")
	if attr(t, bar, "value") != "10" || attr(t, bar, "max") != "10" {
		t.Errorf("over-reported progress not clamped: %s/%s", attr(t, bar, "value"), attr(t, bar, "max"))
	}
	j.State, j.Progress = "failed", Progress{}
	if byTestID(render(t, ExportProgress(j)), "progress-bar").Length() != 0 {
		t.Error("a failed export with no count should show no bar")
	}
}

func TestJobBadgeStalled(t *testing.T) {
	j := snapshotJob()
	j.Stalled = true
	doc := render(t, JobBadge(j))
	if got := attr(t, byTestID(doc, "state-badge"), "data-state"); got != "queued" {
		t.Errorf("state = %q", got)
	}
	if byTestID(doc, "stalled-badge").Length() != 1 {
		t.Error("no stalled flag")
	}
}

func TestIngestionRowShowsStats(t *testing.T) {
	row := render(t, jobTable("Jobs", "", "job-", []Job{ingestionJob()})).Find("tbody tr")
	want := map[string]string{"run-phase": "ingestion", "run-bytes": "1.5 KiB", "run-docs": "1,234,567 documents"}
	for id, w := range want {
		if got := text(byTestID(row, id)); got != w {
			t.Errorf("%s = %q, want %q", id, got, w)
		}
	}
	// Pipeline names are escaped in links.
	found := false
	row.Find("a").Each(func(_ int, a *goquery.Selection) {
		if h, _ := a.Attr("href"); h == "/projects/"+groupID+"/pipelines/sales%3Fpipe" {
			found = true
		}
	})
	if !found {
		t.Errorf("no escaped pipeline link in %q", row.Find("a").Text())
	}
}

func TestJobsPage(t *testing.T) {
	q := url.Values{"kind": {"export"}, "state": {"running"}, "requester": {"Ana"}, "from": {"2026-03-01"}, "page": {"2"}, "evil": {"x"}}
	v := JobsView{
		Page:     testPage("Jobs"),
		Filter:   q,
		Projects: []Project{{ID: groupID, Name: "payments"}},
		Jobs:     []Job{exportJob(), ingestionJob()},
		Pager:    Pager{Page: 2, HasNext: true},
	}
	doc := render(t, JobsPage(v))
	checkAccessible(t, doc)
	f := byTestID(doc, "job-filters")
	if got := f.Find(`select[name=kind] option[selected]`).AttrOr("value", ""); got != "export" {
		t.Errorf("kind filter shows %q", got)
	}
	if got := f.Find(`select[name=state] option[selected]`).AttrOr("value", ""); got != "running" {
		t.Errorf("state filter shows %q", got)
	}
	if got := f.Find(`input[name=requester]`).AttrOr("value", ""); got != "Ana" {
		t.Errorf("requester filter shows %q", got)
	}
	if got := f.Find(`input[name=from]`).AttrOr("value", ""); got != "2026-03-01" {
		t.Errorf("from filter shows %q", got)
	}
	next, _ := url.Parse(attr(t, byTestID(doc, "pager-next"), "href"))
	wantNext := url.Values{"kind": {"export"}, "state": {"running"}, "requester": {"Ana"}, "from": {"2026-03-01"}, "page": {"3"}}
	if next.Path != "/jobs" || !cmp.Equal(next.Query(), wantNext) {
		t.Errorf("next page link = %s, want the filters (and nothing else) with page 3", next)
	}
	prev, _ := url.Parse(attr(t, byTestID(doc, "pager-prev"), "href"))
	if prev.Query().Has("page") || prev.Query().Get("kind") != "export" {
		t.Errorf("previous page link = %s, want page 1 (no page param) with the filters", prev)
	}
	// Only the running export is followed live.
	live, _ := url.Parse(attr(t, byTestID(doc, "live"), "sse-connect"))
	if live.Path != EventsURL || !cmp.Equal(live.Query()["job"], []string{jobID}) {
		t.Errorf("sse-connect = %s, want the unfinished job only", live)
	}
	if doc.Find("tr[data-testid=job-row]").Length() != 2 {
		t.Error("want two rows")
	}
}

func TestJobsPageEmptyStates(t *testing.T) {
	doc := render(t, JobsPage(JobsView{Page: testPage("Jobs")}))
	checkAccessible(t, doc)
	if got := text(byTestID(doc, "jobs-empty")); !strings.Contains(got, "take a snapshot") {
		t.Errorf("empty jobs = %q, want what to do", got)
	}
	if byTestID(doc, "live").Length() != 0 {
		t.Error("nothing to follow, yet an event stream is opened")
	}
	doc = render(t, JobsPage(JobsView{Page: testPage("Jobs"), Filter: url.Values{"kind": {"export"}}}))
	if got := text(byTestID(doc, "jobs-empty")); !strings.Contains(got, "No jobs match these filters") {
		t.Errorf("empty filtered jobs = %q", got)
	}
}

func TestJobsFilterErrorsBesideFields(t *testing.T) {
	q := url.Values{"project": {"acme"}, "to": {"nope"}}
	errs := rules.Errors{rules.QueryProject: "Enter a project id: 24 characters, 0-9 and a-f.", rules.QueryTo: "Enter a date as YYYY-MM-DD (UTC), or a date and time."}
	doc := render(t, JobsPage(JobsView{Page: testPage("Jobs"), Filter: q, FilterErrors: errs}))
	checkAccessible(t, doc)
	for _, name := range []string{"project", "to"} {
		in := doc.Find(`[name="` + name + `"]`)
		if attr(t, in, "aria-invalid") != "true" {
			t.Errorf("%s not marked invalid", name)
		}
		msg := doc.Find("#" + attr(t, in, "aria-describedby"))
		if msg.Length() != 1 || text(msg) != errs[name] {
			t.Errorf("%s: described by %q, want the error %q", name, text(msg), errs[name])
		}
	}
}

func TestOverviewPage(t *testing.T) {
	mine := exportJob()
	failed := snapshotJob()
	failed.State, failed.ErrorCode = "failed", "UNEXPECTED_ERROR"
	doc := render(t, OverviewPage(OverviewView{Page: testPage("Overview"), Mine: []Job{mine}, InFlight: []Job{mine}, Troubled: []Job{failed}}))
	checkAccessible(t, doc)
	if byTestID(doc, "welcome").Length() != 0 {
		t.Error("welcome shown to a user with jobs")
	}
	// The same job in two sections: two rows, both live, distinct ids.
	rows := doc.Find(`tr[sse-swap="job-` + jobID + `"]`)
	if rows.Length() != 2 {
		t.Errorf("%d live rows for the job in two sections, want 2", rows.Length())
	}
	if got := text(byTestID(byTestID(doc, "overview-troubled"), "row-error-code")); got != "UNEXPECTED_ERROR" {
		t.Errorf("troubled error code = %q", got)
	}
	if got := text(byTestID(doc, "inflight-empty")); got != "" {
		t.Errorf("in-flight empty state shown: %q", got)
	}

	doc = render(t, OverviewPage(OverviewView{Page: testPage("Overview")}))
	checkAccessible(t, doc)
	for _, id := range []string{"welcome", "mine-empty", "inflight-empty", "troubled-empty"} {
		if byTestID(doc, id).Length() != 1 {
			t.Errorf("empty overview lacks %s", id)
		}
	}
	if got := text(byTestID(doc, "mine-empty")); !strings.Contains(got, "take a snapshot") {
		t.Errorf("mine-empty = %q, want what to do", got)
	}
}

func TestHomeIsTheEmptyOverview(t *testing.T) {
	doc := render(t, Home(testPage("Overview")))
	if doc.Find("title").Text() != "Overview · Snapdesk" || byTestID(doc, "welcome").Length() != 1 {
		t.Errorf("Home: title %q, welcome %d", doc.Find("title").Text(), byTestID(doc, "welcome").Length())
	}
}
