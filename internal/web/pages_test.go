package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/poller"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

const (
	exportNewPath = clusterPath + "/exports/new"
	pipelinePath  = "/projects/" + atlassim.FixtureProjectID + "/pipelines/" + atlassim.FixturePipelineName
	portalURL     = "https://portal.example.com/backups/42?tab=exports"
)

// pagesApp is the app over a simulator the test drives: its clock, its
// API (to make more snapshots and runs than the fixtures have) and a live
// hub, so /events streams.
type pagesApp struct {
	srv   *httptest.Server
	pool  *pgxpool.Pool
	clock *atlassim.ManualClock
	sim   *atlassim.Server
	atlas *atlas.Client
	svc   *jobs.Service
	store *jobs.Store
	hub   *live.Hub
	app   *testApp
}

// sync brings the inventory (what pages read) up to date with Atlas.
func (a *pagesApp) sync(t *testing.T) { a.app.SyncNow(t) }

func newPagesApp(t *testing.T) *pagesApp {
	t.Helper()
	app := startApp(t, dbtest.New(t), appOptions{})
	return &pagesApp{srv: app.Server, pool: app.Pool, clock: app.Clock, sim: app.Sim, atlas: app.Atlas, svc: app.Jobs, store: app.Store, hub: app.Hub, app: app}
}

func byTestID(s interface {
	Find(string) *goquery.Selection
}, id string) *goquery.Selection {
	return s.Find(`[data-testid="` + id + `"]`)
}

// rowIDs are the data-<attr> values of the rows with data-testid testid.
func rowIDs(doc *goquery.Document, testid, attr string) []string {
	var ids []string
	byTestID(doc, testid).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr(attr, "")) })
	return ids
}

func getDoc(t *testing.T, c *http.Client, rawURL string, header ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	req := mustGet(rawURL)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return fetch(t, c, req)
}

func TestExportDeepLinkPrefillsTheForm(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	q := url.Values{
		rules.FieldSnapshotID:     {atlassim.FixtureScheduledSnapshotID},
		rules.FieldExportBucketID: {atlassim.FixtureAzureBucketID},
		rules.FieldCustomKey:      {"team"},
		rules.FieldCustomValue:    {"payments <core>"},
		"customData.ticket":       {"OPS-42"},
		rules.FieldReturnTo:       {portalURL},
	}
	resp, doc := getDoc(t, c, srv.URL+exportNewPath+"?"+q.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET export deep link = %d", resp.StatusCode)
	}
	f := byTestID(doc, "export-form")
	if f.Length() != 1 {
		t.Fatal("no Export form")
	}
	if got := f.AttrOr("action", ""); got != clusterPath+"/exports" {
		t.Errorf("form action = %q", got)
	}
	picker := byTestID(f, "snapshot-picker")
	if got := picker.Find("option[selected]").AttrOr("value", ""); got != atlassim.FixtureScheduledSnapshotID {
		t.Errorf("preselected snapshot = %q", got)
	}
	for _, id := range []string{atlassim.FixtureSnapshotID, atlassim.FixtureScheduledSnapshotID} {
		if picker.Find(`option[value="`+id+`"]`).Length() != 1 {
			t.Errorf("completed snapshot %s not offered", id)
		}
	}
	bucket := byTestID(f, "bucket-picker").Find("option[selected]")
	if got := []string{bucket.AttrOr("value", ""), bucket.AttrOr("data-provider", ""), strings.TrimSpace(bucket.Text())}; !cmp.Equal(got,
		[]string{atlassim.FixtureAzureBucketID, "AZURE", "AZURE · snapdeskexports"}) {
		t.Errorf("selected bucket (id, provider, label) = %q", got)
	}
	var rows [][2]string
	byTestID(f, "custom-row").Each(func(_ int, r *goquery.Selection) {
		k := r.Find(`input[name="customData.key"]`).AttrOr("value", "")
		v := r.Find(`input[name="customData.value"]`).AttrOr("value", "")
		if k != "" || v != "" {
			rows = append(rows, [2]string{k, v})
		}
	})
	if diff := cmp.Diff([][2]string{{"team", "payments <core>"}, {"ticket", "OPS-42"}}, rows); diff != "" {
		t.Errorf("custom data rows (-want +got):\n%s", diff)
	}
	if got := byTestID(f, "return-to").AttrOr("value", ""); got != portalURL {
		t.Errorf("return_to carried = %q, want %q", got, portalURL)
	}
	if doc.Find(`.field-error, [data-testid="error-return_to"]`).Length() != 0 {
		t.Errorf("a valid deep link shows errors: %q", doc.Find(".field-error").Text())
	}

	// Posting the prefilled form (no JavaScript) requests the export and
	// leads to the job, whose page offers the way back to the portal.
	v := url.Values{}
	f.Find("input[name], select[name]").Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("name", "")
		if s.Is("select") {
			v.Add(name, s.Find("option[selected]").AttrOr("value", ""))
		} else {
			v.Add(name, s.AttrOr("value", ""))
		}
	})
	resp, _ = fetch(t, c, post(srv.URL, clusterPath+"/exports", v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST the deep link's form = %d, want 303", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.Path, "/jobs/") || loc.Query().Get("return_to") != portalURL {
		t.Fatalf("redirected to %s, want the job with return_to", loc)
	}
	resp, doc = getDoc(t, c, srv.URL+loc.String())
	if resp.StatusCode != http.StatusOK || byTestID(doc, "return-to-link").AttrOr("href", "") != portalURL {
		t.Errorf("job page = %d, return link %q", resp.StatusCode, byTestID(doc, "return-to-link").AttrOr("href", ""))
	}
	if got := doc.Find("body").Text(); !strings.Contains(got, "OPS-42") || !strings.Contains(got, "team") {
		t.Error("the job does not carry the prefilled custom data")
	}
}

