package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// TestJobHistoryShowsStateChanges: the poller's progress-only rows
// (running → running) are not steps of the timeline; each step says how
// long after the one before it came, to the second, and the latest figure
// is shown once above the history.
func TestJobHistoryShowsStateChanges(t *testing.T) {
	d := exportDetail()
	d.Events = []JobEvent{
		{At: t0, To: "requested", Source: "user"},
		{At: t0.Add(3 * time.Second), From: "requested", To: "queued", Source: "user"},
		{At: t0.Add(65 * time.Second), From: "queued", To: "running", AtlasState: "InProgress", Source: "poller", Progress: Progress{ExportedCollections: 1, TotalCollections: 12}},
		{At: t0.Add(2 * time.Minute), From: "running", To: "running", Source: "poller", Progress: Progress{ExportedCollections: 2, TotalCollections: 12}},
		{At: t0.Add(3*time.Minute + 7*time.Second), From: "running", To: "running", Source: "poller", Progress: Progress{ExportedCollections: 3, TotalCollections: 12}},
	}
	doc := render(t, JobPage(JobView{Page: testPage("x"), Job: d}))
	var steps []string
	byTestID(doc, "timeline-event").Each(func(_ int, s *goquery.Selection) { steps = append(steps, s.AttrOr("data-to", "")) })
	if diff := cmp.Diff([]string{"requested", "queued", "running"}, steps); diff != "" {
		t.Errorf("timeline steps (-want +got):\n%s", diff)
	}
	var gaps []string
	byTestID(doc, "timeline-step").Each(func(_ int, s *goquery.Selection) { gaps = append(gaps, text(s)) })
	if diff := cmp.Diff([]string{"(3 s after the previous step)", "(1 min 2 s after the previous step)"}, gaps); diff != "" {
		t.Errorf("durations between steps (-want +got):\n%s", diff)
	}
	if got := text(byTestID(doc, "timeline-event").First().Find("time")); got != "2026-03-01 10:00:00 UTC" {
		t.Errorf("step time = %q, want it to the second", got)
	}
	if got := text(byTestID(doc, "progress-as-of")); !strings.HasPrefix(got, "Latest figure from Atlas at 2026-03-01 10:03:07 UTC") {
		t.Errorf("latest figure = %q", got)
	}
}

// TestJobParametersInWords: the recorded parameters are shown in words, in
// one order whatever order the map gives.
func TestJobParametersInWords(t *testing.T) {
	params := map[string]any{
		"customData":      map[string]any{"team": "payments", "ticket": "OPS-12"},
		"exportBucketId":  bucketID,
		"bucketProvider":  "AWS",
		"bucketName":      "acme-backups",
		"snapshotTakenAt": "2026-03-01T09:00:00Z",
		"somethingNew":    true,
	}
	want := []Param{
		{"Snapshot taken", "2026-03-01 09:00 UTC"},
		{"Export bucket", "acme-backups (AWS)"},
		{"Export bucket id", bucketID},
		{"Custom data", "team = payments; ticket = OPS-12"},
		{"Something new", "yes"},
	}
	for range 20 { // a map ranged over changes order from run to run
		if diff := cmp.Diff(want, JobParameters("export", params)); diff != "" {
			t.Fatalf("export parameters (-want +got):\n%s", diff)
		}
	}
	snap := JobParameters("snapshot", map[string]any{"retentionInDays": float64(7), "description": "", "expiresAt": "2026-03-08T10:00:00Z", "clusterType": "SHARDED"})
	if diff := cmp.Diff([]Param{
		{"Description", "none given"}, {"Keep the snapshot for", "7 days"}, {"Snapshot expires", "2026-03-08 10:00 UTC"}, {"Cluster type", "Sharded"},
	}, snap); diff != "" {
		t.Errorf("snapshot parameters (-want +got):\n%s", diff)
	}
	ing := JobParameters("ingestion", map[string]any{"datasetRetentionPolicy": map[string]any{"units": "WEEKS", "value": float64(1)}})
	if diff := cmp.Diff([]Param{{"Keep the dataset for", "1 week"}}, ing); diff != "" {
		t.Errorf("ingestion parameters (-want +got):\n%s", diff)
	}
	if got := JobParameters("ingestion", map[string]any{}); len(got) != 1 || got[0].Value != "the pipeline's own retention" {
		t.Errorf("ingestion without a retention: %v", got)
	}
	// A drill's restore, as the drills runner records it: enums, ids and
	// timestamps in words, the source project (the job's Project row) not
	// repeated.
	drill := JobParameters("restore", map[string]any{"deliveryType": "automated", "targetGroupId": groupID, "targetClusterName": "payments-scratch",
		"targetProjectName": "payments", "sourceProjectName": "payments", "sourceClusterType": "REPLICASET", "snapshotTakenAt": "2026-12-05T09:10:00Z",
		"drill": groupID + "/Cluster0->" + groupID + "/payments-scratch", "dueAt": "2026-12-05T00:00:00Z"})
	if diff := cmp.Diff([]Param{
		{"Snapshot taken", "2026-12-05 09:10 UTC"}, {"How", "Onto a cluster (replaces its data)"}, {"Replaces the data of", "payments-scratch in payments"},
		{"Cluster type", "Replica set"}, {"Drill", "Cluster0 restored onto payments-scratch"}, {"Drill due", "2026-12-05 00:00 UTC"},
	}, drill); diff != "" {
		t.Errorf("drill restore parameters (-want +got):\n%s", diff)
	}
	pit := JobParameters("restore", map[string]any{"deliveryType": "pointInTime", "targetGroupId": groupID, "targetClusterName": "c2", "pointInTime": "2026-12-04T22:30:00Z"})
	if diff := cmp.Diff([]Param{
		{"How", "Onto a cluster, to a point in time"}, {"Replaces the data of", "c2 in " + groupID}, {"Point in time", "2026-12-04 22:30 UTC"},
	}, pit); diff != "" {
		t.Errorf("point-in-time restore parameters (-want +got):\n%s", diff)
	}
}

// TestAwaitingApprovalHasNoProgressBar: an export waiting for approval was
// never sent to Atlas: no progress bar, in a job row or on its page.
func TestAwaitingApprovalHasNoProgressBar(t *testing.T) {
	j := exportJob()
	j.State, j.Progress = "awaiting_approval", Progress{}
	row := renderFragment(t, JobCells(j))
	if n := row.Find("progress").Length(); n != 0 {
		t.Errorf("job row shows %d progress bars", n)
	}
	if got := text(byTestID(row, "progress-text")); got != "not started: waiting for approval" {
		t.Errorf("job row progress = %q", got)
	}
	d := exportDetail()
	d.Job = j
	doc := render(t, JobPage(JobView{Page: testPage("x"), Job: d}))
	if n := byTestID(doc, "job-live-section").Find("progress").Length(); n != 0 {
		t.Errorf("job page shows %d progress bars", n)
	}
}
