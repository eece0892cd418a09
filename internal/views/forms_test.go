package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// A prefilled Take snapshot form (a portal deep link) shows what it was
// given: the description, the retention and its expiry, the key and the
// return_to the handler checked, all from its view model.
func TestTakeSnapshotPrefilled(t *testing.T) {
	key := rules.NewIdempotencyKey()
	f := SnapshotForm{
		FormCommon:      FormCommon{CSRFToken: "csrf-token-1", IdempotencyKey: key, ReturnTo: "https://portal.example.com/x"},
		ProjectID:       groupID,
		ClusterName:     "Cluster0",
		Description:     "before migration <b>",
		RetentionInDays: "7",
		Expiry:          ExpiryPreview{ExpiresAt: t0.AddDate(0, 0, 7), Typed: true},
	}
	doc := render(t, TakeSnapshot(f))
	checkAccessible(t, doc)
	fe := byTestID(doc, "take-snapshot-form")
	if got := attr(t, fe, "action"); got != "/projects/"+groupID+"/clusters/Cluster0/snapshots" {
		t.Errorf("action = %q", got)
	}
	if attr(t, fe, "method") != "post" || attr(t, fe, "hx-target") != "this" || attr(t, fe, "hx-swap") != "outerHTML" {
		t.Error("form should post plainly and with htmx, replacing itself")
	}
	if got := attr(t, fe.Find(`input[name=description]`), "value"); got != "before migration <b>" {
		t.Errorf("description = %q", got)
	}
	if got := attr(t, fe.Find(`input[name=retentionInDays]`), "value"); got != "7" {
		t.Errorf("retention = %q", got)
	}
	if got := attr(t, fe.Find(`input[name=_csrf]`), "value"); got != "csrf-token-1" {
		t.Errorf("csrf = %q", got)
	}
	if got := attr(t, byTestID(fe, "return-to"), "value"); got != "https://portal.example.com/x" {
		t.Errorf("return_to = %q", got)
	}
	if got := attr(t, byTestID(fe, "idempotency-key"), "value"); got != key {
		t.Errorf("idempotency key = %q, want the view model's %q", got, key)
	}
	exp := byTestID(fe, "expiry-date").Find("time")
	if got := attr(t, exp, "datetime"); got != "2026-03-08T10:00:00Z" {
		t.Errorf("expiry = %q, want 7 days after %v", got, t0)
	}
	ret := fe.Find(`input[name=retentionInDays]`)
	if attr(t, ret, "hx-get") != SnapshotExpiryURL || attr(t, ret, "hx-target") != "#"+attr(t, byTestID(fe, "snapshot-expiry"), "id") {
		t.Error("retention field does not ask for the expiry as it is typed")
	}
	if !strings.Contains(attr(t, ret, "aria-describedby"), attr(t, byTestID(fe, "snapshot-expiry"), "id")) {
		t.Error("retention field is not described by the expiry")
	}
}

func TestDeepLinkWithForeignReturnTo(t *testing.T) {
	const refused = "The link back to where you came from points to a site Snapdesk is not allowed to send you to, so it is not offered."
	errs := rules.Errors{rules.FieldReturnTo: refused}
	doc := render(t, TakeSnapshot(SnapshotForm{FormCommon: FormCommon{Errors: errs}, ProjectID: groupID, ClusterName: "c"}))
	if byTestID(doc, "return-to").Length() != 0 {
		t.Error("a refused return_to is carried in the form")
	}
	if got := text(byTestID(doc, "error-return_to")); got != refused {
		t.Errorf("refusal note = %q", got)
	}
}

func TestTakeSnapshotFieldErrors(t *testing.T) {
	errs := rules.Errors{rules.FieldDescription: rules.CheckDescription("a\nb"), rules.FieldRetentionInDays: rules.CheckRetentionDays(0)}
	key := rules.NewIdempotencyKey()
	f := SnapshotForm{FormCommon: FormCommon{CSRFToken: "t", IdempotencyKey: key, Errors: errs}, ProjectID: groupID, ClusterName: "c",
		Description: "a\nb", RetentionInDays: "0", Expiry: ExpiryPreview{Typed: true}}
	doc := render(t, TakeSnapshot(f))
	checkAccessible(t, doc)
	for _, name := range []string{rules.FieldDescription, rules.FieldRetentionInDays} {
		in := doc.Find(`input[name="` + name + `"]`)
		if attr(t, in, "aria-invalid") != "true" {
			t.Errorf("%s not marked invalid", name)
		}
		errEl := byTestID(doc, "error-"+name)
		if text(errEl) != errs[name] {
			t.Errorf("%s error = %q, want %q", name, text(errEl), errs[name])
		}
		if !strings.Contains(" "+attr(t, in, "aria-describedby")+" ", " "+attr(t, errEl, "id")+" ") {
			t.Errorf("%s aria-describedby %q does not name its error %q", name, attr(t, in, "aria-describedby"), attr(t, errEl, "id"))
		}
	}
	if got := attr(t, byTestID(doc, "idempotency-key"), "value"); got != key {
		t.Errorf("form shown again with errors has key %q, want the submitted %q", got, key)
	}
	if byTestID(doc, "expiry-date").Length() != 0 {
		t.Error("an invalid retention shows an expiry")
	}
}

