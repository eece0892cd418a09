package views

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/rules"
)

func clusterView() ClusterView {
	snapJob := snapshotJob()
	return ClusterView{
		Page:    testPage("Cluster0"),
		Project: Project{ID: groupID, Name: "payments"},
		Cluster: Cluster{Name: "Cluster0", Type: "SHARDED", State: "IDLE", BackupEnabled: true, MongoDBVersion: "8.0.4"},
		Snapshots: []Snapshot{
			{ID: snapID2, CreatedAt: t0.Add(time.Hour), Status: "queued", SnapshotType: "onDemand", Type: "shardedCluster", Members: []string{"shard-0", "shard-1"}, Job: &snapJob},
			{ID: snapID, CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour), Status: "completed", SnapshotType: "scheduled", FrequencyType: "daily", Type: "shardedCluster", StorageSizeBytes: 3 << 30,
				// The handler offers the actions on completed snapshots, to
				// operators, each form with its own key.
				Export: &ExportForm{FormCommon: formCommon(), ProjectID: groupID, ClusterName: "Cluster0", SnapshotID: snapID,
					Buckets: []Bucket{{ID: bucketID, Name: "acme-backups", Provider: "AWS"}}},
				Ingest: []IngestionForm{
					{FormCommon: formCommon(), ProjectID: groupID, PipelineName: "sales", SnapshotID: snapID, RetentionUnits: "WEEKS", RetentionValue: "2"},
					{FormCommon: formCommon(), ProjectID: groupID, PipelineName: "archive", SnapshotID: snapID,
						DisabledReason: "This pipeline is paused. A project owner must resume it in Atlas before it can ingest."},
				}},
		},
		SnapshotPager: Pager{Page: 1, HasNext: true},
		TakeSnapshot:  &SnapshotForm{FormCommon: formCommon(), ProjectID: groupID, ClusterName: "Cluster0"},
		Buckets:       []Bucket{{ID: bucketID, Name: "acme-backups", Provider: "AWS"}},
		Pipelines: []Pipeline{
			{Name: "sales", State: "ACTIVE", SourceCluster: "Cluster0", Retention: Retention{Units: "WEEKS", Value: 2}},
			{Name: "archive", State: "PAUSED", SourceCluster: "Cluster0", SourceGroupID: groupID},
			// Fed by another cluster: never offered here.
			{Name: "orders", State: "ACTIVE", SourceCluster: "Orders0"},
		},
		Jobs: []Job{exportJob(), snapJob},
	}
}

func formCommon() FormCommon {
	return FormCommon{CSRFToken: "csrf-token-1", IdempotencyKey: rules.NewIdempotencyKey()}
}

