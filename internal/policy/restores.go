package policy

import (
	"fmt"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/snapdesk/snapdesk/internal/identity"
)

// Delivery types of a restore, as Atlas names them.
const (
	RestoreAutomated   = "automated"
	RestoreDownload    = "download"
	RestorePointInTime = "pointInTime"
)

// RestoreRule says how a project's restores are guarded.
//
//	restores:
//	  - project: "*"
//	    approval: [automated, pointInTime]  # delivery types a second person approves (the default)
//	    expire_after: 24h                   # unapproved restores lapse after this
//	    onto_itself: false                  # may a cluster be restored onto itself?
//
// A project without an entry of its own follows the "*" entry, and without
// that the defaults: automated and point-in-time restores, which replace all
// data on a cluster, need a second person's approval; a download does not;
// no cluster is restored onto itself.
type RestoreRule struct {
	Project     string // an Atlas project id or "*"
	Approval    map[string]bool
	ExpireAfter time.Duration
	OntoItself  bool
}

// DefaultRestoreRule is the rule of a project the policy does not name.
var DefaultRestoreRule = RestoreRule{
	Project:     identity.AllProjects,
	Approval:    map[string]bool{RestoreAutomated: true, RestorePointInTime: true},
	ExpireAfter: DefaultApprovalExpiry,
}

// Drill is a restore drill: the latest completed snapshot of a cluster is
// restored onto a scratch cluster every Every, to prove it can be.
//
//	drills:
//	  - project: 65a1b2c3d4e5f60718293a01
//	    cluster: Cluster0
//	    target: payments-scratch            # a cluster of the same project (or target_project)
//	    every: 168h
type Drill struct {
	Project       string
	Cluster       string
	TargetProject string
	Target        string
	Every         time.Duration
}

// Key names the drill in Snapdesk's records: the source and the target.
func (d Drill) Key() string {
	return d.Project + "/" + d.Cluster + "->" + d.TargetProject + "/" + d.Target
}

// Bounds on a drill's period.
const (
	MinDrillEvery = time.Hour
	MaxDrillEvery = 366 * 24 * time.Hour
)

type restoreYAML struct {
	Project     string   `yaml:"project"`
	Approval    []string `yaml:"approval"`
	ExpireAfter string   `yaml:"expire_after"`
	OntoItself  bool     `yaml:"onto_itself"`
}

type drillYAML struct {
	Project       string `yaml:"project"`
	Cluster       string `yaml:"cluster"`
	TargetProject string `yaml:"target_project"`
	Target        string `yaml:"target"`
	Every         string `yaml:"every"`
}

var clusterName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]{0,63}$`)

var atlasProjectID = regexp.MustCompile(`^[a-f0-9]{24}$`)

func parseRestores(doc []restoreYAML, nodes []*yaml.Node, fail func(int, string, ...any)) []RestoreRule {
	var out []RestoreRule
	seen := map[string]bool{}
	for i, r := range doc {
		item := nodes[i]
		if !projectID.MatchString(r.Project) {
			fail(lineOf(item, "project"), "project %q is not an Atlas project id (24 hex digits) or \"*\"", r.Project)
		}
		if seen[r.Project] {
			fail(lineOf(item, "project"), "project %q has two restore rules", r.Project)
		}
		seen[r.Project] = true
		rule := RestoreRule{Project: r.Project, Approval: map[string]bool{}, ExpireAfter: DefaultApprovalExpiry, OntoItself: r.OntoItself}
		if _, given := mapValue(item, "approval"); !given {
			rule.Approval = DefaultRestoreRule.Approval
		}
		for _, d := range r.Approval {
			if d != RestoreAutomated && d != RestoreDownload && d != RestorePointInTime {
				fail(lineOf(item, "approval"), "approval %q is not one of automated, download, pointInTime", d)
			}
			rule.Approval[d] = true
		}
		if r.ExpireAfter != "" {
			d, err := time.ParseDuration(r.ExpireAfter)
			if err != nil || d < time.Minute || d > 30*24*time.Hour {
				fail(lineOf(item, "expire_after"), "expire_after %q is not a duration between 1m and 720h", r.ExpireAfter)
			}
			rule.ExpireAfter = d
		}
		out = append(out, rule)
	}
	return out
}

func parseDrills(doc []drillYAML, nodes []*yaml.Node, fail func(int, string, ...any)) []Drill {
	var out []Drill
	seen := map[string]bool{}
	for i, d := range doc {
		item := nodes[i]
		if !atlasProjectID.MatchString(d.Project) {
			fail(lineOf(item, "project"), "project %q is not an Atlas project id (24 hex digits)", d.Project)
		}
		if d.TargetProject == "" {
			d.TargetProject = d.Project
		} else if !atlasProjectID.MatchString(d.TargetProject) {
			fail(lineOf(item, "target_project"), "target_project %q is not an Atlas project id (24 hex digits)", d.TargetProject)
		}
		if !clusterName.MatchString(d.Cluster) {
			fail(lineOf(item, "cluster"), "cluster %q is not an Atlas cluster name", d.Cluster)
		}
		if !clusterName.MatchString(d.Target) {
			fail(lineOf(item, "target"), "target %q is not an Atlas cluster name", d.Target)
		}
		if d.TargetProject == d.Project && d.Target == d.Cluster {
			fail(lineOf(item, "target"), "a drill restores onto a scratch cluster, never onto %s itself", d.Cluster)
		}
		every, err := time.ParseDuration(d.Every)
		if err != nil || every < MinDrillEvery || every > MaxDrillEvery {
			fail(lineOf(item, "every"), "every %q is not a duration between 1h and 8784h", d.Every)
		}
		drill := Drill{Project: d.Project, Cluster: d.Cluster, TargetProject: d.TargetProject, Target: d.Target, Every: every}
		if seen[drill.Key()] {
			fail(item.Line, "drill %s is named twice", drill.Key())
		}
		seen[drill.Key()] = true
		out = append(out, drill)
	}
	return out
}

// mapValue finds key in a mapping node.
func mapValue(item *yaml.Node, key string) (*yaml.Node, bool) {
	for i := 0; i+1 < len(item.Content); i += 2 {
		if item.Content[i].Value == key {
			return item.Content[i+1], true
		}
	}
	return nil, false
}

// RestoreRuleFor is the rule guarding the project's restores: its own
// entry, else the "*" entry, else DefaultRestoreRule.
func (p *Policy) RestoreRuleFor(project string) RestoreRule {
	var star *RestoreRule
	for i, r := range p.Restores {
		if r.Project == project {
			return r
		}
		if r.Project == identity.AllProjects {
			star = &p.Restores[i]
		}
	}
	if star != nil {
		return *star
	}
	return DefaultRestoreRule
}

// RestoreApproval says whether a restore of this delivery type onto a
// cluster of the project needs a second person's approval, and how long
// the request waits for one.
func (p *Policy) RestoreApproval(project, delivery string) (required bool, expireAfter time.Duration) {
	r := p.RestoreRuleFor(project)
	return r.Approval[delivery], r.ExpireAfter
}

// RestoreOntoItself says whether the project's clusters may be restored
// onto themselves.
func (p *Policy) RestoreOntoItself(project string) bool {
	return p.RestoreRuleFor(project).OntoItself
}

// String describes the drill in words.
func (d Drill) String() string {
	return fmt.Sprintf("restore %s onto %s every %s", d.Cluster, d.Target, d.Every)
}