func TestExportDeepLinkRefusesForeignReturnTo(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	for _, rt := range []string{"https://evil.example/x", "//evil.example", "javascript:alert(1)", "http://portal.example.com/x", "https://portal.example.com@evil.example/"} {
		q := url.Values{rules.FieldSnapshotID: {atlassim.FixtureSnapshotID}, rules.FieldReturnTo: {rt}}
		resp, doc := getDoc(t, c, srv.URL+exportNewPath+"?"+q.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Errorf("return_to %q: status %d", rt, resp.StatusCode)
			continue
		}
		if n := byTestID(doc, "return-to").Length(); n != 0 {
			t.Errorf("return_to %q is carried in the form", rt)
		}
		if got := strings.TrimSpace(byTestID(doc, "error-return_to").Text()); got != form.ReturnToMessage {
			t.Errorf("return_to %q: note = %q", rt, got)
		}
	}
}

func TestExportDeepLinkSaysWhatCannotBePrefilled(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	q := url.Values{
		rules.FieldSnapshotID:     {"ffffffffffffffffffffffff"},
		rules.FieldExportBucketID: {"not-a-bucket"},
		rules.FieldCustomKey:      {"snapdesk.job"},
		rules.FieldCustomValue:    {"mine"},
	}
	resp, doc := getDoc(t, c, srv.URL+exportNewPath+"?"+q.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, field := range []string{rules.FieldSnapshotID, rules.FieldExportBucketID, rules.CustomKeyField(0)} {
		if byTestID(doc, "error-"+field).Length() != 1 {
			t.Errorf("no note beside %s", field)
		}
	}
	if byTestID(doc, "snapshot-picker").Find("option[selected]").Length() != 0 {
		t.Error("a snapshot that is not the cluster's is selected")
	}

	// Posted without a snapshot and without JavaScript, the stand-alone
	// page comes back with the snapshots to choose from.
	_, doc = getDoc(t, c, srv.URL+exportNewPath)
	v := formValues(doc, `[data-testid="export-form"]`)
	v.Set(rules.FieldExportBucketID, atlassim.FixtureAWSBucketID)
	resp, doc = fetch(t, c, post(srv.URL, clusterPath+"/exports", v))
	if resp.StatusCode != http.StatusUnprocessableEntity || byTestID(doc, "snapshot-picker").Length() != 1 || byTestID(doc, "error-"+rules.FieldSnapshotID).Length() != 1 {
		t.Errorf("export without a snapshot = %d, picker %d", resp.StatusCode, byTestID(doc, "snapshot-picker").Length())
	}
}

func TestExportDeepLinkWithHTMXOffersTheWayBack(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	q := url.Values{rules.FieldSnapshotID: {atlassim.FixtureSnapshotID}, rules.FieldExportBucketID: {atlassim.FixtureGCPBucketID}, rules.FieldReturnTo: {portalURL}}
	_, doc := getDoc(t, c, srv.URL+exportNewPath+"?"+q.Encode())
	v := formValues(doc, `[data-testid="export-form"]`)
	v.Set(rules.FieldSnapshotID, atlassim.FixtureSnapshotID)
	v.Set(rules.FieldExportBucketID, atlassim.FixtureGCPBucketID)
	req := post(srv.URL, clusterPath+"/exports", v)
	req.Header.Set("HX-Request", "true")
	resp, doc := fetch(t, c, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("htmx export = %d", resp.StatusCode)
	}
	if got := byTestID(doc, "return-to-link").AttrOr("href", ""); got != portalURL {
		t.Errorf("flash return link = %q", got)
	}
}

func TestExportDeepLinkBadPathParametersAre404(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	for _, p := range []string{
		"/projects/not-an-id/clusters/Cluster0/exports/new",
		"/projects/" + strings.ToUpper(atlassim.FixtureProjectID) + "/clusters/Cluster0/exports/new",
		"/projects/" + atlassim.FixtureProjectID + "/clusters/-bad/exports/new",
		"/projects/" + atlassim.FixtureProjectID + "/clusters/No%2FSuch/exports/new",
		"/projects/" + atlassim.FixtureProjectID + "/clusters/" + strings.Repeat("a", 65) + "/exports/new",
		"/projects/" + atlassim.FixtureProjectID + "/clusters/Nothing0/exports/new",
		"/projects/" + atlassim.FixtureProjectID + "/clusters/-bad?page=2",
		"/projects/" + atlassim.FixtureProjectID + "/pipelines/a%20b?page=2",
	} {
		resp, body := get(t, srv.URL+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
			continue
		}
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
		if got := byTestID(doc, "error-status").Text(); got != "Not found" {
			t.Errorf("GET %s: error heading %q", p, got)
		}
	}
}

// takeSnapshots has Atlas take n on-demand snapshots of the cluster, one
// after the other (Atlas takes one at a time), each completed.
func (a *pagesApp) takeSnapshots(t *testing.T, cluster string, n int) {
	t.Helper()
	for i := range n {
		if _, err := a.atlas.Snapshots.Take(context.Background(), atlassim.FixtureProjectID, cluster,
			atlas.TakeSnapshotRequest{Description: fmt.Sprintf("pager %02d", i), RetentionInDays: 7}); err != nil {
			t.Fatalf("take snapshot %d: %v", i, err)
		}
		a.clock.Advance(11 * time.Minute)
	}
}

func TestClusterSnapshotPager(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	app.takeSnapshots(t, atlassim.FixtureReplicaSetCluster, 23) // 4 fixtures + 23 = 27: pages of 25 and 2
	app.sync(t)
	c := signedIn(t, app.srv, "viewer")

	resp, first := getDoc(t, c, app.srv.URL+clusterPath)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page 1 = %d", resp.StatusCode)
	}
	page1 := rowIDs(first, "snapshot-row", "data-snapshot-id")
	if len(page1) != 25 {
		t.Fatalf("page 1 lists %d snapshots, want 25", len(page1))
	}
	if got := byTestID(first, "pager-page").Text(); got != "Page 1 of 2" {
		t.Errorf("pager says %q", got)
	}
	if byTestID(first, "pager-prev").Length() != 0 {
		t.Error("page 1 links a previous page")
	}
	next := byTestID(first, "pager-next").AttrOr("href", "")
	if next != clusterPath+"?page=2" {
		t.Fatalf("next page link = %q", next)
	}

	resp, second := getDoc(t, c, app.srv.URL+next)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page 2 = %d", resp.StatusCode)
	}
	page2 := rowIDs(second, "snapshot-row", "data-snapshot-id")
	if len(page2) != 2 {
		t.Fatalf("page 2 lists %d snapshots, want 2", len(page2))
	}
	for _, id := range page2 {
		for _, other := range page1 {
			if id == other {
				t.Errorf("snapshot %s is on both pages", id)
			}
		}
	}
	// The oldest are last: the fixtures' weekly snapshot ends the list.
	if page2[1] != "65a1b2c3d4e5f60718293e04" {
		t.Errorf("last snapshot = %s, want the oldest fixture", page2[1])
	}
	if got := byTestID(second, "pager-page").Text(); got != "Page 2 of 2" {
		t.Errorf("pager on page 2 says %q", got)
	}
	if byTestID(second, "pager-next").Length() != 0 {
		t.Error("the last page links a next page")
	}
	if got := byTestID(second, "pager-prev").AttrOr("href", ""); got != clusterPath {
		t.Errorf("previous page link = %q, want the cluster's own URL", got)
	}

	// Stable URLs: ?page=1 is page 1.
	_, again := getDoc(t, c, app.srv.URL+clusterPath+"?page=1")
	if diff := cmp.Diff(page1, rowIDs(again, "snapshot-row", "data-snapshot-id")); diff != "" {
		t.Errorf("?page=1 differs from the cluster page (-want +got):\n%s", diff)
	}

	// Past the end: 404, saying so, leading back to the last page.
	resp, past := getDoc(t, c, app.srv.URL+clusterPath+"?page=7")
	if resp.StatusCode != http.StatusNotFound || byTestID(past, "snapshots-empty").Length() != 1 {
		t.Errorf("page 7 = %d, empty note %d", resp.StatusCode, byTestID(past, "snapshots-empty").Length())
	}
	if got := byTestID(past, "pager-prev").AttrOr("href", ""); got != clusterPath+"?page=2" {
		t.Errorf("way back from page 7 = %q, want the last page", got)
	}
}

