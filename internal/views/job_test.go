package views

import (
	"github.com/PuerkitoBio/goquery"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func exportDetail() JobDetail {
	j := exportJob()
	snap := snapshotJob()
	snap.State = "succeeded"
	return JobDetail{
		Job:              j,
		RequestedByEmail: "ana@example.com",
		AtlasIDs:         []Param{{"Export job", "77aa00bb11cc22dd33ee44ff"}},
		Parameters:       []Param{{"Bucket", "AWS · acme-backups"}, {"ticket", "OPS-12"}},
		// Out of order on purpose: the page shows them oldest first.
		Events: []JobEvent{
			{At: t0.Add(2 * time.Minute), From: "queued", To: "running", AtlasState: "InProgress", Source: "poller", Progress: Progress{ExportedCollections: 1, TotalCollections: 12}},
			{At: t0, From: "", To: "requested", Source: "user", Message: "requested by Ana"},
			{At: t0.Add(time.Minute), From: "requested", To: "queued", AtlasState: "Queued", Source: "poller"},
		},
		StartedAt: t0.Add(2 * time.Minute),
		Now:       t0.Add(8 * time.Minute), // 3 of 12 in 6 minutes: 18 minutes left
		Lineage: Lineage{
			Snapshot:   &Snapshot{ID: snapID, CreatedAt: t0.Add(-time.Hour), Status: "completed", Job: &snap},
			Exports:    []Job{j, {ID: jobID3, Kind: "export", State: "queued", BucketName: "gcs-b", BucketProvider: "GCP", CreatedAt: t0}},
			Ingestions: []Job{ingestionJob()},
		},
	}
}

func TestJobPage(t *testing.T) {
	d := exportDetail()
	doc := render(t, JobPage(JobView{Page: testPage("Export job"), Job: d, ReturnTo: "https://portal.example.com/b"}))
	checkAccessible(t, doc)

	var order []string
	byTestID(doc, "timeline-event").Each(func(_ int, s *goquery.Selection) {
		order = append(order, s.AttrOr("data-to", ""))
	})
	if diff := cmp.Diff([]string{"requested", "queued", "running"}, order); diff != "" {
		t.Errorf("timeline order (-want +got):\n%s", diff)
	}
	first := byTestID(doc, "timeline-event").First()
	if !strings.Contains(text(first), "requested by Ana") || !strings.Contains(text(first), "recorded as the request was made") {
		t.Errorf("first event = %q", text(first))
	}

	bar := byTestID(doc, "progress-bar")
	if attr(t, bar, "value") != "3" || attr(t, bar, "max") != "12" {
		t.Errorf("progress bar %s/%s, want 3/12", attr(t, bar, "value"), attr(t, bar, "max"))
	}
	if got := text(byTestID(doc, "eta")); !strings.Contains(got, "about 18 minutes") {
		t.Errorf("eta = %q, want about 18 minutes", got)
	}

	section := byTestID(doc, "job-live-section")
	if attr(t, section, "sse-swap") != "job-"+jobID+"-detail" || attr(t, section, "hx-swap") != "innerHTML" {
		t.Errorf("live section sse-swap=%q hx-swap=%q", attr(t, section, "sse-swap"), attr(t, section, "hx-swap"))
	}
	live, _ := url.Parse(attr(t, byTestID(doc, "live"), "sse-connect"))
	if live.Query().Get("detail") != jobID || !cmp.Equal(live.Query()["job"], []string{jobID, jobID3}) {
		t.Errorf("sse-connect = %s: want detail=%s and the unfinished lineage jobs", live, jobID)
	}

	if got := text(byTestID(doc, "job-requester")); got != "Ana ana@example.com" {
		t.Errorf("requester = %q", got)
	}
	if got := attr(t, byTestID(doc, "return-to-link"), "href"); got != "https://portal.example.com/b" {
		t.Errorf("return_to link = %q", got)
	}
	params := map[string]string{}
	byTestID(doc, "job-params").Find("dt").Each(func(_ int, dt *goquery.Selection) {
		params[text(dt)] = text(dt.Next())
	})
	if diff := cmp.Diff(map[string]string{"Bucket": "AWS · acme-backups", "ticket": "OPS-12"}, params); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}

	lin := byTestID(doc, "lineage")
	if got := text(byTestID(lin, "lineage-snapshot")); !strings.HasPrefix(got, "Snapshot "+snapID+" of Cluster0, taken 2026-03-01 09:00 UTC completed") {
		t.Errorf("lineage snapshot = %q", got)
	}
	if got := text(byTestID(lin, "lineage-snapshot").Find(".hint").First()); got != "Taken via Snapdesk: Snapshot 7d3f4c1a succeeded 2026-03-01 11:00 UTC" {
		t.Errorf("lineage snapshot job = %q", got)
	}
	exports := byTestID(lin, "lineage-export")
	if exports.Length() != 2 || exports.First().Find(`[aria-current="page"]`).Length() != 1 {
		t.Errorf("lineage exports: %d, current job marked: %d", exports.Length(), exports.First().Find(`[aria-current="page"]`).Length())
	}
	if got := attr(t, exports.Eq(1).Find("a"), "href"); got != "/jobs/"+jobID3 {
		t.Errorf("other export links to %q", got)
	}
	if !strings.Contains(text(exports.Eq(1)), "GCP · gcs-b") {
		t.Errorf("other export = %q, want its bucket", text(exports.Eq(1)))
	}
	if byTestID(lin, "lineage-ingestion").Length() != 1 {
		t.Error("lineage lacks the ingestion")
	}
	if got := attr(t, exports.Eq(1).Find(`[data-testid="live-badge"]`), "sse-swap"); got != "job-"+jobID3+"-badge" {
		t.Errorf("lineage badge sse-swap = %q", got)
	}
}

