package form

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/rules"
)

const (
	snapID   = "65a1b2c3d4e5f60718293a4b"
	bucketID = "65a1b2c3d4e5f60718293a4c"
	groupID  = "5f1e2d3c4b5a69788796a5b4"
	jobID    = "0b7c3b1e-3f64-4a53-9a36-0c2f0b0d9e11"
)

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// fields lists the fields that have an error, sorted: tests compare which
// fields fail, and check the wording only where it matters.
func fields(e rules.Errors) []string {
	if e == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(e))
}

func TestParseTakeSnapshot(t *testing.T) {
	tests := []struct {
		name    string
		in      url.Values
		want    TakeSnapshot
		wantErr []string
	}{
		{"valid", vals("description", "  before migration ", "retentionInDays", "7"), TakeSnapshot{"before migration", 7}, nil},
		{"no description is fine", vals("retentionInDays", "1"), TakeSnapshot{"", 1}, nil},
		{"max retention", vals("retentionInDays", "3650"), TakeSnapshot{"", 3650}, nil},
		{"retention is required", vals("description", "x"), TakeSnapshot{Description: "x"}, []string{rules.FieldRetentionInDays}},
		{"retention zero", vals("retentionInDays", "0"), TakeSnapshot{}, []string{rules.FieldRetentionInDays}},
		{"retention too long", vals("retentionInDays", "3651"), TakeSnapshot{}, []string{rules.FieldRetentionInDays}},
		{"retention negative", vals("retentionInDays", "-3"), TakeSnapshot{}, []string{rules.FieldRetentionInDays}},
		{"retention with sign", vals("retentionInDays", "+3"), TakeSnapshot{}, []string{rules.FieldRetentionInDays}},
		{"retention fraction", vals("retentionInDays", "1.5"), TakeSnapshot{}, []string{rules.FieldRetentionInDays}},
		{"retention exponent", vals("retentionInDays", "1e3"), TakeSnapshot{}, []string{rules.FieldRetentionInDays}},
		{"retention huge", vals("retentionInDays", "99999999999999999999"), TakeSnapshot{}, []string{rules.FieldRetentionInDays}},
		{"description at limit", vals("description", strings.Repeat("é", rules.MaxDescriptionLen), "retentionInDays", "2"), TakeSnapshot{strings.Repeat("é", rules.MaxDescriptionLen), 2}, nil},
		{"description too long", vals("description", strings.Repeat("a", rules.MaxDescriptionLen+1), "retentionInDays", "2"), TakeSnapshot{Description: strings.Repeat("a", rules.MaxDescriptionLen+1), RetentionInDays: 2}, []string{rules.FieldDescription}},
		{"description with newline", vals("description", "a\nb", "retentionInDays", "2"), TakeSnapshot{Description: "a\nb", RetentionInDays: 2}, []string{rules.FieldDescription}},
		{"description invalid utf-8", vals("description", "a\xffb", "retentionInDays", "2"), TakeSnapshot{Description: "a\xffb", RetentionInDays: 2}, []string{rules.FieldDescription}},
		{"both wrong", vals("description", "a\x00", "retentionInDays", "x"), TakeSnapshot{Description: "a\x00"}, []string{rules.FieldDescription, rules.FieldRetentionInDays}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParseTakeSnapshot(tt.in)
			if diff := cmp.Diff(tt.wantErr, fields(errs)); diff != "" {
				t.Errorf("error fields (-want +got):\n%s\nerrors: %v", diff, errs)
			}
			if tt.wantErr == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseTakeSnapshot (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestRetentionMessages(t *testing.T) {
	_, errs := ParseTakeSnapshot(vals())
	if got := errs[rules.FieldRetentionInDays]; !strings.Contains(got, "Choose how many days") {
		t.Errorf("missing retention message = %q, want it to ask for a choice", got)
	}
	_, errs = ParseTakeSnapshot(vals("retentionInDays", "0"))
	if got := errs[rules.FieldRetentionInDays]; !strings.Contains(got, "1 to 3650") {
		t.Errorf("out of range message = %q, want the range", got)
	}
}

func TestParseExport(t *testing.T) {
	base := func(kv ...string) url.Values {
		return vals(append([]string{"snapshotId", snapID, "exportBucketId", bucketID}, kv...)...)
	}
	tests := []struct {
		name    string
		in      url.Values
		want    Export
		wantErr []string
	}{
		{"no custom data", base(), Export{SnapshotID: snapID, ExportBucketID: bucketID}, nil},
		{"blank rows are skipped", base("customData.key", "", "customData.value", "", "customData.key", "team", "customData.value", "payments"),
			Export{SnapshotID: snapID, ExportBucketID: bucketID, CustomData: []rules.KeyValue{{Key: "team", Value: "payments"}}}, nil},
		{"key with empty value", base("customData.key", "ticket", "customData.value", ""),
			Export{SnapshotID: snapID, ExportBucketID: bucketID, CustomData: []rules.KeyValue{{Key: "ticket", Value: ""}}}, nil},
		{"export it again ticked", base(rules.FieldExportAgain, "on"), Export{SnapshotID: snapID, ExportBucketID: bucketID, Again: true}, nil},
		{"export it again left unticked", base(rules.FieldExportAgain, ""), Export{SnapshotID: snapID, ExportBucketID: bucketID}, nil},
		{"value without key", base("customData.key", "", "customData.value", "x"), Export{}, []string{rules.CustomKeyField(0)}},
		{"duplicate key", base("customData.key", "a", "customData.value", "1", "customData.key", "a", "customData.value", "2"), Export{}, []string{rules.CustomKeyField(1)}},
		{"reserved prefix", base("customData.key", "Snapdesk.job", "customData.value", "x"), Export{}, []string{rules.CustomKeyField(0)}},
		{"key too long", base("customData.key", strings.Repeat("k", rules.MaxCustomKeyLen+1), "customData.value", "x"), Export{}, []string{rules.CustomKeyField(0)}},
		{"value too long", base("customData.key", "k", "customData.value", strings.Repeat("v", rules.MaxCustomValueLen+1)), Export{}, []string{rules.CustomValueField(0)}},
		{"value with control", base("customData.key", "k", "customData.value", "a\tb"), Export{}, []string{rules.CustomValueField(0)}},
		{"bad ids", vals("snapshotId", "nothex", "exportBucketId", strings.ToUpper(bucketID)), Export{}, []string{rules.FieldExportBucketID, rules.FieldSnapshotID}},
		{"missing ids", vals(), Export{}, []string{rules.FieldExportBucketID, rules.FieldSnapshotID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParseExport(tt.in)
			if diff := cmp.Diff(tt.wantErr, fields(errs)); diff != "" {
				t.Errorf("error fields (-want +got):\n%s\nerrors: %v", diff, errs)
			}
			if tt.wantErr == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseExport (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestParseExportCounts(t *testing.T) {
	v := vals("snapshotId", snapID, "exportBucketId", bucketID)
	for i := range rules.MaxCustomData {
		v.Add(rules.FieldCustomKey, "k"+strings.Repeat("x", i))
		v.Add(rules.FieldCustomValue, "v")
	}
	if got, errs := ParseExport(v); errs != nil || len(got.CustomData) != rules.MaxCustomData {
		t.Fatalf("%d pairs: errors %v, %d pairs kept", rules.MaxCustomData, errs, len(got.CustomData))
	}
	v.Add(rules.FieldCustomKey, "one-more")
	v.Add(rules.FieldCustomValue, "v")
	if _, errs := ParseExport(v); errs[rules.FieldCustomData] == "" {
		t.Errorf("%d pairs: errors %v, want a customData error", rules.MaxCustomData+1, errs)
	}
	// Thousands of rows are refused without looking at each.
	huge := vals("snapshotId", snapID, "exportBucketId", bucketID)
	for range 5000 {
		huge.Add(rules.FieldCustomKey, "")
	}
	if _, errs := ParseExport(huge); fields(errs) == nil || errs[rules.FieldCustomData] == "" {
		t.Errorf("5000 rows: errors %v, want a customData error", errs)
	}
}

func TestCustomDataRowsKeepPositions(t *testing.T) {
	v := vals("customData.key", "a", "customData.key", "", "customData.key", "c",
		"customData.value", " 1 ", "customData.value", "2")
	want := []rules.KeyValue{{Key: "a", Value: "1"}, {Key: "", Value: "2"}, {Key: "c", Value: ""}}
	if diff := cmp.Diff(want, CustomDataRows(v)); diff != "" {
		t.Errorf("CustomDataRows (-want +got):\n%s", diff)
	}
}

func TestParseTriggerIngestion(t *testing.T) {
	tests := []struct {
		name    string
		in      url.Values
		want    TriggerIngestion
		wantErr []string
	}{
		{"days", vals("snapshotId", snapID, rules.FieldRetentionUnits, "DAYS", rules.FieldRetentionValue, "30"), TriggerIngestion{snapID, "DAYS", 30}, nil},
		{"weeks", vals("snapshotId", snapID, rules.FieldRetentionUnits, "WEEKS", rules.FieldRetentionValue, "520"), TriggerIngestion{snapID, "WEEKS", 520}, nil},
		{"months", vals("snapshotId", snapID, rules.FieldRetentionUnits, "MONTHS", rules.FieldRetentionValue, "1"), TriggerIngestion{snapID, "MONTHS", 1}, nil},
		{"too many months", vals("snapshotId", snapID, rules.FieldRetentionUnits, "MONTHS", rules.FieldRetentionValue, "121"), TriggerIngestion{}, []string{rules.FieldRetentionValue}},
		{"lower-case unit", vals("snapshotId", snapID, rules.FieldRetentionUnits, "days", rules.FieldRetentionValue, "3"), TriggerIngestion{}, []string{rules.FieldRetentionUnits}},
		{"years unit", vals("snapshotId", snapID, rules.FieldRetentionUnits, "YEARS", rules.FieldRetentionValue, "3"), TriggerIngestion{}, []string{rules.FieldRetentionUnits}},
		{"zero", vals("snapshotId", snapID, rules.FieldRetentionUnits, "DAYS", rules.FieldRetentionValue, "0"), TriggerIngestion{}, []string{rules.FieldRetentionValue}},
		{"float", vals("snapshotId", snapID, rules.FieldRetentionUnits, "DAYS", rules.FieldRetentionValue, "1.0"), TriggerIngestion{}, []string{rules.FieldRetentionValue}},
		{"nothing", vals(), TriggerIngestion{}, []string{rules.FieldRetentionUnits, rules.FieldRetentionValue, rules.FieldSnapshotID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParseTriggerIngestion(tt.in)
			if diff := cmp.Diff(tt.wantErr, fields(errs)); diff != "" {
				t.Errorf("error fields (-want +got):\n%s\nerrors: %v", diff, errs)
			}
			if tt.wantErr == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseTriggerIngestion (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{jobID, jobID, true},
		{" " + strings.ToUpper(jobID) + " ", jobID, true},
		{"", "", false},
		{"0b7c3b1e3f644a539a360c2f0b0d9e11", "", false},
		{"0b7c3b1e-3f64-4a53-9a36-0c2f0b0d9e1g", "", false},
		{"{0b7c3b1e-3f64-4a53-9a36-0c2f0b0d9e11}", "", false},
	}
	for _, tt := range tests {
		got, err := ParseIdempotencyKey(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseIdempotencyKey(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseAction(t *testing.T) {
	p, err := NewReturnPolicy([]string{"portal.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	a, errs := ParseAction(vals(rules.FieldIdempotencyKey, jobID, rules.FieldReturnTo, "https://portal.example.com/backups?x=1"), p)
	if errs != nil || a != (Action{jobID, "https://portal.example.com/backups?x=1"}) {
		t.Errorf("valid action = %+v, %v", a, errs)
	}
	a, errs = ParseAction(vals(rules.FieldReturnTo, "https://evil.example/"), p)
	if diff := cmp.Diff([]string{rules.FieldIdempotencyKey, rules.FieldReturnTo}, fields(errs)); diff != "" || a.ReturnTo != "" {
		t.Errorf("bad action: %+v; error fields (-want +got):\n%s", a, diff)
	}
	rt, errs := ParseReturnTo(vals(rules.FieldReturnTo, "//evil.example"), p)
	if rt != "" || errs[rules.FieldReturnTo] != ReturnToMessage {
		t.Errorf("ParseReturnTo(//evil.example) = %q, %v", rt, errs)
	}
}
