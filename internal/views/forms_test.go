package views

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/web/form"
)

// A portal deep link prefills the Take snapshot page; the expiry for the
// prefilled retention is shown; return_to is carried in a hidden field.
func TestNewSnapshotPagePrefilledFromDeepLink(t *testing.T) {
	q, _ := url.ParseQuery("description=before+migration+%3Cb%3E&retentionInDays=7&return_to=https%3A%2F%2Fportal.example.com%2Fx")
	policy, _ := form.NewReturnPolicy([]string{"portal.example.com"})
	rt, errs := form.ParseReturnTo(q, policy)
	v := NewSnapshotView{
		Page:    testPage("Take snapshot"),
		Project: Project{ID: groupID, Name: "payments"},
		Cluster: Cluster{Name: "Cluster0", Type: "REPLICASET", State: "IDLE", BackupEnabled: true},
		Form: SnapshotForm{
			FormCommon:      FormCommon{ReturnTo: rt, Errors: errs},
			ProjectID:       groupID,
			ClusterName:     "Cluster0",
			Description:     q.Get("description"),
			RetentionInDays: q.Get("retentionInDays"),
			Now:             t0,
		},
	}
	doc := render(t, NewSnapshotPage(v))
	checkAccessible(t, doc)
	f := byTestID(doc, "take-snapshot-form")
	if got := attr(t, f, "action"); got != "/projects/"+groupID+"/clusters/Cluster0/snapshots" {
		t.Errorf("action = %q", got)
	}
	if attr(t, f, "method") != "post" || attr(t, f, "hx-target") != "this" || attr(t, f, "hx-swap") != "outerHTML" {
		t.Error("form should post plainly and with htmx, replacing itself")
	}
	if got := attr(t, f.Find(`input[name=description]`), "value"); got != "before migration <b>" {
		t.Errorf("description = %q", got)
	}
	if got := attr(t, f.Find(`input[name=retentionInDays]`), "value"); got != "7" {
		t.Errorf("retention = %q", got)
	}
	if got := attr(t, f.Find(`input[name=_csrf]`), "value"); got != "csrf-token-1" {
		t.Errorf("csrf = %q", got)
	}
	if got := attr(t, byTestID(f, "return-to"), "value"); got != "https://portal.example.com/x" {
		t.Errorf("return_to = %q", got)
	}
	if !form.ValidJobID(attr(t, byTestID(f, "idempotency-key"), "value")) {
		t.Error("no valid idempotency key")
	}
	exp := byTestID(f, "expiry-date").Find("time")
	if got := attr(t, exp, "datetime"); got != "2026-03-08T10:00:00Z" {
		t.Errorf("expiry = %q, want 7 days after %v", got, t0)
	}
	ret := f.Find(`input[name=retentionInDays]`)
	if attr(t, ret, "hx-get") != SnapshotExpiryURL || attr(t, ret, "hx-target") != "#"+attr(t, byTestID(f, "snapshot-expiry"), "id") {
		t.Error("retention field does not ask for the expiry as it is typed")
	}
	if !strings.Contains(attr(t, ret, "aria-describedby"), attr(t, byTestID(f, "snapshot-expiry"), "id")) {
		t.Error("retention field is not described by the expiry")
	}
	if doc.Find("tbody#"+JobFeedID).Length() != 1 || doc.Find("#"+JobFeedEmptyID).Length() != 1 {
		t.Error("the stand-alone page needs the job feed new jobs go to")
	}
	live, _ := url.Parse(attr(t, byTestID(doc, "live"), "sse-connect"))
	if !cmp.Equal(live.Query(), url.Values{"project": {groupID}, "cluster": {"Cluster0"}}) {
		t.Errorf("sse-connect = %s", live)
	}
}

func TestDeepLinkWithForeignReturnTo(t *testing.T) {
	policy, _ := form.NewReturnPolicy([]string{"portal.example.com"})
	rt, errs := form.ParseReturnTo(url.Values{"return_to": {"https://evil.example/"}}, policy)
	doc := render(t, TakeSnapshot(SnapshotForm{FormCommon: FormCommon{ReturnTo: rt, Errors: errs}, ProjectID: groupID, ClusterName: "c"}))
	if byTestID(doc, "return-to").Length() != 0 {
		t.Error("a refused return_to is carried in the form")
	}
	if got := text(byTestID(doc, "error-return_to")); got != form.ReturnToMessage {
		t.Errorf("refusal note = %q", got)
	}
}

