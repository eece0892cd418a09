package atlassim

import (
	"net/http"
	"strconv"
)

// createExport is POST .../clusters/{clusterName}/backup/exports.
func (s *Server) createExport(c *call) (any, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	var req exportRequest
	if err := decodeBody(c, &req); err != nil {
		return nil, err
	}
	var v violations
	v.hexID("snapshotId", req.SnapshotID, true)
	v.hexID("exportBucketId", req.ExportBucketID, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	sn := s.st.snapshot(p.ID, cl.Name, *req.SnapshotID, c.now)
	if sn == nil {
		return nil, newError(http.StatusNotFound, "SNAPSHOT_NOT_FOUND", "No snapshot with ID %s exists for cluster %s.", *req.SnapshotID, cl.Name)
	}
	b := s.st.bucket(p.ID, *req.ExportBucketID)
	if b == nil {
		return nil, newError(http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND", "No export bucket with ID %s exists.", *req.ExportBucketID)
	}
	if st := s.progress.snapshot(sn, c.now).Status; st != statusCompleted {
		return nil, newError(http.StatusConflict, "CANNOT_EXPORT_INCOMPLETE_SNAPSHOT",
			"Cannot export snapshot %s: its status is %s, not completed.", sn.ID, st)
	}
	for _, j := range s.st.clusterExports(p.ID, cl.Name) {
		if j.SnapshotID != sn.ID || j.ExportBucketID != b.ID {
			continue
		}
		if st := s.progress.export(j, c.now).State; st == exportQueued || st == exportInProgress {
			return nil, newError(http.StatusConflict, "EXPORT_ALREADY_IN_PROGRESS",
				"Snapshot %s is already being exported to bucket %s by export job %s.", sn.ID, b.BucketName, j.ID)
		}
	}
	orgName := p.OrgID
	if o := s.st.org(p.OrgID); o != nil {
		orgName = o.Name
	}
	// Kept to the nanosecond: at high speeds a second cut off would be
	// minutes of progress. Answers show whole seconds, as Atlas does.
	now := c.now
	job := ExportJob{
		ID:               s.newIDLocked(),
		GroupID:          p.ID,
		ClusterName:      cl.Name,
		SnapshotID:       sn.ID,
		ExportBucketID:   b.ID,
		CreatedAt:        now,
		TotalCollections: s.contents(cl, c.now).Collections,
		// /exported_snapshots/{ORG-NAME}/{PROJECT-NAME}/{CLUSTER-NAME}/{SNAPSHOT-INITIATION-DATE}/{TIMESTAMP}
		Prefix: "/exported_snapshots/" + orgName + "/" + p.Name + "/" + cl.Name + "/" +
			sn.CreatedAt.UTC().Format("2006-01-02") + "/" + strconv.FormatInt(now.Unix(), 10),
	}
	for _, l := range req.CustomData {
		job.CustomData = append(job.CustomData, Label(l))
	}
	job.Fails = unitFloat(job.ID, "fail") < s.cfg.FailureRate
	if cl.ClusterType == "SHARDED" {
		names := replicaSetNames(cl)
		for i := 0; i < cl.NumShards && i < len(names); i++ {
			job.Components = append(job.Components, ExportComponent{ExportID: s.newIDLocked(), ReplicaSetName: names[i]})
		}
	}
	s.st.ExportJobs = append(s.st.ExportJobs, job)
	c.changed = true
	return s.renderExport(c, &s.st.ExportJobs[len(s.st.ExportJobs)-1]), nil
}

// listExports is GET .../clusters/{clusterName}/backup/exports.
func (s *Server) listExports(c *call) (any, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	pg, err := parsePaging(c)
	if err != nil {
		return nil, err
	}
	jobs := s.st.clusterExports(p.ID, cl.Name)
	out := make([]wireExportJob, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, s.renderExport(c, j))
	}
	return paginate(c, out, pg), nil
}

// getExport is GET .../backup/exports/{exportId}.
func (s *Server) getExport(c *call) (any, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	id := c.params["exportId"]
	j := s.st.exportJob(p.ID, cl.Name, id)
	if !hexIDPattern.MatchString(id) || j == nil {
		return nil, errResourceNotFound("export job " + id)
	}
	return s.renderExport(c, j), nil
}