func TestClusterPage(t *testing.T) {
	v := clusterView()
	doc := render(t, ClusterPage(v))
	checkAccessible(t, doc)

	rows := byTestID(doc, "snapshot-row")
	if rows.Length() != 2 {
		t.Fatalf("%d snapshot rows", rows.Length())
	}
	ours := rows.Eq(0)
	if attr(t, ours, "data-snapdesk") != "on" || attr(t, byTestID(ours, "snapshot-job-link"), "href") != "/jobs/"+jobID2 {
		t.Error("the snapshot Snapdesk took is not marked and linked to its job")
	}
	if got := attr(t, byTestID(ours, "live-badge"), "sse-swap"); got != "job-"+jobID2+"-badge" {
		t.Errorf("snapshot job badge sse-swap = %q", got)
	}
	if got := text(byTestID(ours, "snapshot-type")); got != "On demand sharded: shard-0, shard-1" {
		t.Errorf("type = %q", got)
	}
	if got := text(byTestID(rows.Eq(1), "snapshot-type")); got != "Scheduled (daily) sharded" {
		t.Errorf("type = %q", got)
	}
	if attr(t, rows.Eq(1), "data-snapdesk") != "off" || !strings.Contains(text(byTestID(rows.Eq(1), "snapshot-job")), "Atlas") {
		t.Error("a scheduled snapshot is marked as Snapdesk's")
	}

	// Only the completed snapshot offers Export and Ingest.
	actions := byTestID(doc, "snapshot-actions")
	if actions.Length() != 1 || attr(t, actions, "data-snapshot-id") != snapID {
		t.Fatalf("actions rows: %d", actions.Length())
	}
	ef := byTestID(actions, "export-form")
	if attr(t, ef.Find(`input[name=snapshotId]`), "value") != snapID || ef.Find(`select[name=exportBucketId] option[value="`+bucketID+`"]`).Length() != 1 {
		t.Error("export form lacks the snapshot or bucket")
	}
	ingests := byTestID(actions, "ingest-form")
	if ingests.Length() != 2 {
		t.Fatalf("%d ingest forms, want one per pipeline fed by this cluster", ingests.Length())
	}
	if n := actions.Find(`[data-pipeline="orders"]`).Length(); n != 0 {
		t.Errorf("a pipeline fed by another cluster is offered (%d elements)", n)
	}
	sales := actions.Find(`form[data-pipeline="sales"]`)
	if attr(t, sales, "action") != "/projects/"+groupID+"/pipelines/sales/runs" ||
		sales.Find(`option[selected]`).AttrOr("value", "") != "WEEKS" ||
		attr(t, sales.Find(`input[name="datasetRetentionPolicy.value"]`), "value") != "2" {
		t.Error("ingest form not prefilled with the pipeline's retention")
	}
	if _, ok := byTestID(actions.Find(`form[data-pipeline="archive"]`), "ingest-submit").Attr("disabled"); !ok {
		t.Error("ingest into a paused pipeline is enabled")
	}

	// Each form has its own key.
	keys := map[string]bool{}
	byTestID(doc, "idempotency-key").Each(func(_ int, s *goquery.Selection) { keys[s.AttrOr("value", "")] = true })
	if len(keys) != 4 {
		t.Errorf("%d distinct idempotency keys for 4 forms", len(keys))
	}

	if doc.Find("tbody#"+JobFeedID+" tr[data-testid=job-row]").Length() != 2 {
		t.Error("the cluster's jobs are not in the job feed")
	}
	if _, hidden := doc.Find("#" + JobFeedEmptyID).Attr("hidden"); !hidden {
		t.Error("the feed's empty note shows although there are jobs")
	}
	live, _ := url.Parse(attr(t, byTestID(doc, "live"), "sse-connect"))
	if !cmp.Equal(live.Query(), url.Values{"project": {groupID}, "cluster": {"Cluster0"}}) {
		t.Errorf("sse-connect = %s", live)
	}
	if got := attr(t, byTestID(doc, "pager-next"), "href"); got != "/projects/"+groupID+"/clusters/Cluster0?page=2" {
		t.Errorf("next snapshots page = %q", got)
	}
	// A take snapshot form on a page with an expiry shown.
	if byTestID(doc, "take-snapshot-form").Length() != 1 {
		t.Error("no Take snapshot form")
	}
}

func TestClusterPageEmptyAndRetiredPipelines(t *testing.T) {
	v := clusterView()
	v.Snapshots, v.Jobs, v.SnapshotPager = nil, nil, Pager{Page: 1}
	doc := render(t, ClusterPage(v))
	checkAccessible(t, doc)
	if got := text(byTestID(doc, "snapshots-empty")); !strings.Contains(got, "Take one with the form above") {
		t.Errorf("snapshots-empty = %q", got)
	}
	if _, hidden := doc.Find("#" + JobFeedEmptyID).Attr("hidden"); hidden {
		t.Error("the feed's empty note is hidden although there is no job")
	}
	if byTestID(doc, "pager").Length() != 0 {
		t.Error("a pager with one page")
	}
}

