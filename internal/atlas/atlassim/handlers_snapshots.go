package atlassim

import (
	"net/http"
	"strconv"
	"time"
)

// wrongEndpoint is Atlas's answer when the replica-set snapshot endpoints are
// used on a sharded cluster, or the reverse.
func wrongEndpoint(c *call, cl *Cluster) error {
	right := apiPrefix + "/groups/" + cl.GroupID + "/clusters/" + escape(cl.Name) + "/backup/snapshots"
	if cl.ClusterType == "SHARDED" {
		right += "/shardedClusters"
	}
	return newError(http.StatusBadRequest, "INCORRECT_BACKUP_API_ENDPOINT",
		"Incorrect Public API endpoint for Cloud Backups. Please use the following end point: (%s).", right)
}

// takeSnapshot is POST .../clusters/{clusterName}/backup/snapshots.
func (s *Server) takeSnapshot(c *call) (any, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	var req snapshotRequest
	if err := decodeBody(c, &req); err != nil {
		return nil, err
	}
	var v violations
	v.int32Min("retentionInDays", req.RetentionInDays, 1)
	if err := v.err(); err != nil {
		return nil, err
	}
	if !cl.BackupEnabled {
		return nil, newError(http.StatusBadRequest, "BACKUP_JOB_NOT_FOUND", "Backups are not enabled for this cluster.")
	}
	for _, sn := range s.st.clusterSnapshots(p.ID, cl.Name, c.now) {
		if sn.SnapshotType != "onDemand" {
			continue
		}
		if st := s.progress.snapshot(sn, c.now).Status; st == statusQueued || st == statusInProgress {
			return nil, newError(http.StatusBadRequest, "UNFINISHED_ON_DEMAND_SNAPSHOT",
				"Another on-demand snapshot is queued or in progress: snapshot %s of cluster %s is %s.", sn.ID, cl.Name, st)
		}
	}
	retention := DefaultOnDemandRetention
	if req.RetentionInDays != nil {
		retention = time.Duration(*req.RetentionInDays) * 24 * time.Hour
	}
	// Kept to the nanosecond: at high speeds a second cut off would be
	// minutes of progress. Answers show whole seconds, as Atlas does.
	now := c.now
	sn := Snapshot{
		ID:           s.newIDLocked(),
		GroupID:      p.ID,
		ClusterName:  cl.Name,
		SnapshotType: "onDemand",
		CreatedAt:    now,
		ExpiresAt:    now.Add(retention),
	}
	if req.Description != nil {
		sn.Description = *req.Description
	}
	sn.SizeBytes = int64(float64(s.contents(cl, c.now).SizeBytes) * (0.97 + 0.06*unitFloat(sn.ID, "size")))
	sn.Fails = unitFloat(sn.ID, "fail") < s.cfg.FailureRate
	if cl.ClusterType == "SHARDED" {
		for range replicaSetNames(cl) {
			sn.MemberIDs = append(sn.MemberIDs, s.newIDLocked())
		}
	}
	s.st.Snapshots = append(s.st.Snapshots, sn)
	c.changed = true
	return s.renderSnapshot(c, &s.st.Snapshots[len(s.st.Snapshots)-1]), nil
}

// listSnapshots is GET .../clusters/{clusterName}/backup/snapshots.
func (s *Server) listSnapshots(c *call) (any, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	if cl.ClusterType == "SHARDED" {
		return nil, wrongEndpoint(c, cl)
	}
	pg, err := parsePaging(c)
	if err != nil {
		return nil, err
	}
	pointInTime, hasPoint, err := pointInTimeQuery(c)
	if err != nil {
		return nil, err
	}
	snaps := s.st.clusterSnapshots(p.ID, cl.Name, c.now)
	if hasPoint {
		// The closest completed snapshot taken before that point in time.
		var closest []*Snapshot
		for _, sn := range snaps {
			if !sn.CreatedAt.After(pointInTime) && s.progress.snapshot(sn, c.now).Status == statusCompleted {
				closest = []*Snapshot{sn}
				break
			}
		}
		snaps = closest
	}
	out := make([]wireSnapshot, 0, len(snaps))
	for _, sn := range snaps {
		out = append(out, s.renderSnapshot(c, sn))
	}
	return paginate(c, out, pg), nil
}

