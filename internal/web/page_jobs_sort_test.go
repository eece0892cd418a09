package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// seededJob is a finished job written straight into the jobs table, so a
// test controls what the columns sort on (finished: the poller leaves it).
type seededJob struct {
	kind, state, requester string
	cluster, pipeline      string
	age                    time.Duration
}

// seedJobs writes the jobs and returns their ids, in the order given.
func seedJobs(t *testing.T, pool *pgxpool.Pool, js ...seededJob) []string {
	t.Helper()
	var ids []string
	for _, j := range js {
		id := uuid.NewString()
		var cluster, pipeline, bucket *string
		if j.cluster != "" {
			cluster = &j.cluster
		}
		if j.pipeline != "" {
			pipeline = &j.pipeline
		}
		if j.kind == "export" {
			b := atlassim.FixtureAWSBucketID
			bucket = &b
		}
		if _, err := pool.Exec(context.Background(), `INSERT INTO jobs (id, kind, project_id, cluster_name, pipeline_name,
				snapshot_id, export_bucket_id, state, created_at, finished_at, requested_by_subject, requested_by_name, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() - $9::interval, now(), $10, $11, $12)`,
			id, j.kind, atlassim.FixtureProjectID, cluster, pipeline, atlassim.FixtureSnapshotID, bucket, j.state,
			j.age.String(), "dev|"+strings.ToLower(strings.Fields(j.requester)[0]), j.requester, uuid.NewString()); err != nil {
			t.Fatalf("seed job: %v", err)
		}
		ids = append(ids, id)
	}
	return ids
}

// jobRowIDs are the ids of the job table's rows, top to bottom.
func jobRowIDs(doc *goquery.Document) []string { return rowIDs(doc, "job-row", "data-job-id") }

// sortedBy is the key of the column the page marks sorted, and how.
func sortedBy(doc *goquery.Document) (string, string) {
	th := doc.Find(`table[data-testid="job-table"] th[aria-sort="ascending"], table[data-testid="job-table"] th[aria-sort="descending"]`)
	if th.Length() != 1 {
		return "", ""
	}
	return th.AttrOr("data-sort-key", ""), th.AttrOr("aria-sort", "")
}

