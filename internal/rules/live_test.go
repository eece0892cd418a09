package rules

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	jobID   = "0b7c3b1e-3f64-4a53-9a36-0c2f0b0d9e11"
	groupID = "5f1e2d3c4b5a69788796a5b4"
)

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestParseLive(t *testing.T) {
	other := "7d3f4c1a-0e2b-4c59-8a77-5b6c7d8e9f00"
	tests := []struct {
		name string
		in   url.Values
		want Live
		ok   bool
	}{
		{"nothing", vals(), Live{}, true},
		{"jobs deduplicated", vals("job", jobID, "job", other, "job", jobID), Live{JobIDs: []string{jobID, other}}, true},
		{"detail", vals("detail", jobID), Live{Detail: jobID}, true},
		{"cluster scope", vals("project", groupID, "cluster", "Cluster0"), Live{ProjectID: groupID, ClusterName: "Cluster0"}, true},
		{"pipeline scope", vals("project", groupID, "pipeline", "sales.p"), Live{ProjectID: groupID, PipelineName: "sales.p"}, true},
		{"bad job", vals("job", "x"), Live{}, false},
		{"bad detail", vals("detail", "x"), Live{}, false},
		{"cluster without project", vals("cluster", "Cluster0"), Live{}, false},
		{"project alone", vals("project", groupID), Live{}, false},
		{"bad cluster", vals("project", groupID, "cluster", "-x"), Live{}, false},
		{"bad pipeline", vals("project", groupID, "pipeline", "a/b"), Live{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLive(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseLive error = %v, want ok=%v", err, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseLive (-want +got):\n%s", diff)
			}
			if tt.ok {
				again, err := ParseLive(got.Values())
				if err != nil || !cmp.Equal(got, again) {
					t.Errorf("round trip: %+v, %v", again, err)
				}
			}
		})
	}
	many := url.Values{}
	for range MaxLiveJobs + 1 {
		many.Add(LiveJob, jobID)
	}
	if _, err := ParseLive(many); err == nil {
		t.Errorf("%d job ids accepted", MaxLiveJobs+1)
	}
}

func TestLiveFollows(t *testing.T) {
	l := Live{JobIDs: []string{jobID}, ProjectID: groupID, ClusterName: "Cluster0"}
	tests := []struct {
		job, project, cluster, pipeline string
		want                            bool
	}{
		{jobID, "", "", "", true},
		{"other", groupID, "Cluster0", "", true},
		{"other", groupID, "Cluster1", "", false},
		{"other", "5f1e2d3c4b5a69788796a5b5", "Cluster0", "", false},
		{"other", groupID, "", "Cluster0", false},
		{"", "", "", "", false},
	}
	for _, tt := range tests {
		if got := l.Follows(tt.job, tt.project, tt.cluster, tt.pipeline); got != tt.want {
			t.Errorf("Follows(%q, %q, %q, %q) = %v, want %v", tt.job, tt.project, tt.cluster, tt.pipeline, got, tt.want)
		}
	}
	if !(Live{}).Empty() || l.Empty() {
		t.Error("Empty is wrong")
	}
}

func TestNewIdempotencyKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewIdempotencyKey()
		if !ValidIdempotencyKey(k) || k[14] != '4' || !strings.ContainsRune("89ab", rune(k[19])) {
			t.Fatalf("NewIdempotencyKey() = %q, not a version 4 UUID", k)
		}
		if seen[k] {
			t.Fatalf("NewIdempotencyKey() repeated %q", k)
		}
		seen[k] = true
	}
}
