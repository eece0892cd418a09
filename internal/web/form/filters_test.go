package form

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/rules"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseJobFilter(t *testing.T) {
	tests := []struct {
		name    string
		in      url.Values
		want    JobFilter
		wantErr []string
	}{
		{"empty", vals(), JobFilter{Page: 1}, nil},
		{"all fields", vals("kind", "export", "state", "running", "project", groupID, "target", "Cluster0",
			"requester", "ana@example.com", "from", "2026-03-01", "to", "2026-03-02", "page", "3"),
			JobFilter{Kind: "export", State: "running", ProjectID: groupID, Target: "Cluster0", Requester: "ana@example.com",
				From: day(2026, 3, 1), To: day(2026, 3, 3), Page: 3}, nil},
		{"stalled pseudo-state", vals("state", "stalled"), JobFilter{State: rules.StateStalled, Page: 1}, nil},
		{"same day from and to", vals("from", "2026-03-01", "to", "2026-03-01"), JobFilter{From: day(2026, 3, 1), To: day(2026, 3, 2), Page: 1}, nil},
		{"minute precision", vals("from", "2026-03-01T10:15", "to", "2026-03-01T10:15"),
			JobFilter{From: time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 10, 16, 0, 0, time.UTC), Page: 1}, nil},
		{"rfc3339 with zone", vals("from", "2026-03-01T10:00:00+02:00"), JobFilter{From: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), Page: 1}, nil},
		{"pipeline target", vals("target", "sales.orders"), JobFilter{Target: "sales.orders", Page: 1}, nil},
		{"unknown kind", vals("kind", "backup"), JobFilter{Page: 1}, []string{rules.QueryKind}},
		{"unknown state", vals("state", "RUNNING"), JobFilter{Page: 1}, []string{rules.QueryState}},
		{"bad project", vals("project", "acme"), JobFilter{Page: 1}, []string{rules.QueryProject}},
		{"bad target", vals("target", "a/b"), JobFilter{Page: 1}, []string{rules.QueryTarget}},
		{"bad requester", vals("requester", "a\nb"), JobFilter{Page: 1}, []string{rules.QueryRequester}},
		{"from after to", vals("from", "2026-03-05", "to", "2026-03-01"), JobFilter{From: day(2026, 3, 5), Page: 1}, []string{rules.QueryTo}},
		{"bad dates", vals("from", "yesterday", "to", "2026-13-01"), JobFilter{Page: 1}, []string{rules.QueryFrom, rules.QueryTo}},
		{"page zero", vals("page", "0"), JobFilter{Page: 1}, []string{rules.QueryPage}},
		{"page negative", vals("page", "-1"), JobFilter{Page: 1}, []string{rules.QueryPage}},
		{"page too deep", vals("page", "10001"), JobFilter{Page: 1}, []string{rules.QueryPage}},
		{"page text", vals("page", "two"), JobFilter{Page: 1}, []string{rules.QueryPage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParseJobFilter(tt.in)
			if diff := cmp.Diff(tt.wantErr, fields(errs)); diff != "" {
				t.Errorf("error fields (-want +got):\n%s\nerrors: %v", diff, errs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseJobFilter (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobFilterValuesRoundTrip(t *testing.T) {
	in := vals("kind", "snapshot", "state", "failed", "project", groupID, "target", "p q",
		"requester", "Ana", "from", "2026-03-01T10:15", "to", "2026-03-02", "page", "2")
	// "p q" has a space: not a valid target, so it is dropped.
	f, errs := ParseJobFilter(in)
	if fields(errs)[0] != rules.QueryTarget {
		t.Fatalf("errors %v", errs)
	}
	again, errs := ParseJobFilter(f.Values())
	if errs != nil {
		t.Fatalf("canonical values refused: %v (%v)", errs, f.Values())
	}
	if diff := cmp.Diff(f, again); diff != "" {
		t.Errorf("round trip (-first +second):\n%s", diff)
	}
	if f.Values().Has(rules.QueryPage) != true || (JobFilter{Page: 1}).Values().Has(rules.QueryPage) {
		t.Errorf("page 1 should be left out of the query, others kept")
	}
}

func TestParseAuditFilter(t *testing.T) {
	tests := []struct {
		name    string
		in      url.Values
		want    AuditFilter
		wantErr []string
	}{
		{"empty", vals(), AuditFilter{Page: 1}, nil},
		{"all fields", vals("actor", "dev@snapdesk.local", "action", "snapshot.take", "project", groupID,
			"outcome", "denied", "from", "2026-01-01", "to", "2026-01-31", "page", "7"),
			AuditFilter{Actor: "dev@snapdesk.local", Action: "snapshot.take", ProjectID: groupID, Outcome: "denied",
				From: day(2026, 1, 1), To: day(2026, 2, 1), Page: 7}, nil},
		{"bad action", vals("action", "DROP TABLE"), AuditFilter{Page: 1}, []string{rules.QueryAction}},
		{"bad outcome", vals("outcome", "maybe"), AuditFilter{Page: 1}, []string{rules.QueryOutcome}},
		{"long actor", vals("actor", string(make([]byte, rules.MaxPersonLen+1))), AuditFilter{Page: 1}, []string{rules.QueryActor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParseAuditFilter(tt.in)
			if diff := cmp.Diff(tt.wantErr, fields(errs)); diff != "" {
				t.Errorf("error fields (-want +got):\n%s\nerrors: %v", diff, errs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAuditFilter (-want +got):\n%s", diff)
			}
		})
	}
	f, _ := ParseAuditFilter(vals("actor", "x", "outcome", "ok", "from", "2026-01-01"))
	again, errs := ParseAuditFilter(f.Values())
	if errs != nil || !cmp.Equal(f, again) {
		t.Errorf("audit round trip: %+v then %+v, %v", f, again, errs)
	}
}

func TestParsePage(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{{"", 1, true}, {"1", 1, true}, {"42", 42, true}, {"0", 1, false}, {"x", 1, false}, {"10001", 1, false}}
	for _, tt := range tests {
		q := url.Values{}
		if tt.in != "" {
			q.Set(rules.QueryPage, tt.in)
		}
		got, errs := ParsePage(q)
		if got != tt.want || (errs == nil) != tt.ok {
			t.Errorf("ParsePage(%q) = %d, %v; want %d, ok=%v", tt.in, got, errs, tt.want, tt.ok)
		}
	}
}