// TestClusterJobTableSortsOnTheServer: the cluster page's job table is
// ordered on the server by its column headers, as a stable URL that keeps
// the snapshot page the person is on, like /jobs.
func TestClusterJobTableSortsOnTheServer(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	cl := atlassim.FixtureReplicaSetCluster
	ids := seedJobs(t, app.pool,
		seededJob{kind: "snapshot", state: "succeeded", requester: "Olga Operator", cluster: cl, age: 3 * time.Hour},
		seededJob{kind: "export", state: "failed", requester: "Adam Admin", cluster: cl, age: 2 * time.Hour},
		seededJob{kind: "snapshot", state: "cancelled", requester: "Zed Zimmer", cluster: cl, age: time.Hour},
	)
	a, b, c := ids[0], ids[1], ids[2]
	// Two pages of snapshots, so the headers have a page to keep.
	app.takeSnapshots(t, cl, 23)
	app.sync(t)
	viewer := signedIn(t, app.srv, "viewer")

	for _, tc := range []struct {
		query, key, dir string
		want            []string
	}{
		{"", "requested", "descending", []string{c, b, a}},
		{"?sort=kind", "kind", "ascending", []string{b, c, a}},
		{"?sort=-kind", "kind", "descending", []string{c, a, b}},
		{"?sort=state", "state", "ascending", []string{c, b, a}},
		{"?sort=-state", "state", "descending", []string{a, b, c}},
		{"?sort=requester", "requester", "ascending", []string{b, a, c}},
		{"?sort=requested", "requested", "ascending", []string{a, b, c}},
	} {
		resp, doc := getDoc(t, viewer, app.srv.URL+clusterPath+tc.query)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", tc.query, resp.StatusCode)
			continue
		}
		if got := jobRowIDs(doc); !slices.Equal(got, tc.want) {
			t.Errorf("GET %s: rows %v, want %v", tc.query, got, tc.want)
		}
		if key, dir := sortedBy(doc); key != tc.key || dir != tc.dir {
			t.Errorf("GET %s: column marked sorted %q %q, want %q %q", tc.query, key, dir, tc.key, tc.dir)
		}
	}

	_, doc := getDoc(t, viewer, app.srv.URL+clusterPath)
	if got := byTestID(doc, "sort-kind").AttrOr("href", ""); got != clusterPath+"?sort=kind" {
		t.Errorf("Job header links to %q", got)
	}
	if got := byTestID(doc, "sort-requested").AttrOr("href", ""); got != clusterPath+"?sort=requested" {
		t.Errorf("Requested header (sorted newest first) links to %q, want oldest first", got)
	}
	if got := byTestID(doc, "pager-next").AttrOr("href", ""); got != clusterPath+"?page=2" {
		t.Errorf("snapshot pager in the default order links to %q", got)
	}
	if _, ok := doc.Find("tbody#jobs-feed").Attr("hx-get"); ok {
		t.Error("the newest-first feed reads itself again when a job is added; new rows go to its top")
	}
	_, doc = getDoc(t, viewer, app.srv.URL+clusterPath+"?sort=kind")
	if got := byTestID(doc, "sort-kind").AttrOr("href", ""); got != clusterPath+"?sort=-kind" {
		t.Errorf("second click on Job links to %q, want the other way round", got)
	}
	if got := byTestID(doc, "sort-requested").AttrOr("href", ""); got != clusterPath {
		t.Errorf("Requested header links to %q, want the default order's URL", got)
	}
	// The snapshot pager keeps the jobs' order, and the headers the snapshot page.
	if got := byTestID(doc, "pager-next").AttrOr("href", ""); got != clusterPath+"?page=2&sort=kind" {
		t.Errorf("snapshot pager links to %q, want the order kept", got)
	}
	resp, doc := getDoc(t, viewer, app.srv.URL+clusterPath+"?page=2&sort=-state")
	if resp.StatusCode != http.StatusOK || len(rowIDs(doc, "snapshot-row", "data-snapshot-id")) != 2 {
		t.Fatalf("snapshot page 2 sorted by state = %d", resp.StatusCode)
	}
	if got := jobRowIDs(doc); !slices.Equal(got, []string{a, b, c}) {
		t.Errorf("page 2, ?sort=-state: rows %v", got)
	}
	if got := byTestID(doc, "sort-state").AttrOr("href", ""); got != clusterPath+"?page=2&sort=state" {
		t.Errorf("State header on snapshot page 2 links to %q", got)
	}
	if got := byTestID(doc, "sort-requested").AttrOr("href", ""); got != clusterPath+"?page=2" {
		t.Errorf("Requested header on snapshot page 2 links to %q", got)
	}
	// A job added from the page (htmx) has the feed read itself again in its order.
	if got := doc.Find("tbody#jobs-feed").AttrOr("hx-get", ""); got != clusterPath+"?page=2&sort=-state" {
		t.Errorf("the ordered feed reads itself again from %q", got)
	}
	if got := byTestID(doc, "pager-prev").AttrOr("href", ""); got != clusterPath+"?sort=-state" {
		t.Errorf("snapshot pager back links to %q", got)
	}

	// A made-up order says so above the table, which stays newest first.
	resp, doc = getDoc(t, viewer, app.srv.URL+clusterPath+"?sort=password")
	if resp.StatusCode != http.StatusOK || !strings.Contains(byTestID(doc, "error-sort").Text(), "ordered by") {
		t.Errorf("?sort=password = %d, error %q", resp.StatusCode, byTestID(doc, "error-sort").Text())
	}
	if got := jobRowIDs(doc); !slices.Equal(got, []string{c, b, a}) {
		t.Errorf("?sort=password: rows %v, want newest first", got)
	}
	if key, dir := sortedBy(doc); key != "requested" || dir != "descending" {
		t.Errorf("?sort=password: column marked sorted %q %q", key, dir)
	}
	if _, doc = getDoc(t, viewer, app.srv.URL+clusterPath+"?sort=kind"); byTestID(doc, "error-sort").Length() != 0 {
		t.Error("a real order is reported as an error")
	}
}

