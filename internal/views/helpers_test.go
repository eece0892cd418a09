package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

const (
	groupID  = "5f1e2d3c4b5a69788796a5b4"
	snapID   = "65a1b2c3d4e5f60718293a4b"
	snapID2  = "65a1b2c3d4e5f60718293a4d"
	bucketID = "65a1b2c3d4e5f60718293a4c"
	runID    = "66aa00bb11cc22dd33ee44ff"
	jobID    = "0b7c3b1e-3f64-4a53-9a36-0c2f0b0d9e11"
	jobID2   = "7d3f4c1a-0e2b-4c59-8a77-5b6c7d8e9f00"
	jobID3   = "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func testPage(title string) Page {
	return Page{Title: title, CSRFToken: "csrf-token-1", Version: "v-test", User: &User{Name: "Ana"}}
}

// render renders c and parses it; a fragment is parsed as a body.
func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// renderFragment renders c as htmx would receive it and parses it inside
// a <template>, so table rows and cells keep their structure.
func renderFragment(t *testing.T, c templ.Component) *goquery.Selection {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody><tr>" + buf.String() + "</tr></tbody></table>"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc.Selection
}

func byTestID(s interface {
	Find(string) *goquery.Selection
}, id string) *goquery.Selection {
	return s.Find(`[data-testid="` + id + `"]`)
}

func attr(t *testing.T, s *goquery.Selection, name string) string {
	t.Helper()
	if s.Length() == 0 {
		t.Fatalf("no element to read %s from", name)
	}
	v, ok := s.First().Attr(name)
	if !ok {
		t.Fatalf("element has no %s attribute", name)
	}
	return v
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

// checkAccessible checks what every page must get right: unique ids, a
// label for every visible form control, aria-describedby pointing at
// elements that exist, and times shown in UTC (the one rule).
func checkAccessible(t *testing.T, doc *goquery.Document) {
	t.Helper()
	ids := map[string]int{}
	doc.Find("[id]").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		ids[id]++
	})
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	doc.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		if typ, _ := s.Attr("type"); typ == "hidden" {
			return
		}
		id, ok := s.Attr("id")
		if !ok || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			name, _ := s.Attr("name")
			t.Errorf("form control %q (id %q) has no label", name, id)
		}
	})
	// Nothing typed is cut: a limit is said and counted (charCounter),
	// never enforced by a maxlength that drops a paste's end silently.
	doc.Find("[maxlength]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		t.Errorf("field %q has a maxlength", name)
	})
	doc.Find("[aria-describedby]").Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("aria-describedby")
		for _, id := range strings.Fields(v) {
			if ids[id] == 0 {
				t.Errorf("aria-describedby names %q, which is not in the page", id)
			}
		}
	})
	doc.Find("time").Each(func(_ int, s *goquery.Selection) {
		dt, ok := s.Attr("datetime")
		if _, err := time.Parse(time.RFC3339, dt); !ok || err != nil {
			t.Errorf("<time> with datetime %q", dt)
		}
		// One rule for the whole app (TimeRule): every time is shown in
		// UTC, saying so, and no script moves it to another zone.
		if _, ok := s.Attr("data-local"); ok {
			t.Errorf("<time datetime=%q> asks the script to show it in the viewer's zone", dt)
		}
		if !strings.HasSuffix(s.Text(), " UTC") {
			t.Errorf("<time> text %q should say it is UTC", s.Text())
		}
	})
	// Every action form (sign-out and approval decisions aside) works with
	// htmx and without, once.
	doc.Find("form[method=post]:not(.signout):not(.decision)").Each(func(_ int, f *goquery.Selection) {
		action, _ := f.Attr("action")
		if hx, _ := f.Attr("hx-post"); hx != action || action == "" {
			t.Errorf("form action %q, hx-post %q: want both, equal", action, hx)
		}
		if f.Find(`input[type=hidden][name="_csrf"]`).Length() != 1 {
			t.Errorf("form %s has no _csrf field", action)
		}
		if f.Find(`input[type=hidden][name="idempotency_key"]`).Length() != 1 {
			t.Errorf("form %s has no idempotency_key field", action)
		}
	})
}

func exportJob() Job {
	return Job{
		ID: jobID, Kind: "export", State: "running", AtlasState: "InProgress",
		ProjectID: groupID, ProjectName: "payments", ClusterName: "Cluster0", SnapshotID: snapID,
		BucketName: "acme-backups", BucketProvider: "AWS", RequestedBy: "Ana",
		CreatedAt: t0, UpdatedAt: t0.Add(10 * time.Minute),
		Progress: Progress{ExportedCollections: 3, TotalCollections: 12},
	}
}

func snapshotJob() Job {
	return Job{ID: jobID2, Kind: "snapshot", State: "queued", AtlasState: "queued", ProjectID: groupID,
		ProjectName: "payments", ClusterName: "Cluster0", SnapshotID: snapID2, RequestedBy: "Ana", CreatedAt: t0.Add(time.Hour)}
}

func ingestionJob() Job {
	return Job{ID: jobID3, Kind: "ingestion", State: "succeeded", AtlasState: "DONE", ProjectID: groupID,
		PipelineName: "sales?pipe", SnapshotID: snapID, RequestedBy: "Bo", CreatedAt: t0.Add(2 * time.Hour),
		FinishedAt: t0.Add(3 * time.Hour),
		Progress:   Progress{BytesExported: 1536, NumDocs: 1234567, Phase: "INGESTION"}}
}
