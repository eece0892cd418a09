package atlassim

import (
	"net/http"
	"strings"
	"time"
)

// lookupPipeline finds the call's {groupId} and {pipelineName}.
func (s *Server) lookupPipeline(c *call) (*Project, *Pipeline, error) {
	p, err := s.lookupProject(c)
	if err != nil {
		return nil, nil, err
	}
	name := c.params["pipelineName"]
	pl := s.st.pipeline(p.ID, name)
	if !pipelineNameRegexp.MatchString(name) || pl == nil {
		return nil, nil, errResourceNotFound("pipeline " + name)
	}
	return p, pl, nil
}

// listPipelines is GET /groups/{groupId}/pipelines: a plain array.
func (s *Server) listPipelines(c *call) (any, error) {
	p, err := s.lookupProject(c)
	if err != nil {
		return nil, err
	}
	out := []wirePipeline{}
	for i := range s.st.Pipelines {
		if pl := &s.st.Pipelines[i]; pl.GroupID == p.ID {
			out = append(out, s.renderPipeline(c, pl))
		}
	}
	return out, nil
}

// getPipeline is GET .../pipelines/{pipelineName}.
func (s *Server) getPipeline(c *call) (any, error) {
	_, pl, err := s.lookupPipeline(c)
	if err != nil {
		return nil, err
	}
	return s.renderPipeline(c, pl), nil
}

// availableSchedules is GET .../pipelines/{pipelineName}/availableSchedules:
// the backup policy items of the source cluster.
func (s *Server) availableSchedules(c *call) (any, error) {
	p, pl, err := s.lookupPipeline(c)
	if err != nil {
		return nil, err
	}
	out := []wirePolicyItem{}
	if cl := s.st.cluster(p.ID, pl.Source.ClusterName); cl != nil {
		for _, pi := range cl.PolicyItems {
			out = append(out, wirePolicyItem{
				FrequencyInterval: pi.FrequencyInterval, FrequencyType: pi.FrequencyType, ID: pi.ID,
				RetentionUnit: pi.RetentionUnit, RetentionValue: pi.RetentionValue,
			})
		}
	}
	return out, nil
}

// availableSnapshots is GET .../pipelines/{pipelineName}/availableSnapshots:
// the completed snapshots of the source cluster.
func (s *Server) availableSnapshots(c *call) (any, error) {
	p, pl, err := s.lookupPipeline(c)
	if err != nil {
		return nil, err
	}
	pg, err := parsePaging(c)
	if err != nil {
		return nil, err
	}
	after, hasAfter, err := timeQuery(c, "completedAfter")
	if err != nil {
		return nil, err
	}
	out := []wireSnapshot{}
	for _, sn := range s.st.clusterSnapshots(p.ID, pl.Source.ClusterName, c.now) {
		if hasAfter && !sn.CreatedAt.After(after) {
			continue
		}
		if s.progress.snapshot(sn, c.now).Status == statusCompleted {
			out = append(out, s.renderSnapshot(c, sn))
		}
	}
	return paginate(c, out, pg), nil
}

// timeQuery reads an ISO 8601 date-time query parameter.
func timeQuery(c *call, name string) (time.Time, bool, error) {
	v, ok := c.query[name]
	if !ok {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339, v[0])
	if err != nil {
		return time.Time{}, false, badQuery(name, "must be an ISO 8601 date and time")
	}
	return t, true, nil
}

// pausePipeline is POST .../pipelines/{pipelineName}/pause.
func (s *Server) pausePipeline(c *call) (any, error) {
	return s.setPipelineState(c, "PAUSED")
}

// resumePipeline is POST .../pipelines/{pipelineName}/resume.
func (s *Server) resumePipeline(c *call) (any, error) {
	return s.setPipelineState(c, "ACTIVE")
}

func (s *Server) setPipelineState(c *call, state string) (any, error) {
	_, pl, err := s.lookupPipeline(c)
	if err != nil {
		return nil, err
	}
	if pl.State != state {
		pl.State = state
		pl.LastUpdatedDate = c.now.Truncate(time.Second)
		c.changed = true
	}
	return s.renderPipeline(c, pl), nil
}

// listRuns is GET .../pipelines/{pipelineName}/runs.
func (s *Server) listRuns(c *call) (any, error) {
	_, pl, err := s.lookupPipeline(c)
	if err != nil {
		return nil, err
	}
	pg, err := parsePaging(c)
	if err != nil {
		return nil, err
	}
	before, hasBefore, err := timeQuery(c, "createdBefore")
	if err != nil {
		return nil, err
	}
	out := []wireRun{}
	for _, r := range s.st.pipelineRuns(pl.ID) {
		if hasBefore && !r.CreatedAt.Before(before) {
			continue
		}
		out = append(out, s.renderRun(c, r))
	}
	return paginate(c, out, pg), nil
}