// pointInTimeQuery reads pointInTimeUtcSeconds, or oplogTs with oplogInc.
func pointInTimeQuery(c *call) (time.Time, bool, error) {
	read := func(name string) (int64, bool, error) {
		v, ok := c.query[name]
		if !ok {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil {
			return 0, false, badQuery(name, "must be an integer")
		}
		return n, true, nil
	}
	pit, hasPit, err := read("pointInTimeUtcSeconds")
	if err != nil {
		return time.Time{}, false, err
	}
	ts, hasTs, err := read("oplogTs")
	if err != nil {
		return time.Time{}, false, err
	}
	_, hasInc, err := read("oplogInc")
	if err != nil {
		return time.Time{}, false, err
	}
	switch {
	case hasPit && (hasTs || hasInc):
		return time.Time{}, false, newError(http.StatusBadRequest, "MUTUALLY_EXCLUSIVE_QUERY_PARAMETERS",
			"Either the pointInTimeUtcSeconds query parameter or the oplogTs and oplogInc query parameters but not both should be specified.")
	case hasTs != hasInc:
		missing := "oplogInc"
		if !hasTs {
			missing = "oplogTs"
		}
		return time.Time{}, false, newError(http.StatusBadRequest, "MISSING_QUERY_PARAMETER",
			"The required query parameter %s was not specified.", missing)
	case hasPit:
		return time.Unix(pit, 0), true, nil
	case hasTs:
		return time.Unix(ts, 0), true, nil
	}
	return time.Time{}, false, nil
}

// getSnapshot is GET .../backup/snapshots/{snapshotId}.
func (s *Server) getSnapshot(c *call) (any, error) {
	sn, err := s.lookupSnapshot(c, false)
	if err != nil {
		return nil, err
	}
	return s.renderSnapshot(c, sn), nil
}

// listShardedSnapshots is GET .../backup/snapshots/shardedClusters. The spec
// gives it no paging parameters: it returns every snapshot on one page.
func (s *Server) listShardedSnapshots(c *call) (any, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	if cl.ClusterType != "SHARDED" {
		return nil, wrongEndpoint(c, cl)
	}
	snaps := s.st.clusterSnapshots(p.ID, cl.Name, c.now)
	out := make([]wireSnapshot, 0, len(snaps))
	for _, sn := range snaps {
		out = append(out, s.renderSnapshot(c, sn))
	}
	n := len(out)
	return page[wireSnapshot]{
		Links:      []link{{Href: c.base + c.r.URL.EscapedPath(), Rel: "self"}},
		Results:    out,
		TotalCount: &n,
	}, nil
}

// getShardedSnapshot is GET .../backup/snapshots/shardedCluster/{snapshotId}.
func (s *Server) getShardedSnapshot(c *call) (any, error) {
	sn, err := s.lookupSnapshot(c, true)
	if err != nil {
		return nil, err
	}
	return s.renderSnapshot(c, sn), nil
}

// lookupSnapshot finds {snapshotId} of {clusterName}, on the endpoint for
// sharded clusters or for replica sets.
func (s *Server) lookupSnapshot(c *call, sharded bool) (*Snapshot, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	id := c.params["snapshotId"]
	if !hexIDPattern.MatchString(id) {
		return nil, newError(http.StatusNotFound, "INVALID_SNAPSHOT_ID", "An invalid snapshot ID %s was specified.", id)
	}
	if (cl.ClusterType == "SHARDED") != sharded {
		return nil, wrongEndpoint(c, cl)
	}
	sn := s.st.snapshot(p.ID, cl.Name, id, c.now)
	if sn == nil {
		return nil, newError(http.StatusNotFound, "SNAPSHOT_NOT_FOUND", "No snapshot with ID %s exists for cluster %s.", id, cl.Name)
	}
	return sn, nil
}