func TestTakeSnapshotFieldErrors(t *testing.T) {
	vals := url.Values{"description": {"a\nb"}, "retentionInDays": {"0"}}
	_, errs := form.ParseTakeSnapshot(vals)
	key := form.NewIdempotencyKey()
	f := SnapshotForm{FormCommon: FormCommon{CSRFToken: "t", IdempotencyKey: key, Errors: errs}, ProjectID: groupID, ClusterName: "c",
		Description: vals.Get("description"), RetentionInDays: "0", Now: t0}
	doc := render(t, TakeSnapshot(f))
	checkAccessible(t, doc)
	for _, name := range []string{form.FieldDescription, form.FieldRetentionInDays} {
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
	c := Cluster{Name: "Cluster0", State: "IDLE", BackupEnabled: true}
	reason, blocking := TakeSnapshotBlocked(c, nil, []Job{snapshotJob()})
	doc := render(t, TakeSnapshot(SnapshotForm{ProjectID: groupID, ClusterName: "Cluster0", DisabledReason: reason, BlockingJobID: blocking}))
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

func TestTakeSnapshotBlocked(t *testing.T) {
	idle := Cluster{Name: "c", State: "IDLE", BackupEnabled: true}
	done := snapshotJob()
	done.State = "succeeded"
	atlasRunning := Snapshot{ID: snapID, SnapshotType: "onDemand", Status: "inProgress"}
	scheduledRunning := Snapshot{ID: snapID, SnapshotType: "scheduled", Status: "inProgress"}
	tests := []struct {
		name      string
		c         Cluster
		snaps     []Snapshot
		jobs      []Job
		wantWords string
		wantJob   string
	}{
		{"free", idle, []Snapshot{scheduledRunning}, []Job{done}, "", ""},
		{"backup off", Cluster{State: "IDLE"}, nil, nil, "Backup is off", ""},
		{"paused", Cluster{State: "IDLE", BackupEnabled: true, Paused: true}, nil, nil, "paused", ""},
		{"updating", Cluster{State: "UPDATING", BackupEnabled: true}, nil, nil, "This cluster is updating", ""},
		{"snapdesk job", idle, nil, []Job{snapshotJob()}, "still in progress", jobID2},
		{"atlas on-demand", idle, []Snapshot{atlasRunning}, nil, "already queued or in progress", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, job := TakeSnapshotBlocked(tt.c, tt.snaps, tt.jobs)
			if (tt.wantWords == "") != (reason == "") || !strings.Contains(reason, tt.wantWords) || job != tt.wantJob {
				t.Errorf("TakeSnapshotBlocked = %q, %q; want words %q and job %q", reason, job, tt.wantWords, tt.wantJob)
			}
		})
	}
}

func TestSnapshotExpiry(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"30", "2026-03-31T10:00:00Z"},
		{"", ""},
		{"0", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		doc := render(t, SnapshotExpiry(t0, tt.raw))
		got := doc.Find("time").AttrOr("datetime", "")
		if got != tt.want {
			t.Errorf("SnapshotExpiry(%q) time = %q, want %q", tt.raw, got, tt.want)
		}
		if tt.want == "" && !strings.Contains(text(doc.Selection), "1 to 3650") {
			t.Errorf("SnapshotExpiry(%q) = %q, want the range", tt.raw, text(doc.Selection))
		}
	}
}

func TestExportForm(t *testing.T) {
	v := url.Values{
		"snapshotId": {snapID}, "exportBucketId": {bucketID},
		"customData.key": {"team", "team", ""}, "customData.value": {"payments", "x", "orphan"},
	}
	_, errs := form.ParseExport(v)
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
		CustomData:     form.CustomDataRows(v),
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
	// flagged beside their own inputs.
	for i, field := range map[int]string{1: form.CustomKeyField(1), 2: form.CustomKeyField(2)} {
		in := rows.Eq(i).Find(`input[name="customData.key"]`)
		errEl := byTestID(rows.Eq(i), "error-"+field)
		if errEl.Length() != 1 || attr(t, in, "aria-describedby") != attr(t, errEl, "id") || attr(t, in, "aria-invalid") != "true" {
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
	v := NewExportView{Page: testPage("Export"), Project: Project{ID: groupID}, ClusterName: "Cluster0", Form: ExportForm{
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
	v := url.Values{"snapshotId": {snapID}, form.FieldRetentionUnits: {"YEARS"}, form.FieldRetentionValue: {"0"}}
	_, errs := form.ParseTriggerIngestion(v)
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
	for _, name := range []string{form.FieldRetentionUnits, form.FieldRetentionValue} {
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