// getRun is GET .../pipelines/{pipelineName}/runs/{pipelineRunId}.
func (s *Server) getRun(c *call) (any, error) {
	_, pl, err := s.lookupPipeline(c)
	if err != nil {
		return nil, err
	}
	id := c.params["pipelineRunId"]
	if hexIDPattern.MatchString(id) {
		for _, r := range s.st.pipelineRuns(pl.ID) {
			if r.ID == id {
				return s.renderRun(c, r), nil
			}
		}
	}
	return nil, errResourceNotFound("pipeline run " + id)
}

// triggerPipeline is POST .../pipelines/{pipelineName}/trigger: one ingestion
// of one completed snapshot of the pipeline's source cluster.
func (s *Server) triggerPipeline(c *call) (any, error) {
	p, pl, err := s.lookupPipeline(c)
	if err != nil {
		return nil, err
	}
	var req triggerRequest
	if err := decodeBody(c, &req); err != nil {
		return nil, err
	}
	var v violations
	v.hexID("snapshotId", req.SnapshotID, true)
	var retention *RetentionPolicy
	if rp := req.DatasetRetentionPolicy; rp != nil {
		switch {
		case rp.Units == nil:
			v.add("datasetRetentionPolicy.units", "is required")
		case *rp.Units != "DAYS" && *rp.Units != "WEEKS" && *rp.Units != "MONTHS":
			v.add("datasetRetentionPolicy.units", "must be one of DAYS, WEEKS, MONTHS")
		}
		if rp.Value == nil {
			v.add("datasetRetentionPolicy.value", "is required")
		}
		v.int32Min("datasetRetentionPolicy.value", rp.Value, 1)
		if rp.LastModifiedDate != nil {
			if _, err := time.Parse(time.RFC3339, *rp.LastModifiedDate); err != nil {
				v.add("datasetRetentionPolicy.lastModifiedDate", "must be an ISO 8601 date and time")
			}
		}
		if len(v) == 0 {
			retention = &RetentionPolicy{Units: *rp.Units, Value: int(*rp.Value)}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if pl.State != "ACTIVE" {
		return nil, newError(http.StatusBadRequest, "PIPELINE_PAUSED", "Pipeline %s is paused; resume it before triggering an ingestion.", pl.Name)
	}
	sn := s.st.snapshot(p.ID, pl.Source.ClusterName, *req.SnapshotID, c.now)
	if sn == nil {
		return nil, newError(http.StatusNotFound, "SNAPSHOT_NOT_FOUND", "No snapshot with ID %s exists for cluster %s.", *req.SnapshotID, pl.Source.ClusterName)
	}
	if st := s.progress.snapshot(sn, c.now).Status; st != statusCompleted {
		return nil, newError(http.StatusBadRequest, "SNAPSHOT_NOT_COMPLETED", "Snapshot %s is %s; only completed snapshots can be ingested.", sn.ID, st)
	}
	if retention == nil && pl.Retention != nil {
		r := *pl.Retention
		retention = &r
	}
	freq := "ON_DEMAND"
	if sn.SnapshotType != "onDemand" {
		freq = strings.ToUpper(sn.FrequencyType)
		if freq == "" {
			freq = "DAILY"
		}
	}
	run := PipelineRun{
		ID:                  s.newIDLocked(),
		PipelineID:          pl.ID,
		GroupID:             p.ID,
		SnapshotID:          sn.ID,
		CreatedAt:           c.now, // whole seconds only in answers
		Retention:           retention,
		SnapshotCreatedAt:   sn.CreatedAt,
		BackupFrequencyType: freq,
	}
	share := 0.2 + 0.3*unitFloat(run.ID, "share") // the collection's share of the cluster
	run.BytesTotal = int64(float64(sn.SizeBytes) * share)
	docs := int64(100_000)
	if cl := s.st.cluster(p.ID, pl.Source.ClusterName); cl != nil {
		docs = cl.Documents
	}
	run.DocsTotal = int64(float64(docs) * share)
	run.Fails = unitFloat(run.ID, "fail") < s.cfg.FailureRate
	s.st.PipelineRuns = append(s.st.PipelineRuns, run)
	c.changed = true
	return s.renderRun(c, &s.st.PipelineRuns[len(s.st.PipelineRuns)-1]), nil
}