// TestPipelineJobTableSortsOnTheServer: the pipeline page's ingestion jobs
// are ordered the same way, keeping the runs' page.
func TestPipelineJobTableSortsOnTheServer(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	pl := atlassim.FixturePipelineName
	ids := seedJobs(t, app.pool,
		seededJob{kind: "ingestion", state: "cancelled", requester: "Olga Operator", pipeline: pl, age: 3 * time.Hour},
		seededJob{kind: "ingestion", state: "succeeded", requester: "Adam Admin", pipeline: pl, age: 2 * time.Hour},
		seededJob{kind: "ingestion", state: "failed", requester: "Zed Zimmer", pipeline: pl, age: time.Hour},
		// Another pipeline's job is not this page's.
		seededJob{kind: "ingestion", state: "failed", requester: "Adam Admin", pipeline: "other-pipeline", age: time.Hour},
	)
	p1, p2, p3 := ids[0], ids[1], ids[2]
	viewer := signedIn(t, app.srv, "viewer")

	for _, tc := range []struct {
		query, key, dir string
		want            []string
	}{
		{"", "requested", "descending", []string{p3, p2, p1}},
		{"?sort=state", "state", "ascending", []string{p1, p3, p2}},
		{"?sort=-state", "state", "descending", []string{p2, p3, p1}},
		{"?sort=requester", "requester", "ascending", []string{p2, p1, p3}},
		{"?sort=-requester", "requester", "descending", []string{p3, p1, p2}},
		{"?sort=requested", "requested", "ascending", []string{p1, p2, p3}},
	} {
		resp, doc := getDoc(t, viewer, app.srv.URL+pipelinePath+tc.query)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", tc.query, resp.StatusCode)
			continue
		}
		if got := jobRowIDs(doc); !slices.Equal(got, tc.want) {
			t.Errorf("GET %s: rows %v, want %v", tc.query, got, tc.want)
		}
		if key, dir := sortedBy(doc); key != tc.key || dir != tc.dir {
			t.Errorf("GET %s: column marked sorted %q %q, want %q %q", tc.query, key, dir, tc.key, tc.dir)
		}
	}

	_, doc := getDoc(t, viewer, app.srv.URL+pipelinePath+"?sort=state")
	if got := byTestID(doc, "sort-state").AttrOr("href", ""); got != pipelinePath+"?sort=-state" {
		t.Errorf("second click on State links to %q", got)
	}
	if got := byTestID(doc, "sort-requester").AttrOr("href", ""); got != pipelinePath+"?sort=requester" {
		t.Errorf("Requested by header links to %q", got)
	}
	// The runs' page is kept (past the end it is a 404 page, still ordered).
	_, doc = getDoc(t, viewer, app.srv.URL+pipelinePath+"?page=3&sort=requester")
	if got := jobRowIDs(doc); !slices.Equal(got, []string{p2, p1, p3}) {
		t.Errorf("runs page 3, ?sort=requester: rows %v", got)
	}
	if got := byTestID(doc, "sort-requester").AttrOr("href", ""); got != pipelinePath+"?page=3&sort=-requester" {
		t.Errorf("Requested by header on runs page 3 links to %q", got)
	}

	resp, doc := getDoc(t, viewer, app.srv.URL+pipelinePath+"?sort=-drop%20table")
	if resp.StatusCode != http.StatusOK || !strings.Contains(byTestID(doc, "error-sort").Text(), "ordered by") {
		t.Errorf("?sort=-drop table = %d, error %q", resp.StatusCode, byTestID(doc, "error-sort").Text())
	}
	if got := jobRowIDs(doc); !slices.Equal(got, []string{p3, p2, p1}) {
		t.Errorf("bad order: rows %v, want newest first", got)
	}
}
