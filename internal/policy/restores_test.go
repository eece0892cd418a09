package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRestoreRules(t *testing.T) {
	// No rule at all: automated and point in time need approval, downloads
	// do not, nothing is restored onto itself.
	p := mustParse(t, "grants: []\n")
	for delivery, want := range map[string]bool{RestoreAutomated: true, RestorePointInTime: true, RestoreDownload: false} {
		if req, exp := p.RestoreApproval(payments, delivery); req != want || exp != DefaultApprovalExpiry {
			t.Errorf("default %s: required=%v expire=%v, want %v %v", delivery, req, exp, want, DefaultApprovalExpiry)
		}
	}
	if p.RestoreOntoItself(payments) {
		t.Error("default allows restoring a cluster onto itself")
	}

	p = mustParse(t, `restores:
  - project: "*"
    approval: [download]
    expire_after: 2h
  - project: `+payments+`
    approval: []
    onto_itself: true
  - project: `+reporting+`
    onto_itself: true
`)
	if req, _ := p.RestoreApproval(payments, RestoreAutomated); req {
		t.Error("payments' empty approval list still asks for approval")
	}
	if !p.RestoreOntoItself(payments) || p.RestoreOntoItself(other) {
		t.Error("onto_itself is not per project")
	}
	if req, exp := p.RestoreApproval(other, RestoreDownload); !req || exp != 2*time.Hour {
		t.Errorf("other project follows \"*\": required=%v expire=%v", req, exp)
	}
	if req, _ := p.RestoreApproval(other, RestoreAutomated); req {
		t.Error("\"*\" named only download, yet automated needs approval")
	}
	// An entry that does not say which types keeps the default ones.
	if req, _ := p.RestoreApproval(reporting, RestorePointInTime); !req {
		t.Error("an entry without approval: dropped the default approval of pointInTime")
	}
}

func TestDrills(t *testing.T) {
	p := mustParse(t, `drills:
  - project: `+payments+`
    cluster: Cluster0
    target: payments-scratch
    every: 168h
  - project: `+reporting+`
    cluster: Reporting0
    target_project: `+payments+`
    target: payments-scratch
    every: 24h
`)
	if len(p.Drills) != 2 {
		t.Fatalf("drills = %+v", p.Drills)
	}
	d := p.Drills[0]
	if d.TargetProject != payments || d.Target != "payments-scratch" || d.Every != 168*time.Hour {
		t.Errorf("drill = %+v; the target project defaults to the source's", d)
	}
	if p.Drills[1].TargetProject != payments || p.Drills[0].Key() == p.Drills[1].Key() {
		t.Errorf("second drill = %+v", p.Drills[1])
	}

	cases := []struct {
		name, src string
		line      int
		want      string
	}{
		{"bad delivery type", "restores:\n  - project: \"*\"\n    approval: [email]\n", 3, `approval "email"`},
		{"two rules for a project", "restores:\n  - project: \"*\"\n  - project: \"*\"\n", 3, "two restore rules"},
		{"drill too often", "drills:\n  - project: " + payments + "\n    cluster: Cluster0\n    target: s\n    every: 5m\n", 5, `every "5m"`},
		{"drill onto itself", "drills:\n  - project: " + payments + "\n    cluster: Cluster0\n    target: Cluster0\n    every: 24h\n", 4, "never onto Cluster0"},
		{"drill for every project", "drills:\n  - project: \"*\"\n    cluster: Cluster0\n    target: s\n    every: 24h\n", 2, `project "*"`},
		{"drill bad cluster", "drills:\n  - project: " + payments + "\n    cluster: -x\n    target: s\n    every: 24h\n", 3, `cluster "-x"`},
	}
	for _, c := range cases {
		_, err := Parse("policy.yaml", []byte(c.src))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want a *policy.Error", c.name, err)
			continue
		}
		if pe.Line != c.line || !strings.Contains(pe.Error(), c.want) {
			t.Errorf("%s: %v, want line %d mentioning %q", c.name, pe, c.line, c.want)
		}
	}
}