func TestClusterAndPipelineBadPageNumbers(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	for _, base := range []string{clusterPath, pipelinePath, "/projects/" + atlassim.FixtureProjectID + "/clusters/" + atlassim.FixtureShardedCluster} {
		for _, p := range []string{"0", "-1", "abc", "1.5", "1e3", "+2", "99999999999999999999", "10001", "2", "%202", "10000", "%00", "%E2%80%8B"} {
			resp, _ := get(t, srv.URL+base+"?page="+p)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s?page=%s = %d, want 404", base, p, resp.StatusCode)
			}
		}
		for _, p := range []string{"", "1", "01"} {
			resp, _ := get(t, srv.URL+base+"?page="+p)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s?page=%s = %d, want 200", base, p, resp.StatusCode)
			}
		}
	}
}

func TestPipelineRunsPager(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	ctx := context.Background()
	runs, err := app.atlas.Pipelines.ListRuns(ctx, atlassim.FixtureProjectID, atlassim.FixturePipelineName, atlas.RunsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for n := runs.TotalCount; n < 27; n++ {
		if _, err := app.atlas.Pipelines.Trigger(ctx, atlassim.FixtureProjectID, atlassim.FixturePipelineName,
			atlas.TriggerIngestionRequest{SnapshotID: atlassim.FixtureSnapshotID}); err != nil {
			t.Fatalf("trigger run %d: %v", n, err)
		}
		app.clock.Advance(time.Minute)
	}
	app.sync(t)
	c := signedIn(t, app.srv, "viewer")
	resp, first := getDoc(t, c, app.srv.URL+pipelinePath)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page 1 = %d", resp.StatusCode)
	}
	page1 := rowIDs(first, "run-row", "data-run-id")
	if len(page1) != 25 || byTestID(first, "pager-page").Text() != "Page 1 of 2" {
		t.Fatalf("page 1: %d runs, pager %q", len(page1), byTestID(first, "pager-page").Text())
	}
	next := byTestID(first, "pager-next").AttrOr("href", "")
	if next != pipelinePath+"?page=2" {
		t.Fatalf("next page link = %q", next)
	}
	resp, second := getDoc(t, c, app.srv.URL+next)
	page2 := rowIDs(second, "run-row", "data-run-id")
	if resp.StatusCode != http.StatusOK || len(page2) != 2 {
		t.Fatalf("page 2 = %d with %d runs, want 2", resp.StatusCode, len(page2))
	}
	if page2[1] != fixtureRunID {
		t.Errorf("the oldest run %s is not last on page 2: %v", fixtureRunID, page2)
	}
	if got := byTestID(second, "pager-prev").AttrOr("href", ""); got != pipelinePath {
		t.Errorf("previous page link = %q", got)
	}
	if resp, _ := getDoc(t, c, app.srv.URL+pipelinePath+"?page=3"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("page 3 = %d, want 404", resp.StatusCode)
	}
}