func TestProjectsPages(t *testing.T) {
	doc := render(t, ProjectsPage(ProjectsView{Page: testPage("Projects")}))
	checkAccessible(t, doc)
	if !strings.Contains(text(byTestID(doc, "projects-empty")), "Ask a Snapdesk admin") {
		t.Errorf("projects-empty = %q", text(byTestID(doc, "projects-empty")))
	}
	doc = render(t, ProjectsPage(ProjectsView{Page: testPage("Projects"), Projects: []Project{{ID: groupID, Name: "payments", ClusterCount: 2, Created: t0}}}))
	checkAccessible(t, doc)
	if got := attr(t, byTestID(doc, "project-row").Find("a"), "href"); got != "/projects/"+groupID {
		t.Errorf("project link = %q", got)
	}

	v := ProjectView{
		Page:      testPage("payments"),
		Project:   Project{ID: groupID, Name: "payments"},
		Clusters:  []Cluster{{Name: "Cluster0", Type: "REPLICASET", State: "IDLE", BackupEnabled: true}, {Name: "big", Type: "SHARDED", State: "UPDATING"}},
		Pipelines: []Pipeline{{Name: "sales", State: "ACTIVE", SourceType: "ON_DEMAND_CPS", SourceCluster: "Cluster0", SourceDatabase: "shop", SourceCollection: "orders", SinkType: "DLS", SinkProvider: "AWS", SinkRegion: "US_EAST_1"}},
		Buckets:   []Bucket{{ID: bucketID, Name: "acme-az", Provider: "AZURE"}},
	}
	doc = render(t, ProjectPage(v))
	checkAccessible(t, doc)
	var got [][]string
	byTestID(doc, "cluster-row").Each(func(_ int, r *goquery.Selection) {
		got = append(got, []string{text(r.Find("a")), text(byTestID(r, "cluster-type")), attr(t, byTestID(r, "state-badge"), "data-state"), text(byTestID(r, "cluster-backup"))})
	})
	want := [][]string{{"Cluster0", "Replica set", "IDLE", "on"}, {"big", "Sharded", "UPDATING", "off"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clusters (-want +got):\n%s", diff)
	}
	if got := text(byTestID(doc, "pipeline-row")); !strings.Contains(got, "Cluster0 · shop.orders (on-demand snapshots)") {
		t.Errorf("pipeline row = %q", got)
	}
	if got := text(byTestID(doc, "bucket-provider")); got != "AZURE" {
		t.Errorf("bucket provider = %q", got)
	}

	v.Clusters, v.Pipelines, v.Buckets, v.PipelinesUnavailable = nil, nil, nil, true
	doc = render(t, ProjectPage(v))
	checkAccessible(t, doc)
	for _, id := range []string{"clusters-empty", "buckets-empty", "pipelines-unavailable"} {
		if byTestID(doc, id).Length() != 1 {
			t.Errorf("empty project lacks %s", id)
		}
	}
	if !strings.Contains(text(byTestID(doc, "pipelines-unavailable")), "export it to a bucket") {
		t.Error("the pipelines notice does not point to exports")
	}
}

func TestPipelinePage(t *testing.T) {
	ij := ingestionJob()
	ij.PipelineName = "sales"
	v := PipelineView{
		Page:     testPage("sales"),
		Project:  Project{ID: groupID, Name: "payments"},
		Pipeline: Pipeline{Name: "sales", State: "ACTIVE", SourceType: "PERIODIC_CPS", SourceCluster: "Cluster0", SinkType: "DLS", SinkProvider: "AWS", PartitionFields: []string{"region", "day"}, Retention: Retention{"DAYS", 30}},
		Runs: []PipelineRun{
			{ID: runID, State: "IN_PROGRESS", Phase: "EXPORT", SnapshotID: snapID, CreatedAt: t0, BytesExported: 5 << 20, NumDocs: 4200, Job: &ij},
		},
		RunsPager: Pager{Page: 1},
		Trigger: &IngestionForm{FormCommon: formCommon(), ProjectID: groupID, PipelineName: "sales", RetentionUnits: "DAYS", RetentionValue: "30",
			Snapshots: []SnapshotChoice{{ID: snapID, CreatedAt: t0}}},
		Jobs: []Job{ij},
	}
	doc := render(t, PipelinePage(v))
	checkAccessible(t, doc)
	run := byTestID(doc, "run-row")
	gotRun := []string{text(byTestID(run, "run-phase")), attr(t, byTestID(run, "state-badge"), "data-state"), text(byTestID(run, "run-bytes")), text(byTestID(run, "run-docs"))}
	if diff := cmp.Diff([]string{"export", "IN_PROGRESS", "5 MiB", "4,200"}, gotRun); diff != "" {
		t.Errorf("run row (-want +got):\n%s", diff)
	}
	if got := attr(t, run.Find("a").First(), "href"); got != "/projects/"+groupID+"/pipelines/sales/runs/"+runID {
		t.Errorf("run link = %q", got)
	}
	if byTestID(doc, "snapshot-picker").Find("option").Length() != 2 {
		t.Error("trigger form does not offer the available snapshots")
	}
	if got := text(byTestID(doc, "pipeline-sink")); got != "DLS · AWS partitioned by region, day" {
		t.Errorf("sink = %q", got)
	}
	live, _ := url.Parse(attr(t, byTestID(doc, "live"), "sse-connect"))
	if !cmp.Equal(live.Query(), url.Values{"project": {groupID}, "pipeline": {"sales"}}) {
		t.Errorf("sse-connect = %s", live)
	}

	v.Runs, v.Jobs = nil, nil
	v.Pipeline.State = "PAUSED"
	v.Trigger.DisabledReason = "This pipeline is paused. A project owner must resume it in Atlas before it can ingest."
	doc = render(t, PipelinePage(v))
	checkAccessible(t, doc)
	if !strings.Contains(text(byTestID(doc, "runs-empty")), "Trigger an ingestion above") {
		t.Errorf("runs-empty = %q", text(byTestID(doc, "runs-empty")))
	}
	if _, ok := byTestID(doc, "ingest-submit").Attr("disabled"); !ok || !strings.Contains(text(byTestID(doc, "disabled-reason")), "paused") {
		t.Error("a paused pipeline can be triggered")
	}
}

func TestPipelineRunAndUnavailablePages(t *testing.T) {
	r := PipelineRun{ID: runID, State: "FAILED", Phase: "INGESTION", SnapshotID: snapID, DatasetName: "v1$atlas$snapshot$Cluster0$shop$orders$20260301T100000Z",
		CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), ScheduledDeletion: t0.Add(30 * 24 * time.Hour), NumDocs: 10, Retention: Retention{"DAYS", 30}}
	doc := render(t, PipelineRunPage(PipelineRunView{Page: testPage("run"), Project: Project{ID: groupID}, PipelineName: "sales", Run: r}))
	checkAccessible(t, doc)
	if byTestID(doc, "run-failed").Length() != 1 || text(byTestID(doc, "run-dataset")) != r.DatasetName {
		t.Error("failed run page lacks the failure note or the dataset")
	}
	doc = render(t, PipelinesUnavailablePage(PipelinesUnavailableView{Page: testPage("sales"), Project: Project{ID: groupID}, PipelineName: "sales"}))
	checkAccessible(t, doc)
	n := byTestID(doc, "pipelines-unavailable")
	if n.Length() != 1 || attr(t, n.Find("a"), "href") != "/projects/"+groupID {
		t.Error("the unavailable page does not point to the project's clusters")
	}
}