func TestTakeSnapshotDisabledWithReason(t *testing.T) {
	reason := "A snapshot requested through Snapdesk is still in progress."
	doc := render(t, TakeSnapshot(SnapshotForm{ProjectID: groupID, ClusterName: "Cluster0", DisabledReason: reason, BlockingJobID: jobID2}))
	checkAccessible(t, doc)
	btn := byTestID(doc, "take-snapshot-submit")
	if _, ok := btn.Attr("disabled"); !ok {
		t.Fatal("Take snapshot is enabled while a snapshot is in progress")
	}
	why := byTestID(doc, "disabled-reason")
	if !strings.Contains(text(why), "still in progress") {
		t.Errorf("reason = %q", text(why))
	}
	if attr(t, btn, "aria-describedby") != attr(t, why, "id") {
		t.Error("the disabled button is not described by the reason")
	}
	if got := attr(t, byTestID(doc, "blocking-job"), "href"); got != "/jobs/"+jobID2 {
		t.Errorf("blocking job link = %q", got)
	}
	doc.Find("input:not([type=hidden])").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("disabled"); !ok {
			t.Errorf("input %s enabled in a disabled form", s.AttrOr("name", ""))
		}
	})
}

func TestSnapshotExpiry(t *testing.T) {
	tests := []struct {
		p    ExpiryPreview
		want string
	}{
		{ExpiryPreview{ExpiresAt: t0.AddDate(0, 0, 30), Typed: true}, "2026-03-31T10:00:00Z"},
		{ExpiryPreview{}, ""},
		{ExpiryPreview{Typed: true}, ""},
	}
	for _, tt := range tests {
		doc := render(t, SnapshotExpiry(tt.p))
		got := doc.Find("time").AttrOr("datetime", "")
		if got != tt.want {
			t.Errorf("SnapshotExpiry(%+v) time = %q, want %q", tt.p, got, tt.want)
		}
		if tt.want == "" && !strings.Contains(text(doc.Selection), "1 to 3650") {
			t.Errorf("SnapshotExpiry(%+v) = %q, want the range", tt.p, text(doc.Selection))
		}
	}
}