// sseEvent is one server-sent event: its name and its data lines joined.
type sseEvent struct{ name, data string }

// openStream opens the event stream at path and sends its events on the
// returned channel until ctx ends.
func openStream(t *testing.T, ctx context.Context, c *http.Client, rawURL string) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Jar: c.Jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("GET %s = %d %s", rawURL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 64)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ev.data = strings.Join(data, "\n")
					select {
					case out <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return out
}

// waitForEvent reads events until one named name whose data matches ok
// arrives, nudging the stream (a notification for jobID) while it waits:
// the hub's LISTEN may start after the change it should carry.
func (a *pagesApp) waitForEvent(t *testing.T, ctx context.Context, events <-chan sseEvent, jobID, name string, ok func(*goquery.Document) bool) *goquery.Document {
	t.Helper()
	nudge := time.NewTicker(250 * time.Millisecond)
	defer nudge.Stop()
	var seen []string
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("no event %s with the expected data before the timeout; saw %v", name, seen)
		case <-nudge.C:
			if _, err := a.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, live.Channel, jobID); err != nil && ctx.Err() == nil {
				t.Fatal(err)
			}
		case ev, open := <-events:
			if !open {
				t.Fatalf("the stream ended; saw %v", seen)
			}
			if !slices.Contains(seen, ev.name) {
				seen = append(seen, ev.name)
			}
			if ev.name != name {
				continue
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(ev.data))
			if err != nil {
				t.Fatal(err)
			}
			if ok(doc) {
				return doc
			}
		}
	}
}

