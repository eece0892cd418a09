package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/views"
)

// /snapshots: every snapshot the person may see, with project names, the
// expired ones struck through, filters, and the CSV of the same list.
func TestSnapshotsPage(t *testing.T) {
	t.Parallel()
	a := startApp(t, dbtest.New(t), appOptions{})
	// A snapshot that expires two seconds from now, seen by a sync, then
	// gone when Atlas's clock (and the real one) has passed its expiry.
	short, err := a.Sim.AddSnapshot(atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, atlassim.SnapshotSpec{Retention: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a.SyncNow(t)
	a.Clock.Advance(3 * time.Second)
	time.Sleep(2100 * time.Millisecond)
	a.SyncNow(t)
	viewer := signedIn(t, a.Server, "viewer")
	resp, doc := getDoc(t, viewer, a.Server.URL+"/snapshots")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /snapshots = %d", resp.StatusCode)
	}
	lines := byTestID(doc, "snapshot-line")
	if lines.Length() == 0 {
		t.Fatal("no snapshots listed")
	}
	if !strings.Contains(lines.Text(), "payments") {
		t.Error("the project's name is not shown")
	}
	expired := doc.Find(`[data-snapshot-id="` + short + `"]`)
	if expired.Find("s").Length() == 0 || !strings.Contains(byTestID(expired, "snapshot-gone").Text(), "expired in Atlas on") {
		t.Errorf("expired snapshot not struck through with its expiry: %q", expired.Text())
	}
	if byTestID(doc, "freshness-text").Length() == 0 || !strings.Contains(byTestID(doc, "freshness-text").Text(), "Atlas data as of") {
		t.Errorf("freshness line = %q", byTestID(doc, "freshness-text").Text())
	}

	// Filters: the sharded cluster only, scheduled ones.
	q := url.Values{"cluster": {atlassim.FixtureShardedCluster}, "status": {"completed"}}
	_, doc = getDoc(t, viewer, a.Server.URL+"/snapshots?"+q.Encode())
	byTestID(doc, "snapshot-line").Each(func(_ int, s *goquery.Selection) {
		if !strings.Contains(s.Text(), atlassim.FixtureShardedCluster) {
			t.Errorf("cluster filter let through %q", s.Text())
		}
	})
	if byTestID(doc, "snapshot-line").Length() == 0 {
		t.Error("no completed snapshot of the sharded cluster")
	}
	resp, doc = getDoc(t, viewer, a.Server.URL+"/snapshots?from=yesterday")
	if resp.StatusCode != http.StatusBadRequest || byTestID(doc, "field-error").Length() == 0 {
		t.Errorf("bad date: %d, errors %q", resp.StatusCode, byTestID(doc, "field-error").Text())
	}
	if resp, _ := getDoc(t, viewer, a.Server.URL+"/snapshots?after=bogus"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bogus cursor = %d, want 404", resp.StatusCode)
	}

	// The CSV is the same list.
	req, _ := http.NewRequest(http.MethodGet, a.Server.URL+"/snapshots.csv", nil)
	resp, err = viewer.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	records, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(records) != lines.Length()+1 || records[0][0] != "project_id" {
		t.Errorf("CSV: %d records (want %d + header), %v", len(records), lines.Length(), err)
	}

	// Someone who may see only analytics sees none of payments' snapshots.
	other := signedIn(t, a.Server, "reporting-operator")
	_, doc = getDoc(t, other, a.Server.URL+"/snapshots")
	if strings.Contains(byTestID(doc, "snapshots").Text(), "payments") {
		t.Error("an analytics operator sees payments' snapshots")
	}
}

// /health: clusters rated by thresholds the page states; ?state= filters.
func TestHealthPage(t *testing.T) {
	t.Parallel()
	a := startApp(t, dbtest.New(t), appOptions{})
	viewer := signedIn(t, a.Server, "viewer")
	resp, doc := getDoc(t, viewer, a.Server.URL+"/health?project="+atlassim.FixtureProjectID+"&state=red")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /health = %d", resp.StatusCode)
	}
	if !strings.Contains(byTestID(doc, "health-thresholds").Text(), "26 hours") {
		t.Errorf("thresholds not stated: %q", byTestID(doc, "health-thresholds").Text())
	}
	states := rowIDs(doc, "health-line", "data-state")
	clusters := rowIDs(doc, "health-line", "data-cluster")
	if len(states) == 0 || !contains(clusters, atlassim.FixtureNoBackupCluster) {
		t.Errorf("red clusters = %v, want the one with backup off", clusters)
	}
	for _, s := range states {
		if s != "red" {
			t.Errorf("state filter let %s through", s)
		}
	}
}

