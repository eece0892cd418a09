package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// TestJobListSortsOnTheServer: the job table's headers order the list on
// the server, as a stable URL that keeps the filters, and the pager
// keeps the order.
func TestJobListSortsOnTheServer(t *testing.T) {
	t.Parallel()
	app := newPagesApp(t)
	c := signedIn(t, app.srv, "operator")
	_, doc := getDoc(t, c, app.srv.URL+clusterPath)
	action, v := actionForm(t, doc, "/snapshots")
	v.Set("retentionInDays", "2")
	if resp, _ := fetch(t, c, post(app.srv.URL, action, v)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("snapshot = %d", resp.StatusCode)
	}
	action, v = actionForm(t, doc, "/exports")
	v.Set("snapshotId", atlassim.FixtureSnapshotID)
	v.Set("exportBucketId", atlassim.FixtureAWSBucketID)
	if resp, _ := fetch(t, c, post(app.srv.URL, action, v)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("export = %d", resp.StatusCode)
	}
	action, v = actionForm(t, doc, "/runs")
	v.Set("snapshotId", atlassim.FixtureSnapshotID)
	v.Set("datasetRetentionPolicy.units", "DAYS")
	v.Set("datasetRetentionPolicy.value", "30")
	if resp, _ := fetch(t, c, post(app.srv.URL, action, v)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ingestion = %d", resp.StatusCode)
	}

	kinds := func(doc *goquery.Document) []string {
		var out []string
		doc.Find(`[data-testid="job-row"]`).Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("data-kind", "")) })
		return out
	}
	_, doc = getDoc(t, c, app.srv.URL+"/jobs")
	if got := kinds(doc); !slices.Equal(got, []string{"ingestion", "export", "snapshot"}) {
		t.Errorf("default order = %v, want newest first", got)
	}
	if got := doc.Find(`th[aria-sort="descending"]`).AttrOr("data-sort-key", ""); got != "requested" {
		t.Errorf("column marked sorted = %q, want requested", got)
	}
	byKind := doc.Find(`[data-testid="sort-kind"]`).AttrOr("href", "")
	if byKind != "/jobs?sort=kind" {
		t.Fatalf("Job header links to %q", byKind)
	}
	_, doc = getDoc(t, c, app.srv.URL+byKind)
	if got := kinds(doc); !slices.Equal(got, []string{"export", "ingestion", "snapshot"}) {
		t.Errorf("?sort=kind = %v, want A to Z", got)
	}
	if href := doc.Find(`[data-testid="sort-kind"]`).AttrOr("href", ""); href != "/jobs?sort=-kind" {
		t.Errorf("second click links to %q, want the other way round", href)
	}
	_, doc = getDoc(t, c, app.srv.URL+"/jobs?sort=-kind")
	if got := kinds(doc); !slices.Equal(got, []string{"snapshot", "ingestion", "export"}) {
		t.Errorf("?sort=-kind = %v", got)
	}
	// Filters and order travel together.
	_, doc = getDoc(t, c, app.srv.URL+"/jobs?kind=export&sort=state")
	u, _ := url.Parse(doc.Find(`[data-testid="sort-requested"]`).AttrOr("href", ""))
	if u.Query().Get("kind") != "export" || u.Query().Has("sort") {
		t.Errorf("Requested header = %s: want the filter kept and the default order", u)
	}
	if got := doc.Find(`form[data-testid="job-filters"] input[name="sort"]`).AttrOr("value", ""); got != "state" {
		t.Errorf("filter form carries sort=%q, want state", got)
	}
	// A made-up order says so beside the filters and falls back to newest first.
	resp, doc := getDoc(t, c, app.srv.URL+"/jobs?sort=password")
	if resp.StatusCode != http.StatusOK || !strings.Contains(doc.Find(`[data-testid="error-sort"]`).Text(), "ordered by") {
		t.Errorf("?sort=password = %d, error %q", resp.StatusCode, doc.Find(`[data-testid="error-sort"]`).Text())
	}
}