func TestExportForm(t *testing.T) {
	typed := []rules.KeyValue{{Key: "team", Value: "payments"}, {Key: "team", Value: "x"}, {Key: "", Value: "orphan"}}
	errs := rules.CheckCustomData(typed)
	f := ExportForm{
		FormCommon:  FormCommon{CSRFToken: "t", Errors: errs},
		ProjectID:   groupID,
		ClusterName: "Cluster0",
		SnapshotID:  snapID,
		Buckets: []Bucket{
			{ID: "65a1b2c3d4e5f60718293a40", Name: "acme-backups", Provider: "AWS", Region: "us-east-1"},
			{ID: bucketID, Name: "acme-gcs", Provider: "GCP"},
		},
		ExportBucketID: bucketID,
		CustomData:     typed,
	}
	doc := render(t, ExportSnapshot(f))
	checkAccessible(t, doc)
	fe := byTestID(doc, "export-form")
	if got := attr(t, fe, "action"); got != "/projects/"+groupID+"/clusters/Cluster0/exports" {
		t.Errorf("action = %q", got)
	}
	if got := attr(t, fe.Find(`input[type=hidden][name=snapshotId]`), "value"); got != snapID {
		t.Errorf("snapshot = %q", got)
	}
	var opts []string
	byTestID(doc, "bucket-picker").Find("option").Each(func(_ int, o *goquery.Selection) { opts = append(opts, text(o)) })
	if diff := cmp.Diff([]string{"Choose a bucket…", "AWS · acme-backups (us-east-1)", "GCP · acme-gcs"}, opts); diff != "" {
		t.Errorf("bucket options (-want +got):\n%s", diff)
	}
	if got := byTestID(doc, "bucket-picker").Find("option[selected]").AttrOr("value", ""); got != bucketID {
		t.Errorf("selected bucket = %q", got)
	}
	rows := byTestID(doc, "custom-row")
	if rows.Length() != 5 {
		t.Errorf("%d custom rows, want the 3 typed and 2 blank", rows.Length())
	}
	// The duplicate key (row 2) and the value without key (row 3) are
	// flagged beside their own inputs, which are described by their
	// counter and their error.
	for i, field := range map[int]string{1: rules.CustomKeyField(1), 2: rules.CustomKeyField(2)} {
		in := rows.Eq(i).Find(`input[name="customData.key"]`)
		errEl := byTestID(rows.Eq(i), "error-"+field)
		hint := rows.Eq(i).Find(`p.hint:has([data-testid="count-customData.key"])`)
		if errEl.Length() != 1 || hint.Length() != 1 || attr(t, in, "aria-describedby") != attr(t, hint, "id")+" "+attr(t, errEl, "id") || attr(t, in, "aria-invalid") != "true" {
			t.Errorf("row %d: key error not beside and linked to its input (%q)", i+1, text(errEl))
		}
	}
	if got := attr(t, rows.Eq(2).Find(`input[name="customData.value"]`), "value"); got != "orphan" {
		t.Errorf("row 3 value = %q, want what was typed", got)
	}
	if rows.Eq(0).Find(".field-error").Length() != 0 {
		t.Error("row 1 is valid but shows an error")
	}
}

func TestExportFormWithoutBuckets(t *testing.T) {
	doc := render(t, ExportSnapshot(ExportForm{ProjectID: groupID, ClusterName: "c", SnapshotID: snapID}))
	checkAccessible(t, doc)
	if !strings.Contains(text(byTestID(doc, "no-buckets")), "no export buckets") {
		t.Errorf("no-buckets = %q", text(byTestID(doc, "no-buckets")))
	}
	if _, ok := byTestID(doc, "export-submit").Attr("disabled"); !ok {
		t.Error("Export enabled with no bucket to export to")
	}
}

func TestNewExportPageWithPicker(t *testing.T) {
	v := NewExportView{Page: testPage("Export"), Project: Project{ID: groupID}, ClusterName: "Cluster0", Form: &ExportForm{FormCommon: FormCommon{CSRFToken: "csrf-token-1"},
		ProjectID: groupID, ClusterName: "Cluster0", SnapshotID: snapID2,
		Snapshots: []SnapshotChoice{{ID: snapID, CreatedAt: t0, SnapshotType: "scheduled"}, {ID: snapID2, CreatedAt: t0.Add(time.Hour), SnapshotType: "onDemand", Description: "nightly"}},
		Buckets:   []Bucket{{ID: bucketID, Name: "b", Provider: "AZURE"}},
	}}
	doc := render(t, NewExportPage(v))
	checkAccessible(t, doc)
	sel := byTestID(doc, "snapshot-picker")
	if got := sel.Find("option[selected]").AttrOr("value", ""); got != snapID2 {
		t.Errorf("preselected snapshot = %q", got)
	}
	if got := text(sel.Find("option[selected]")); got != "2026-03-01 11:00 UTC · on demand · nightly" {
		t.Errorf("snapshot option = %q", got)
	}
	if got := attr(t, doc.Find(`input[name=_csrf]`), "value"); got != "csrf-token-1" {
		t.Errorf("page CSRF token not copied into the form: %q", got)
	}
}

