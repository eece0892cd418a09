package rules

import (
	"strings"
	"testing"
)

const snapID = "65a1b2c3d4e5f60718293a4b"

func TestPathValidators(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) bool
		yes  []string
		no   []string
	}{
		{"group", ValidGroupID, []string{groupID}, []string{"", strings.ToUpper(groupID), groupID + "0", groupID[:23], "../../etc/passwd", groupID + "\n"}},
		{"run", ValidPipelineRunID, []string{snapID}, []string{"", "zzzzzzzzzzzzzzzzzzzzzzzz"}},
		{"cluster", ValidClusterName, []string{"Cluster0", "a", "my-cluster-2", strings.Repeat("a", 64)},
			[]string{"", "-lead", "has space", "dots.no", "slash/", "ünï", strings.Repeat("a", 65), "a\n"}},
		{"pipeline", ValidPipelineName, []string{"sales-pipeline", "p.1", "ünïcode", "a?b", strings.Repeat("p", 64)},
			[]string{"", "a/b", `a\b`, "a b", `a"b`, "a$b", strings.Repeat("p", 65), "a\xff"}},
		{"job", ValidJobID, []string{jobID}, []string{"", strings.ToUpper(jobID), jobID[:35], "not-a-uuid"}},
	}
	for _, tt := range tests {
		for _, s := range tt.yes {
			if !tt.fn(s) {
				t.Errorf("%s: %q refused, want accepted", tt.name, s)
			}
		}
		for _, s := range tt.no {
			if tt.fn(s) {
				t.Errorf("%s: %q accepted, want refused", tt.name, s)
			}
		}
	}
}