func TestNewIngestionPage(t *testing.T) {
	v := NewIngestionView{Page: testPage("Ingest"), Project: Project{ID: groupID}, Pipeline: Pipeline{Name: "sales"},
		Form: &IngestionForm{FormCommon: formCommon(), ProjectID: groupID, PipelineName: "sales", SnapshotID: snapID, Snapshots: []SnapshotChoice{{ID: snapID, CreatedAt: t0}},
			RetentionUnits: "MONTHS", RetentionValue: "3"}}
	doc := render(t, NewIngestionPage(v))
	checkAccessible(t, doc)
	if got := byTestID(doc, "snapshot-picker").Find("option[selected]").AttrOr("value", ""); got != snapID {
		t.Errorf("prefilled snapshot = %q", got)
	}
	if got := doc.Find(`select[name="datasetRetentionPolicy.units"] option[selected]`).AttrOr("value", ""); got != "MONTHS" {
		t.Errorf("prefilled unit = %q", got)
	}
}

func TestAuditPage(t *testing.T) {
	q := url.Values{"actor": {"ana@example.com"}, "outcome": {"denied"}, "page": {"3"}, "junk": {"<x>"}}
	v := AuditView{
		Page:   testPage("Audit"),
		Filter: q,
		Events: []AuditEvent{
			{At: t0, Actor: "Ana", ActorEmail: "ana@example.com", Action: "export.create", ProjectID: groupID, Target: "Cluster0", Outcome: "denied", RequestID: "r1", JobID: jobID},
			{At: t0.Add(-time.Hour), Actor: "Bo", Action: "snapshot.take", Outcome: "error", ErrorCode: "RATE_LIMITED"},
		},
		Pager:       Pager{Page: 3, HasNext: true},
		CanDownload: true,
	}
	doc := render(t, AuditPage(v))
	checkAccessible(t, doc)
	wantQuery := url.Values{"actor": {"ana@example.com"}, "outcome": {"denied"}}
	for id, path := range map[string]string{"download-csv": AuditCSVURL, "download-json": AuditJSONURL} {
		u, _ := url.Parse(attr(t, byTestID(doc, id), "href"))
		if u.Path != path || !cmp.Equal(u.Query(), wantQuery) {
			t.Errorf("%s = %s, want %s with only the filters", id, u, path)
		}
	}
	next, _ := url.Parse(attr(t, byTestID(doc, "pager-next"), "href"))
	if next.Query().Get("page") != "4" || next.Query().Get("actor") != "ana@example.com" || next.Query().Has("junk") {
		t.Errorf("next = %s", next)
	}
	rows := byTestID(doc, "audit-row")
	if rows.Length() != 2 || attr(t, rows.Eq(0), "data-outcome") != "denied" || !strings.Contains(text(rows.Eq(1)), "RATE_LIMITED") {
		t.Errorf("rows: %d", rows.Length())
	}
	if got := doc.Find(`select[name=outcome] option[selected]`).AttrOr("value", ""); got != "denied" {
		t.Errorf("outcome filter = %q", got)
	}

	v.CanDownload, v.Events, v.Filter, v.AllRecords = false, nil, nil, true
	doc = render(t, AuditPage(v))
	checkAccessible(t, doc)
	if byTestID(doc, "audit-downloads").Length() != 0 {
		t.Error("downloads offered without the permission")
	}
	if !strings.Contains(text(byTestID(doc, "audit-empty")), "Every action taken through Snapdesk") {
		t.Errorf("audit-empty = %q", text(byTestID(doc, "audit-empty")))
	}
	// Someone who may view no project sees why the page is empty, and
	// that their own refusals were recorded.
	v.AllRecords, v.OwnRefusals = false, 2
	doc = render(t, AuditPage(v))
	if got := text(byTestID(doc, "audit-empty")); strings.Contains(got, "Nothing has been recorded yet") || !strings.Contains(got, "you may not view any project") {
		t.Errorf("audit-empty for someone who sees nothing = %q", got)
	}
	if got := text(byTestID(doc, "audit-own-refusals")); !strings.HasPrefix(got, "2 of your requests were refused") {
		t.Errorf("own refusals = %q", got)
	}
	v.VisibleProjects = []Project{{ID: groupID, Name: "payments"}}
	doc = render(t, AuditPage(v))
	if got := text(byTestID(doc, "audit-scope")); !strings.Contains(got, "projects you may view: payments.") || !strings.Contains(got, "UTC") {
		t.Errorf("audit scope = %q", got)
	}
	errs := rules.Errors{rules.QueryAction: "Enter an action name such as snapshot.take."}
	doc = render(t, AuditPage(AuditView{Page: testPage("Audit"), Filter: url.Values{"action": {"DROP"}}, FilterErrors: errs, Actions: []string{"export.create"}}))
	checkAccessible(t, doc)
	if text(byTestID(doc, "error-action")) != errs["action"] {
		t.Error("audit filter error not shown beside the field")
	}
}
