package rules

import (
	"fmt"
	"net/url"
	"slices"
)

// Live query parameter names of the server-sent events endpoint.
const (
	LiveJob      = "job"      // repeated: job ids whose rows and badges are on the page
	LiveDetail   = "detail"   // one job id whose detail section is on the page
	LiveProject  = "project"  // with LiveCluster or LivePipeline: every job there
	LiveCluster  = "cluster"  // a cluster name
	LivePipeline = "pipeline" // a pipeline name
)

// MaxLiveJobs bounds the job ids one page follows.
const MaxLiveJobs = 200

// Live is the query of the server-sent events endpoint: what one page's event stream follows. For every change to a
// followed job the stream sends an event "job-<id>" (the row's cells) and
// "job-<id>-badge" (its state badge); for Detail also "job-<id>-detail".
type Live struct {
	// JobIDs are jobs shown on the page.
	JobIDs []string
	// Detail is the job whose page this is, or "".
	Detail string
	// ProjectID with ClusterName or PipelineName follows every job on that
	// cluster or pipeline, including jobs created after the page loaded.
	ProjectID    string
	ClusterName  string
	PipelineName string
}

// Empty reports whether l follows nothing (the page needs no stream).
func (l Live) Empty() bool {
	return len(l.JobIDs) == 0 && l.Detail == "" && l.ProjectID == ""
}

// Follows reports whether a change to the job with this id, project,
// cluster and pipeline is sent on l's stream.
func (l Live) Follows(jobID, projectID, cluster, pipeline string) bool {
	if jobID == "" {
		return false
	}
	if jobID == l.Detail || slices.Contains(l.JobIDs, jobID) {
		return true
	}
	if l.ProjectID == "" || l.ProjectID != projectID {
		return false
	}
	return (l.ClusterName != "" && l.ClusterName == cluster) || (l.PipelineName != "" && l.PipelineName == pipeline)
}

// Values is l as a query string, job ids de-duplicated in order.
func (l Live) Values() url.Values {
	v := url.Values{}
	seen := map[string]bool{}
	for _, id := range l.JobIDs {
		if id != "" && !seen[id] {
			seen[id] = true
			v.Add(LiveJob, id)
		}
	}
	set(v, LiveDetail, l.Detail)
	set(v, LiveProject, l.ProjectID)
	set(v, LiveCluster, l.ClusterName)
	set(v, LivePipeline, l.PipelineName)
	return v
}

// ParseLive validates the event stream's query string. Any bad value
// refuses the whole request: pages only build these URLs themselves.
func ParseLive(q url.Values) (Live, error) {
	var l Live
	ids := q[LiveJob]
	if len(ids) > MaxLiveJobs {
		return Live{}, fmt.Errorf("rules: live: %d jobs, at most %d", len(ids), MaxLiveJobs)
	}
	for _, id := range ids {
		if !ValidJobID(id) {
			return Live{}, fmt.Errorf("rules: live: bad job id %q", id)
		}
		if !slices.Contains(l.JobIDs, id) {
			l.JobIDs = append(l.JobIDs, id)
		}
	}
	if d := q.Get(LiveDetail); d != "" {
		if !ValidJobID(d) {
			return Live{}, fmt.Errorf("rules: live: bad detail job id %q", d)
		}
		l.Detail = d
	}
	l.ProjectID, l.ClusterName, l.PipelineName = q.Get(LiveProject), q.Get(LiveCluster), q.Get(LivePipeline)
	switch {
	case l.ProjectID == "" && (l.ClusterName != "" || l.PipelineName != ""):
		return Live{}, fmt.Errorf("rules: live: cluster or pipeline without project")
	case l.ProjectID != "" && !ValidGroupID(l.ProjectID):
		return Live{}, fmt.Errorf("rules: live: bad project id %q", l.ProjectID)
	case l.ProjectID != "" && l.ClusterName == "" && l.PipelineName == "":
		return Live{}, fmt.Errorf("rules: live: project without cluster or pipeline")
	case l.ClusterName != "" && !ValidClusterName(l.ClusterName):
		return Live{}, fmt.Errorf("rules: live: bad cluster name %q", l.ClusterName)
	case l.PipelineName != "" && !ValidPipelineName(l.PipelineName):
		return Live{}, fmt.Errorf("rules: live: bad pipeline name %q", l.PipelineName)
	}
	return l, nil
}

func set(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}
