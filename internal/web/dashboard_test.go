package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

const clusterPath = "/projects/" + atlassim.FixtureProjectID + "/clusters/" + atlassim.FixtureReplicaSetCluster

func fetch(t *testing.T, c *http.Client, req *http.Request) (*http.Response, *goquery.Document) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc
}

func formValues(doc *goquery.Document, sel string) url.Values {
	v := url.Values{}
	doc.Find(sel + " input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		v.Set(name, val)
	})
	return v
}

func post(srvURL, path string, v url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, srvURL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func TestTakeSnapshotWithoutJavaScript(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+clusterPath, nil)
	resp, doc := fetch(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("cluster page = %d", resp.StatusCode)
	}
	if doc.Find(`[data-testid="take-snapshot-form"]`).Length() != 1 {
		t.Fatal("no Take snapshot form")
	}
	v := formValues(doc, `[data-testid="take-snapshot-form"]`)
	if v.Get("_csrf") == "" || v.Get("idempotency_key") == "" {
		t.Fatalf("form lacks CSRF token or idempotency key: %v", v)
	}

	// Retention must be chosen: an empty one comes back beside the field, with 422.
	v.Set("description", "before the release")
	resp, doc = fetch(t, c, post(srv.URL, clusterPath+"/snapshots", v))
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-retentionInDays"]`).Length() != 1 {
		t.Fatalf("missing retention: %d", resp.StatusCode)
	}
	if got, _ := doc.Find(`input[name="description"]`).Attr("value"); got != "before the release" {
		t.Errorf("typed description lost: %q", got)
	}

	v.Set("retentionInDays", "7")
	resp, _ = fetch(t, c, post(srv.URL, clusterPath+"/snapshots", v))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/jobs/") {
		t.Fatalf("submit = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	jobURL := resp.Header.Get("Location")
	// A double submission of the same form lands on the same job.
	resp2, _ := fetch(t, c, post(srv.URL, clusterPath+"/snapshots", v))
	if resp2.Header.Get("Location") != jobURL {
		t.Errorf("resubmission went to %q, first to %q", resp2.Header.Get("Location"), jobURL)
	}

	req, _ = http.NewRequest(http.MethodGet, srv.URL+jobURL, nil)
	resp, doc = fetch(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("job page = %d", resp.StatusCode)
	}
	if doc.Find(`[data-testid="timeline-event"]`).Length() < 2 {
		t.Errorf("timeline has %d events, want requested and queued", doc.Find(`[data-testid="timeline-event"]`).Length())
	}
	if !strings.Contains(doc.Find(`[data-testid="job-requester"]`).Text(), "Oscar Operator") {
		t.Errorf("requester = %q", doc.Find(`[data-testid="job-requester"]`).Text())
	}

	// The cluster page now shows Take snapshot disabled while it runs.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+clusterPath, nil)
	_, doc = fetch(t, c, req)
	if _, disabled := doc.Find(`[data-testid="take-snapshot-submit"]`).Attr("disabled"); !disabled {
		t.Error("Take snapshot is not disabled while a snapshot is in progress")
	}
	// The snapshot's description reads as typed; Snapdesk's marker in Atlas
	// is shown as the link to its job instead.
	if text := doc.Find("main").Text(); !strings.Contains(text, "before the release") || strings.Contains(text, "snapdesk.job=") {
		t.Errorf("cluster page description: typed text shown %v, marker shown %v",
			strings.Contains(text, "before the release"), strings.Contains(text, "snapdesk.job="))
	}
}

func TestStateChangingRequestsNeedCSRFToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	resp, _ := fetch(t, c, post(srv.URL, clusterPath+"/snapshots", url.Values{"retentionInDays": {"1"}}))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without a CSRF token = %d, want 403", resp.StatusCode)
	}
}