func TestSnapshotRowFollowsItsJobLive(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "operator")
	_, doc := getDoc(t, c, app.srv.URL+clusterPath)
	v := formValues(doc, `[data-testid="take-snapshot-form"]`)
	v.Set(rules.FieldRetentionInDays, "2")
	resp, _ := fetch(t, c, post(app.srv.URL, clusterPath+"/snapshots", v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("take snapshot = %d", resp.StatusCode)
	}
	jobID := strings.TrimPrefix(resp.Header.Get("Location"), "/jobs/")
	j, err := app.store.Get(context.Background(), jobID)
	if err != nil || j.AtlasID == "" {
		t.Fatalf("job %q: %+v, %v", jobID, j, err)
	}

	// The snapshot's row on the cluster page follows the job's snapshot event.
	_, doc = getDoc(t, c, app.srv.URL+clusterPath)
	row := doc.Find(`tr[data-testid="snapshot-row"][data-snapshot-id="` + j.AtlasID + `"]`)
	if row.Length() != 1 {
		t.Fatalf("no row for the new snapshot %s", j.AtlasID)
	}
	status := byTestID(row, "snapshot-status")
	if got := status.AttrOr("sse-swap", ""); got != views.SnapshotEvent(jobID) {
		t.Errorf("status cell sse-swap = %q, want %q", got, views.SnapshotEvent(jobID))
	}
	if got := byTestID(status, "state-badge").AttrOr("data-state", ""); got != "queued" {
		t.Errorf("new snapshot status = %q", got)
	}
	stream, _ := url.Parse(byTestID(doc, "live").AttrOr("sse-connect", ""))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := openStream(t, ctx, c, app.srv.URL+stream.String())
	for app.hub.Subscribers() == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the stream never subscribed")
		case <-time.After(10 * time.Millisecond):
		}
	}
	// Atlas completes the snapshot; the poller records it.
	app.clock.Advance(time.Hour)
	if _, err := app.pool.Exec(ctx, `UPDATE jobs SET next_poll_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	pcfg := poller.DefaultConfig()
	pcfg.MinBackoff = time.Millisecond
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if st, err := poller.New(pcfg, app.svc, app.store, app.atlas, metrics.New(), log).Cycle(ctx); err != nil || st.Transitions == 0 {
		t.Fatalf("poll cycle: %+v, %v", st, err)
	}
	frag := app.waitForEvent(t, ctx, events, jobID, views.SnapshotEvent(jobID), func(d *goquery.Document) bool {
		return byTestID(d, "state-badge").AttrOr("data-state", "") == "completed"
	})
	want := views.NewExportURL(atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster) + "?snapshotId=" + j.AtlasID
	if got := byTestID(frag, "snapshot-export-link").AttrOr("href", ""); got != want {
		t.Errorf("completed snapshot's export link = %q, want %q", got, want)
	}
	// The job's own row and badge are sent too.
	app.waitForEvent(t, ctx, events, jobID, views.BadgeEvent(jobID), func(d *goquery.Document) bool {
		return byTestID(d, "state-badge").AttrOr("data-state", "") == "succeeded"
	})
}

func TestRunRowFollowsItsJobLive(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "operator")
	_, doc := getDoc(t, c, app.srv.URL+pipelinePath)
	v := formValues(doc, `[data-testid="ingest-form"]`)
	v.Set(rules.FieldSnapshotID, atlassim.FixtureSnapshotID)
	v.Set(rules.FieldRetentionUnits, "DAYS")
	v.Set(rules.FieldRetentionValue, "7")
	resp, _ := fetch(t, c, post(app.srv.URL, pipelinePath+"/runs", v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("trigger ingestion = %d", resp.StatusCode)
	}
	jobID := strings.TrimPrefix(resp.Header.Get("Location"), "/jobs/")
	j, err := app.store.Get(context.Background(), jobID)
	if err != nil || j.AtlasID == "" {
		t.Fatalf("job %q: %+v, %v", jobID, j, err)
	}
	_, doc = getDoc(t, c, app.srv.URL+pipelinePath)
	row := doc.Find(`tr[data-testid="run-row"][data-run-id="` + j.AtlasID + `"]`)
	if got := byTestID(row, "run-status").AttrOr("sse-swap", ""); got != views.RunEvent(jobID) {
		t.Fatalf("run status cell sse-swap = %q, want %q", got, views.RunEvent(jobID))
	}
	stream, _ := url.Parse(byTestID(doc, "live").AttrOr("sse-connect", ""))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := openStream(t, ctx, c, app.srv.URL+stream.String())
	app.clock.Advance(2 * time.Hour)
	if _, err := app.pool.Exec(ctx, `UPDATE jobs SET next_poll_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	pcfg := poller.DefaultConfig()
	pcfg.MinBackoff = time.Millisecond
	if st, err := poller.New(pcfg, app.svc, app.store, app.atlas, metrics.New(), slog.New(slog.NewTextHandler(io.Discard, nil))).Cycle(ctx); err != nil || st.Transitions == 0 {
		t.Fatalf("poll cycle: %+v, %v", st, err)
	}
	frag := app.waitForEvent(t, ctx, events, jobID, views.RunEvent(jobID), func(d *goquery.Document) bool {
		return byTestID(d, "state-badge").AttrOr("data-state", "") == "DONE"
	})
	if byTestID(frag, "run-docs").Text() == "0" || byTestID(frag, "run-bytes").Text() == "" {
		t.Errorf("finished run's stats: %q", frag.Text())
	}
}