func TestTriggerIngestionForm(t *testing.T) {
	errs := rules.CheckDatasetRetention("YEARS", 0)
	f := IngestionForm{
		FormCommon:     FormCommon{Errors: errs, Refusal: &Refusal{Message: AtlasErrorText("PIPELINE_PAUSED", ""), Code: "PIPELINE_PAUSED"}},
		ProjectID:      groupID,
		PipelineName:   "sales?pipe",
		SnapshotID:     snapID,
		Snapshots:      []SnapshotChoice{{ID: snapID, CreatedAt: t0}},
		RetentionUnits: "YEARS",
		RetentionValue: "0",
	}
	doc := render(t, TriggerIngestion(f))
	checkAccessible(t, doc)
	fe := byTestID(doc, "ingest-form")
	if got := attr(t, fe, "action"); got != "/projects/"+groupID+"/pipelines/sales%3Fpipe/runs" {
		t.Errorf("action = %q", got)
	}
	var units []string
	fe.Find(`select[name="datasetRetentionPolicy.units"] option`).Each(func(_ int, o *goquery.Selection) { units = append(units, o.AttrOr("value", "")) })
	if diff := cmp.Diff([]string{"", "DAYS", "WEEKS", "MONTHS"}, units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	for _, name := range []string{rules.FieldRetentionUnits, rules.FieldRetentionValue} {
		if text(byTestID(fe, "error-"+name)) != errs[name] {
			t.Errorf("%s error = %q", name, text(byTestID(fe, "error-"+name)))
		}
	}
	if got := text(byTestID(fe, "form-refusal")); !strings.Contains(got, "paused") || text(byTestID(fe, "error-code")) != "PIPELINE_PAUSED" {
		t.Errorf("refusal = %q", got)
	}

	empty := render(t, TriggerIngestion(IngestionForm{ProjectID: groupID, PipelineName: "p"}))
	if byTestID(empty, "no-snapshots").Length() != 1 {
		t.Error("no empty state without available snapshots")
	}
	if _, ok := byTestID(empty, "ingest-submit").Attr("disabled"); !ok {
		t.Error("Trigger enabled without a snapshot")
	}
}

// The htmx answer to an action: the fresh form replaces the posted one,
// the job row is inserted out of band at the top of the job feed, and the
// flash links the job and the way back.
func TestActionDoneFragment(t *testing.T) {
	fresh := TakeSnapshot(SnapshotForm{FormCommon: FormCommon{CSRFToken: "t"}, ProjectID: groupID, ClusterName: "Cluster0"})
	a := ActionDone{Job: snapshotJob(), Message: "Snapshot requested.", ReturnTo: "https://portal.example.com/x"}
	var buf strings.Builder
	if err := ActionDoneFragment(a, fresh).Render(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if !strings.HasPrefix(html, `<form id="take-snapshot"`) {
		t.Errorf("the fragment must start with the fresh form (the main swap): %.60s", html)
	}
	doc := render(t, ActionDoneFragment(a, fresh))
	tmpl := doc.Find("template")
	inner, err := goquery.NewDocumentFromReader(strings.NewReader("<table>" + mustHTML(t, tmpl) + "</table>"))
	if err != nil {
		t.Fatal(err)
	}
	tbody := inner.Find("tbody")
	if got := attr(t, tbody, "hx-swap-oob"); got != "afterbegin:#"+JobFeedID {
		t.Errorf("row hx-swap-oob = %q", got)
	}
	if tbody.Find("tr#job-"+jobID2).Length() != 1 {
		t.Errorf("template does not hold the job row: %s", mustHTML(t, tmpl))
	}
	empty := doc.Find("#" + JobFeedEmptyID)
	if _, hidden := empty.Attr("hidden"); !hidden || attr(t, empty, "hx-swap-oob") != "true" {
		t.Error("the feed's empty note is not hidden out of band")
	}
	flash := doc.Find("#flash")
	if attr(t, flash, "hx-swap-oob") != "innerHTML" {
		t.Error("flash not swapped out of band")
	}
	if attr(t, byTestID(flash, "flash-job-link"), "href") != "/jobs/"+jobID2 || attr(t, byTestID(flash, "return-to-link"), "href") != a.ReturnTo {
		t.Errorf("flash = %s", mustHTML(t, flash))
	}
}

func mustHTML(t *testing.T, s *goquery.Selection) string {
	t.Helper()
	h, err := s.Html()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Text a user typed is rendered as text, never as markup.
func TestDescriptionIsEscaped(t *testing.T) {
	s := Snapshot{ID: snapID, CreatedAt: t0, Status: "completed", Description: `<script>alert(1)</script><img src=x onerror=alert(2)>`}
	doc := render(t, ClusterPage(ClusterView{Page: testPage("c"), Project: Project{ID: groupID}, Cluster: Cluster{Name: "c"}, Snapshots: []Snapshot{s}}))
	if doc.Find("main script, main img").Length() != 0 {
		t.Error("a snapshot description became markup")
	}
	if !strings.Contains(text(byTestID(doc, "snapshot-row")), "<script>alert(1)</script>") {
		t.Error("the description is not shown as text")
	}
}