func TestBadPathParametersAre404(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	for _, p := range []string{
		"/projects/not-an-id",
		"/projects/" + atlassim.FixtureProjectID + "/clusters/-bad",
		"/projects/" + atlassim.FixtureProjectID + "/clusters/No%2FSuch",
		"/jobs/not-a-uuid",
		"/jobs/5d4b8f0e-0000-4000-8000-000000000000",
	} {
		resp, _ := get(t, srv.URL+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestProjectPagesShowAtlas(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	resp, body := get(t, srv.URL+"/projects/"+atlassim.FixtureProjectID)
	if resp.StatusCode != 200 {
		t.Fatalf("project page = %d", resp.StatusCode)
	}
	for _, want := range []string{atlassim.FixtureReplicaSetCluster, atlassim.FixtureShardedCluster, atlassim.FixturePipelineName} {
		if !strings.Contains(body, want) {
			t.Errorf("project page lacks %s", want)
		}
	}
	resp, body = get(t, srv.URL+"/projects")
	if resp.StatusCode != 200 || !strings.Contains(body, "payments") {
		t.Errorf("projects page = %d", resp.StatusCode)
	}
	resp, body = get(t, srv.URL+clusterPath)
	if resp.StatusCode != 200 || !strings.Contains(body, atlassim.FixtureSnapshotID) {
		t.Errorf("cluster page lacks the fixture snapshot (%d)", resp.StatusCode)
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("security headers missing")
	}
}

// actionForm returns the hidden fields of the first form whose action ends with suffix.
func actionForm(t *testing.T, doc *goquery.Document, suffix string) (string, url.Values) {
	t.Helper()
	var action string
	v := url.Values{}
	doc.Find("form").EachWithBreak(func(_ int, f *goquery.Selection) bool {
		a, _ := f.Attr("action")
		if !strings.HasSuffix(a, suffix) {
			return true
		}
		action = a
		f.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
			name, _ := s.Attr("name")
			val, _ := s.Attr("value")
			v.Set(name, val)
		})
		return false
	})
	if action == "" {
		t.Fatalf("no form posting to …%s", suffix)
	}
	return action, v
}

func TestExportAndIngestFromTheClusterPage(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+clusterPath, nil)
	_, doc := fetch(t, c, req)

	action, v := actionForm(t, doc, "/exports")
	v.Set("snapshotId", atlassim.FixtureSnapshotID)
	v.Set("exportBucketId", atlassim.FixtureGCPBucketID)
	v.Add("customData.key", "ticket")
	v.Add("customData.value", "OPS-7")
	resp, _ := fetch(t, c, post(srv.URL, action, v))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/jobs/") {
		t.Fatalf("export = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Its page names the bucket and when the snapshot was taken, from what the job recorded.
	_, jobDoc := fetch(t, c, mustGet(srv.URL+resp.Header.Get("Location")))
	if facts := jobDoc.Find(`[data-testid="job-facts"]`).Text(); !strings.Contains(facts, "GCP") || !strings.Contains(facts, "snapdesk-exports-gcp") {
		t.Errorf("export job facts lack the bucket's provider and name: %q", facts)
	}
	if snap := jobDoc.Find(`[data-testid="lineage-snapshot"] time`).Length(); snap == 0 {
		t.Error("the lineage does not say when the snapshot was taken")
	}
	// The same snapshot to the same bucket again is refused with the reason, nothing lost.
	v.Set("idempotency_key", "8a0a4a5e-3c56-4a43-9f0f-3f0c1f1b2a10")
	resp, doc2 := fetch(t, c, post(srv.URL, action, v))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc2.Text(), "already being exported") {
		t.Errorf("second export = %d", resp.StatusCode)
	}

	action, v = actionForm(t, doc, "/runs")
	v.Set("snapshotId", atlassim.FixtureSnapshotID)
	v.Set("datasetRetentionPolicy.units", "WEEKS")
	v.Set("datasetRetentionPolicy.value", "2")
	resp, _ = fetch(t, c, post(srv.URL, action, v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ingestion = %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+resp.Header.Get("Location"), nil)
	resp, doc = fetch(t, c, req)
	if resp.StatusCode != 200 || doc.Find(`[data-testid="job-pipeline"]`).Text() != atlassim.FixturePipelineName {
		t.Errorf("ingestion job page = %d, pipeline %q", resp.StatusCode, doc.Find(`[data-testid="job-pipeline"]`).Text())
	}
}

func TestAuditPageAndDownloads(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+clusterPath, nil)
	_, doc := fetch(t, c, req)
	_, v := actionForm(t, doc, "/snapshots")
	v.Set("retentionInDays", "3")
	if resp, _ := fetch(t, c, post(srv.URL, clusterPath+"/snapshots", v)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("snapshot = %d", resp.StatusCode)
	}
	resp, body := get(t, srv.URL+"/audit?outcome=ok")
	if resp.StatusCode != 200 || !strings.Contains(body, "snapshot.take") {
		t.Fatalf("audit page = %d, lacks the action", resp.StatusCode)
	}
	// Operators read the trail; only admins download it.
	if resp, _ := fetch(t, c, mustGet(srv.URL+"/audit.csv")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("operator's CSV download = %d, want 403", resp.StatusCode)
	}
	admin := signedIn(t, srv, "admin")
	download := func(path string) (*http.Response, string) {
		resp, err := admin.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body = download("/audit.csv?project=" + atlassim.FixtureProjectID)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || strings.Count(body, "\n") != 3 {
		t.Errorf("CSV = %d %q:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = download("/audit.json?action=snapshot.take")
	if resp.StatusCode != 200 || strings.Count(body, "\n") != 1 || !strings.Contains(body, `"errorCode"`) {
		t.Errorf("JSON = %d:\n%s", resp.StatusCode, body)
	}
}

func TestPipelinePages(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	base := "/projects/" + atlassim.FixtureProjectID + "/pipelines/" + atlassim.FixturePipelineName
	resp, body := get(t, srv.URL+base)
	if resp.StatusCode != 200 || !strings.Contains(body, fixtureRunID) || !strings.Contains(body, atlassim.FixtureSnapshotID) {
		t.Fatalf("pipeline page = %d, lacks the run or the snapshot choice", resp.StatusCode)
	}
	resp, body = get(t, srv.URL+base+"/runs/"+fixtureRunID)
	if resp.StatusCode != 200 || !strings.Contains(body, fixtureRunID) {
		t.Errorf("run page = %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv.URL+base+"/runs/zzz"); resp.StatusCode != 404 {
		t.Errorf("bad run id = %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, srv.URL+"/projects/"+atlassim.FixtureProjectID+"/pipelines/a%20b"); resp.StatusCode != 404 {
		t.Errorf("bad pipeline name = %d, want 404", resp.StatusCode)
	}
}

// fixtureRunID is the finished run the simulator's fixtures give the pipeline.
const fixtureRunID = "65a1b2c3d4e5f60718294001"

func mustGet(u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// TestPipelinePageFetchesThePipelineOnce: the page reads its pipeline from
// the inventory: it asks Atlas nothing at all.
func TestPipelinePageFetchesThePipelineOnce(t *testing.T) {
	t.Parallel()
	a := startApp(t, dbtest.New(t), appOptions{})
	c := signedIn(t, a.Server, "operator")
	before := a.Sim.Calls()
	resp, doc := fetch(t, c, mustGet(a.Server.URL+"/projects/"+atlassim.FixtureProjectID+"/pipelines/"+atlassim.FixturePipelineName))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pipeline page = %d", resp.StatusCode)
	}
	after := a.Sim.Calls()
	if n := after["listGroupPipelines"] - before["listGroupPipelines"]; n != 0 {
		t.Errorf("the pipeline page listed every pipeline %d times", n)
	}
	for op, n := range after {
		if n != before[op] {
			t.Errorf("the pipeline page called Atlas's %s %d times, want none", op, n-before[op])
		}
	}
	if !strings.Contains(doc.Text(), atlassim.FixtureReplicaSetCluster) {
		t.Error("the page no longer names the pipeline's source cluster")
	}
}
