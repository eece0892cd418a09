package views

import (
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/rules"
)

func TestHumanize(t *testing.T) {
	for in, want := range map[string]string{
		"inProgress": "in progress", "IN_PROGRESS": "in progress", "awaiting_approval": "awaiting approval",
		"Successful": "successful", "DATASET_DELETED": "dataset deleted", "onDemand": "on demand", "": "",
	} {
		if got := humanize(in); got != want {
			t.Errorf("humanize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadgeClass(t *testing.T) {
	for in, want := range map[string]string{
		"succeeded": "succeeded", "completed": "succeeded", "Successful": "succeeded", "DONE": "succeeded",
		"failed": "failed", "FAILED": "failed", "denied": "failed", "Cancelled": "cancelled",
		"inProgress": "running", "IN_PROGRESS": "running", "running": "running",
		"queued": "queued", "Queued": "queued", "PENDING": "queued", "requested": "queued",
		"submitted": "submitted", "awaiting_approval": "awaiting_approval", "stalled": "stalled",
		"PAUSED": "unknown", "whatever": "unknown",
	} {
		if got := badgeClass(in); got != want {
			t.Errorf("badgeClass(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumbers(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := count(in); got != want {
			t.Errorf("count(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0 B", 1023: "1,023 B", 1024: "1 KiB", 1536: "1.5 KiB", 5 << 20: "5 MiB", 3 << 30: "3 GiB", 1<<40 + 1<<39: "1.5 TiB"} {
		if got := bytesText(in); got != want {
			t.Errorf("bytesText(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestEstimateRemaining(t *testing.T) {
	tests := []struct {
		name        string
		elapsed     time.Duration
		done, total int64
		want        time.Duration
		ok          bool
	}{
		{"quarter done", 6 * time.Minute, 3, 12, 18 * time.Minute, true},
		{"half done", time.Hour, 50, 100, time.Hour, true},
		{"nothing done", time.Minute, 0, 12, 0, false},
		{"all done", time.Minute, 12, 12, 0, false},
		{"unknown total", time.Minute, 3, 0, 0, false},
		{"clock behind", -time.Minute, 3, 12, 0, false},
	}
	for _, tt := range tests {
		got, ok := EstimateRemaining(t0, t0.Add(tt.elapsed), tt.done, tt.total)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: EstimateRemaining = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	for d, want := range map[time.Duration]string{
		30 * time.Second: "less than a minute", 80 * time.Second: "about a minute", 18 * time.Minute: "about 18 minutes",
		70 * time.Minute: "about an hour", 5 * time.Hour: "about 5 hours", 72 * time.Hour: "about 3 days",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAtlasErrorText(t *testing.T) {
	tests := []struct{ code, msg, want string }{
		{"RATE_LIMITED", "", atlasErrors["RATE_LIMITED"]},
		{"EXPORT_FAILED", "disk full", atlasErrors["EXPORT_FAILED"] + " Atlas said: disk full"},
		{"SOMETHING_NEW", "Atlas words", "Atlas words"},
		{"SOMETHING_NEW", "", "Atlas refused the request."},
	}
	for _, tt := range tests {
		if got := AtlasErrorText(tt.code, tt.msg); got != tt.want {
			t.Errorf("AtlasErrorText(%q, %q) = %q, want %q", tt.code, tt.msg, got, tt.want)
		}
	}
}

func TestURLs(t *testing.T) {
	tests := []struct{ got, want string }{
		{ClusterURL(groupID, "Cluster0"), "/projects/" + groupID + "/clusters/Cluster0"},
		{NewSnapshotURL(groupID, "c-1"), "/projects/" + groupID + "/clusters/c-1/snapshots/new"},
		{NewExportURL(groupID, "c"), "/projects/" + groupID + "/clusters/c/exports/new"},
		{PipelineURL(groupID, "a?b#c%d"), "/projects/" + groupID + "/pipelines/a%3Fb%23c%25d"},
		{PipelineRunURL(groupID, "p.q", runID), "/projects/" + groupID + "/pipelines/p.q/runs/" + runID},
		{NewIngestionURL(groupID, "p"), "/projects/" + groupID + "/pipelines/p/runs/new"},
		{JobURL(jobID), "/jobs/" + jobID},
		{LiveURL(rules.Live{}), ""},
		{LiveURL(rules.Live{JobIDs: []string{jobID, jobID}, Detail: jobID2}), "/events?detail=" + jobID2 + "&job=" + jobID},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestCustomRows(t *testing.T) {
	for typed, want := range map[int]int{0: 3, 1: 3, 2: 4, 8: 10, 10: 10, 12: 12} {
		if got := len(customRows(make([]rules.KeyValue, typed))); got != want {
			t.Errorf("customRows(%d typed) = %d rows, want %d", typed, got, want)
		}
	}
}

func TestDateValue(t *testing.T) {
	for in, want := range map[string]string{"2026-03-01": "2026-03-01", "2026-03-01T10:00:00Z": "2026-03-01", "yesterday": "", "": ""} {
		if got := dateValue(in); got != want {
			t.Errorf("dateValue(%q) = %q, want %q", in, got, want)
		}
	}
}
