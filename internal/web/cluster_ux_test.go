package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/views"
)

const shardedPath = "/projects/" + atlassim.FixtureProjectID + "/clusters/" + atlassim.FixtureShardedCluster

func crumbs(doc *goquery.Document) []string {
	var out []string
	doc.Find(`[data-testid="breadcrumbs"] [data-testid="crumb"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

// TestIngestionOfferedOnlyOnItsSourceCluster: the pipeline fed by Cluster0
// is offered on Cluster0's snapshots only, prefilled with its own
// retention; a hand-made post of Sharded0's snapshot is refused with a
// message naming the source cluster, and no job is recorded.
func TestIngestionOfferedOnlyOnItsSourceCluster(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "operator")

	_, sharded := getDoc(t, c, app.srv.URL+shardedPath)
	if n := sharded.Find(`[data-testid="ingest-details"], [data-testid="ingest-form"]`).Length(); n != 0 {
		t.Errorf("Sharded0's page offers %d ingestions into a pipeline fed by Cluster0", n)
	}
	_, rs := getDoc(t, c, app.srv.URL+clusterPath)
	form := rs.Find(`[data-testid="snapshot-actions"][data-snapshot-id="` + atlassim.FixtureSnapshotID + `"] form[data-pipeline="` + atlassim.FixturePipelineName + `"]`)
	if form.Length() != 1 {
		t.Fatalf("Cluster0's completed snapshot offers %d ingest forms into %s, want 1", form.Length(), atlassim.FixturePipelineName)
	}
	if units := form.Find(`select[name="datasetRetentionPolicy.units"] option[selected]`).AttrOr("value", ""); units != "DAYS" {
		t.Errorf("ingest form's retention unit = %q, want the pipeline's DAYS", units)
	}
	if value := form.Find(`input[name="datasetRetentionPolicy.value"]`).AttrOr("value", ""); value != "30" {
		t.Errorf("ingest form's retention value = %q, want the pipeline's 30", value)
	}

	action, v := actionForm(t, rs, "/runs")
	v.Set("snapshotId", atlassim.FixtureShardedSnapshotID)
	v.Set("datasetRetentionPolicy.units", "DAYS")
	v.Set("datasetRetentionPolicy.value", "30")
	resp, doc := fetch(t, c, post(app.srv.URL, action, v))
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("ingesting another cluster's snapshot = %d, want 422", resp.StatusCode)
	}
	msg := doc.Find(`[data-testid="error-snapshotId"], [data-testid="form-refusal"]`).Text()
	if !strings.Contains(msg, "cluster "+atlassim.FixtureReplicaSetCluster+" only") || strings.Contains(msg, "expired") {
		t.Errorf("refusal = %q: want it to name the source cluster", msg)
	}
	var n int
	if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d jobs recorded (%v), want none", n, err)
	}
}

// TestPipelineShowsItsRetentionAndPartitions: Atlas's
// datasetRetentionPolicy and the sink's partition fields are shown, and the
// Trigger ingestion form starts from the pipeline's retention.
func TestPipelineShowsItsRetentionAndPartitions(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "operator")
	_, doc := getDoc(t, c, app.srv.URL+pipelinePath)
	facts := doc.Find(`[data-testid="pipeline-facts"]`)
	var retention string
	facts.Find("dt").Each(func(_ int, dt *goquery.Selection) {
		if strings.TrimSpace(dt.Text()) == "Dataset retention" {
			retention = strings.TrimSpace(dt.Next().Text())
		}
	})
	if retention != "30 days" {
		t.Errorf("dataset retention = %q, want 30 days", retention)
	}
	if sink := doc.Find(`[data-testid="pipeline-sink"]`).Text(); !strings.Contains(sink, "partitioned by customerId") {
		t.Errorf("sink = %q, want partitioned by customerId", sink)
	}
	form := doc.Find(`[data-testid="ingest-form"]`)
	if form.Find(`select[name="datasetRetentionPolicy.units"] option[selected]`).AttrOr("value", "") != "DAYS" ||
		form.Find(`input[name="datasetRetentionPolicy.value"]`).AttrOr("value", "") != "30" {
		t.Error("the Trigger ingestion form is not prefilled with the pipeline's retention")
	}
	if got := crumbs(doc); len(got) != 3 || got[0] != "Projects" || got[2] != "Pipeline "+atlassim.FixturePipelineName {
		t.Errorf("breadcrumbs = %q, want Projects › project › pipeline", got)
	}
}

// TestSnapshotPickerShowsTheDescriptionAsTyped: a snapshot taken through
// Snapdesk carries the job marker in Atlas; the Export picker shows the
// description as the person typed it.
func TestSnapshotPickerShowsTheDescriptionAsTyped(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "operator")
	_, doc := getDoc(t, c, app.srv.URL+clusterPath)
	action, v := actionForm(t, doc, "/snapshots")
	v.Set("description", "before release 7")
	v.Set("retentionInDays", "3")
	if resp, _ := fetch(t, c, post(app.srv.URL, action, v)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("take snapshot = %d", resp.StatusCode)
	}
	app.clock.Advance(30 * time.Minute) // Atlas completes it
	app.sync(t)
	_, doc = getDoc(t, c, app.srv.URL+exportNewPath)
	found := false
	doc.Find(`[data-testid="snapshot-picker"] option`).Each(func(_ int, o *goquery.Selection) {
		label := o.Text()
		if strings.Contains(label, "snapdesk.") || strings.Contains(label, "[") {
			t.Errorf("picker option shows Snapdesk's marker: %q", label)
		}
		if strings.HasSuffix(label, "before release 7") {
			found = true
		}
	})
	if !found {
		t.Errorf("no picker option ends with the description as typed; options: %q", doc.Find(`[data-testid="snapshot-picker"]`).Text())
	}
}

// TestReexportWarning: once a snapshot was exported to a bucket, its
// Export form marks that bucket and warns before a second copy.
func TestReexportWarning(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "operator")
	_, doc := getDoc(t, c, app.srv.URL+clusterPath)
	sel := `[data-testid="snapshot-actions"][data-snapshot-id="` + atlassim.FixtureSnapshotID + `"]`
	if n := doc.Find(sel + ` [data-testid="reexport-warning"]`).Length(); n != 0 {
		t.Fatal("a warning before any export")
	}
	action, v := actionForm(t, doc, "/exports")
	v.Set("snapshotId", atlassim.FixtureSnapshotID)
	v.Set("exportBucketId", atlassim.FixtureAWSBucketID)
	if resp, _ := fetch(t, c, post(app.srv.URL, action, v)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("export = %d", resp.StatusCode)
	}
	_, doc = getDoc(t, c, app.srv.URL+clusterPath)
	warn := doc.Find(sel + ` [data-testid="reexport-warning"]`)
	if warn.Length() != 1 || !strings.Contains(warn.Text(), "snapdesk-exports-aws") {
		t.Fatalf("cluster page warning = %q", warn.Text())
	}
	opt := doc.Find(sel + ` option[value="` + atlassim.FixtureAWSBucketID + `"]`)
	if opt.AttrOr("data-exported", "") != "true" || !strings.Contains(opt.Text(), "already exported") {
		t.Errorf("the AWS bucket option = %q, not marked as already exported", opt.Text())
	}
	if other := doc.Find(sel + ` option[value="` + atlassim.FixtureGCPBucketID + `"]`); other.AttrOr("data-exported", "") != "" {
		t.Error("a bucket it was never exported to is marked")
	}
	// Other snapshots are not warned about.
	if n := doc.Find(`[data-testid="reexport-warning"]`).Length(); n != 1 {
		t.Errorf("%d warnings on the page, want 1", n)
	}
	_, doc = getDoc(t, c, app.srv.URL+views.NewExportOfURL(atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, atlassim.FixtureSnapshotID))
	if doc.Find(`[data-testid="reexport-warning"]`).Length() != 1 {
		t.Error("the Export page of the snapshot does not warn")
	}
}

// TestBreadcrumbsAndAtlasLink: the job page leads back through project ›
// cluster › snapshot, and the cluster opens in the Atlas UI.
func TestBreadcrumbsAndAtlasLink(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "operator")
	_, doc := getDoc(t, c, app.srv.URL+clusterPath)
	want := "https://cloud.mongodb.com/v2/" + atlassim.FixtureProjectID + "#/clusters/detail/" + atlassim.FixtureReplicaSetCluster
	if got := doc.Find(`[data-testid="atlas-link"]`).AttrOr("href", ""); got != want {
		t.Errorf("Atlas link = %q, want %q", got, want)
	}
	action, v := actionForm(t, doc, "/exports")
	v.Set("snapshotId", atlassim.FixtureSnapshotID)
	v.Set("exportBucketId", atlassim.FixtureAWSBucketID)
	resp, _ := fetch(t, c, post(app.srv.URL, action, v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("export = %d", resp.StatusCode)
	}
	_, doc = getDoc(t, c, app.srv.URL+resp.Header.Get("Location"))
	got := crumbs(doc)
	if len(got) != 5 || got[0] != "Projects" || got[2] != atlassim.FixtureReplicaSetCluster || !strings.HasPrefix(got[3], "Snapshot of ") || !strings.HasPrefix(got[4], "Export ") {
		t.Errorf("job breadcrumbs = %q, want Projects › project › cluster › snapshot › job", got)
	}
	if href := doc.Find(`[data-testid="breadcrumbs"] a`).Eq(3).AttrOr("href", ""); href != clusterPath+"#snapshot-"+atlassim.FixtureSnapshotID {
		t.Errorf("snapshot crumb links to %q", href)
	}
	if got := doc.Find(`[data-testid="atlas-link"]`).AttrOr("href", ""); got != want {
		t.Errorf("job page's Atlas link = %q", got)
	}
	title := strings.TrimSpace(doc.Find("title").Text())
	if !strings.HasPrefix(title, "Export of the snapshot of ") || !strings.Contains(title, " of "+atlassim.FixtureReplicaSetCluster+" to snapdesk-exports-aws") {
		t.Errorf("job page title = %q, want the export named in words", title)
	}
	if n := doc.Find(`button[data-copy]`).Length(); n < 2 {
		t.Errorf("%d copy buttons on the job page, want the job id and Atlas's ids", n)
	}
}