// Refresh: a POST that syncs the project now, audited, limited per person.
func TestRefreshButton(t *testing.T) {
	t.Parallel()
	a := startApp(t, dbtest.New(t), appOptions{})
	viewer := signedIn(t, a.Server, "viewer")
	token := csrfTokenOf(t, viewer, a.Server.URL)
	post := func() int {
		resp, err := viewer.PostForm(a.Server.URL+"/projects/"+atlassim.FixtureProjectID+"/refresh", url.Values{"_csrf": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(); got != http.StatusSeeOther {
		t.Fatalf("refresh = %d, want 303 back to the project", got)
	}
	var due int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM inventory_sync WHERE project_id = $1 AND due_at <= now()`,
		atlassim.FixtureProjectID).Scan(&due); err != nil || due == 0 {
		t.Errorf("no unit of the project due after Refresh: %d, %v", due, err)
	}
	var audited int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'inventory.refresh'`).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("refresh audit records = %d, %v", audited, err)
	}
	for range 5 {
		post()
	}
	if got := post(); got != http.StatusTooManyRequests {
		t.Errorf("seventh refresh in a minute = %d, want 429", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A snapshot Atlas takes behind Snapdesk's back reaches an open cluster
// page's stream as new snapshot rows once the sync has seen it.
func TestClusterPageFollowsTheInventory(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "viewer")
	_, doc := getDoc(t, c, app.srv.URL+clusterPath)
	stream := byTestID(doc, "live").AttrOr("sse-connect", "")
	if stream == "" {
		t.Fatal("the cluster page has no event stream")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := openStream(t, ctx, c, app.srv.URL+stream)
	want := views.SnapshotsEvent(atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster)
	// Atlas takes a snapshot; the sync sees it; the page hears of it. (The
	// hub's LISTEN may come up after the first change: then another.)
	for attempt := 0; attempt < 10; attempt++ {
		id, err := app.sim.AddSnapshot(atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, atlassim.SnapshotSpec{Description: "nightly by Atlas"})
		if err != nil {
			t.Fatal(err)
		}
		app.sync(t)
		timeout := time.After(time.Second)
	wait:
		for {
			select {
			case ev := <-events:
				if ev.name != want {
					continue
				}
				frag, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + ev.data + "</tbody></table>"))
				if err != nil {
					t.Fatal(err)
				}
				if frag.Find(`[data-snapshot-id="`+id+`"]`).Length() > 0 {
					return
				}
			case <-timeout:
				break wait
			case <-ctx.Done():
				t.Fatal("no snapshots event with the new snapshot")
			}
		}
	}
	t.Fatal("no snapshots event with a new snapshot after 10 tries")
}

// Atlas down, and Atlas answering 429 to everything: every page still
// answers 200 from the inventory, with a banner saying since when.
func TestPagesAnswerFromTheInventoryWhenAtlasFails(t *testing.T) {
	t.Parallel()
	a := startApp(t, dbtest.New(t), appOptions{})
	viewer := signedIn(t, a.Server, "viewer")
	p := "/projects/" + atlassim.FixtureProjectID
	pages := []struct {
		path   string
		banner bool
	}{
		{"/projects", true},
		{p, true},
		{p + "/clusters/" + atlassim.FixtureReplicaSetCluster, true},
		{p + "/clusters/" + atlassim.FixtureShardedCluster, true},
		{p + "/clusters/" + atlassim.FixtureReplicaSetCluster + "/exports/new", false},
		{p + "/pipelines/" + atlassim.FixturePipelineName, true},
		{p + "/pipelines/" + atlassim.FixturePipelineName + "/runs/" + fixtureRunID, true},
		{"/snapshots", true},
		{"/health", true},
		{"/jobs", false},
		{"/", false},
	}
	for _, fault := range []struct {
		status  int
		problem string
	}{{503, "unreachable"}, {429, "limited"}} {
		if err := a.Sim.SetFaults(atlassim.Faults{ErrorRate: 1, ErrorStatus: fault.status}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Pool.Exec(context.Background(), `UPDATE inventory_sync SET due_at = now()`); err != nil {
			t.Fatal(err)
		}
		if st, _ := a.Sync.Cycle(context.Background()); st.Errors == 0 {
			t.Fatalf("%d: the sync saw no failure", fault.status)
		}
		calls := a.Sim.Calls()
		for _, pg := range pages {
			resp, doc := getDoc(t, viewer, a.Server.URL+pg.path)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("Atlas %d: GET %s = %d, want 200 from the inventory", fault.status, pg.path, resp.StatusCode)
				continue
			}
			banner := byTestID(doc, "atlas-banner")
			if pg.banner && (banner.Length() == 0 || banner.AttrOr("data-problem", "") != fault.problem || !strings.Contains(banner.Text(), "since")) {
				t.Errorf("Atlas %d: GET %s banner = %q (%s), want %s with since when", fault.status, pg.path, banner.Text(), banner.AttrOr("data-problem", ""), fault.problem)
			}
		}
		for op, n := range a.Sim.Calls() {
			if n != calls[op] {
				t.Errorf("Atlas %d: the pages called %s %d times", fault.status, op, n-calls[op])
			}
		}
	}
}

// Project names, from the inventory, wherever a project appears: job
// tables, the jobs and audit filters (a choice list), the audit trail.
func TestProjectNamesEverywhere(t *testing.T) {
	t.Parallel()
	a := startApp(t, dbtest.New(t), appOptions{})
	if _, err := a.Pool.Exec(context.Background(), `INSERT INTO jobs (id, kind, project_id, cluster_name, snapshot_id, state,
			finished_at, requested_by_subject, requested_by_name, idempotency_key)
		VALUES (gen_random_uuid(), 'snapshot', $1, $2, $3, 'succeeded', now(), 'dev|operator2', 'Olga Operator', gen_random_uuid()::text)`,
		atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, atlassim.FixtureSnapshotID); err != nil {
		t.Fatal(err)
	}
	admin := signedIn(t, a.Server, "admin")
	token := csrfTokenOf(t, admin, a.Server.URL)
	resp, err := admin.PostForm(a.Server.URL+"/projects/"+atlassim.FixtureProjectID+"/refresh", url.Values{"_csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, doc := getDoc(t, admin, a.Server.URL+"/jobs")
	if row := byTestID(doc, "job-row").First().Text(); !strings.Contains(row, "payments") {
		t.Errorf("job row = %q, want the project's name", row)
	}
	if opts := doc.Find(`select[name="project"] option`).Text(); !strings.Contains(opts, "payments") || !strings.Contains(opts, "analytics") {
		t.Errorf("jobs project filter choices = %q", opts)
	}
	_, doc = getDoc(t, admin, a.Server.URL+"/audit")
	if !strings.Contains(doc.Find("main").Text(), "payments") {
		t.Error("the audit trail shows no project name")
	}
}

// A page view watches what the page shows: a cluster's page its cluster, a
// project's page the project as a whole; views within half the watch's
// lifetime cost the database nothing.
func TestPagesWatchWhatTheyShow(t *testing.T) {
	t.Parallel()
	a := startApp(t, dbtest.New(t), appOptions{})
	viewer := signedIn(t, a.Server, "viewer")
	ctx := context.Background()
	watches := func() []string {
		t.Helper()
		rows, err := a.Pool.Query(ctx, `SELECT target FROM inventory_watch WHERE project_id = $1 AND watched_until > now() ORDER BY target`, atlassim.FixtureProjectID)
		if err != nil {
			t.Fatal(err)
		}
		targets, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return targets
	}
	project := a.Server.URL + "/projects/" + atlassim.FixtureProjectID
	for _, u := range []string{project, project + "/clusters/" + atlassim.FixtureReplicaSetCluster} {
		if resp, _ := getDoc(t, viewer, u); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", u, resp.StatusCode)
		}
	}
	if got, want := watches(), []string{"", atlassim.FixtureReplicaSetCluster}; !slices.Equal(got, want) {
		t.Fatalf("watched targets = %q, want %q", got, want)
	}
	if _, err := a.Pool.Exec(ctx, `DELETE FROM inventory_watch`); err != nil {
		t.Fatal(err)
	}
	getDoc(t, viewer, project+"/clusters/"+atlassim.FixtureReplicaSetCluster)
	if got := watches(); len(got) != 0 {
		t.Errorf("a second view within seconds wrote the watch again: %q", got)
	}
}