func TestJobPageAtlasError(t *testing.T) {
	d := exportDetail()
	d.State, d.AtlasState, d.ErrorCode, d.ErrorMessage = "failed", "Failed", "EXPORT_FAILED", "bucket policy denies PutObject"
	d.FinishedAt = t0.Add(20 * time.Minute)
	d.Lineage = Lineage{}
	doc := render(t, JobPage(JobView{Page: testPage("Export job"), Job: d}))
	checkAccessible(t, doc)
	if got := text(byTestID(doc, "error-code")); got != "EXPORT_FAILED" {
		t.Errorf("error code = %q", got)
	}
	if got := text(byTestID(doc, "error-words")); !strings.Contains(got, "Atlas could not finish the export.") || !strings.Contains(got, "bucket policy denies PutObject") {
		t.Errorf("error words = %q", got)
	}
	if byTestID(doc, "eta").Length() != 0 {
		t.Error("a failed job shows a time left")
	}
	if byTestID(doc, "live").Length() != 0 {
		t.Error("a finished job with nothing else live still opens an event stream")
	}
	if byTestID(doc, "job-finished").Length() != 1 || byTestID(doc, "lineage-empty").Length() != 1 {
		t.Error("want the finish time and the lineage's empty state")
	}
	if byTestID(doc, "return-to-link").Length() != 0 {
		t.Error("a return link without return_to")
	}
}

func TestJobLiveForIngestion(t *testing.T) {
	d := JobDetail{Job: ingestionJob(), Now: t0}
	doc := render(t, JobLive(d))
	if got := text(byTestID(doc, "run-bytes")); got != "1.5 KiB" {
		t.Errorf("bytes = %q", got)
	}
	if got := attr(t, byTestID(doc, "run-bytes"), "title"); got != "1,536 bytes" {
		t.Errorf("bytes title = %q", got)
	}
	if got := text(byTestID(doc, "run-docs")); got != "1,234,567" {
		t.Errorf("docs = %q", got)
	}
	if byTestID(doc, "timeline-empty").Length() != 1 {
		t.Error("no empty timeline note")
	}
	if byTestID(doc, "progress-bar").Length() != 0 {
		t.Error("an ingestion shows a collections progress bar")
	}
}

// A snapshot still being taken has no time yet: its lineage line ends
// with the cluster, not with a dangling comma.
func TestLineageOfASnapshotNotYetTaken(t *testing.T) {
	d := exportDetail()
	snap := *d.Lineage.Snapshot
	snap.CreatedAt = time.Time{}
	d.Lineage.Snapshot = &snap
	doc := render(t, JobPage(JobView{Page: testPage("Export"), Job: d}))
	got := text(byTestID(byTestID(doc, "lineage"), "lineage-snapshot"))
	if !strings.HasPrefix(got, "Snapshot "+snapID+" of Cluster0 completed") {
		t.Errorf("lineage snapshot = %q", got)
	}
}
