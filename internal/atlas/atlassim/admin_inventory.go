package atlassim

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Changes made "behind Snapdesk's back", as Atlas's own scheduler, its UI
// and other tools make them: a scheduled snapshot appears, a snapshot
// expires, a cluster changes state or goes, a bucket is removed, a project
// is added. Each is a method (for Go tests) and an admin endpoint:
//
//	POST   /_sim/projects          {"name": "ledger"}                      → {"id": …}
//	POST   /_sim/clusters          {"groupId", "name", "clusterType"}     → {"id": …}
//	DELETE /_sim/clusters          {"groupId", "name"}
//	POST   /_sim/clusters/state    {"groupId", "name", "stateName": "UPDATING"}
//	POST   /_sim/snapshots         {"groupId", "clusterName", "snapshotType": "scheduled", "description", "retention": "24h"} → {"id": …}
//	POST   /_sim/snapshots/expire  {"groupId", "snapshotId"}
//	DELETE /_sim/buckets           {"groupId", "bucketId"}

// AddProject adds a project to the first organization and returns its id.
func (s *Server) AddProject(name string) (string, error) {
	if !projectNamePattern.MatchString(name) {
		return "", fmt.Errorf("atlassim: project name %q does not match the spec's pattern", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	org := ""
	if len(s.st.Orgs) > 0 {
		org = s.st.Orgs[0].ID
	}
	id := s.newIDLocked()
	s.st.Projects = append(s.st.Projects, Project{ID: id, OrgID: org, Name: name, Created: s.nowLocked().UTC().Truncate(time.Second)})
	return id, s.savedLocked()
}

// AddCluster adds an idle cluster with backup on and a daily schedule to
// project groupID; clusterType is REPLICASET (default) or SHARDED.
func (s *Server) AddCluster(groupID, name, clusterType string) (string, error) {
	if clusterType == "" {
		clusterType = "REPLICASET"
	}
	if !clusterNamePattern.MatchString(name) || (clusterType != "REPLICASET" && clusterType != "SHARDED") {
		return "", fmt.Errorf("atlassim: cluster %q of type %q: bad name or type", name, clusterType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.project(groupID) == nil {
		return "", fmt.Errorf("atlassim: no project %s", groupID)
	}
	if s.st.cluster(groupID, name) != nil {
		return "", fmt.Errorf("atlassim: cluster %s/%s exists", groupID, name)
	}
	id := s.newIDLocked()
	c := Cluster{ID: id, GroupID: groupID, Name: name, ClusterType: clusterType, ProviderName: "AWS", StateName: "IDLE",
		BackupEnabled: true, CreateDate: s.nowLocked().UTC().Truncate(time.Second),
		PolicyItems: []PolicyItem{{ID: s.newIDLocked(), FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7}}}
	s.st.Clusters = append(s.st.Clusters, c)
	s.st.normalize()
	return id, s.savedLocked()
}

// RemoveCluster deletes a cluster (its snapshots and exports go with it).
func (s *Server) RemoveCluster(groupID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.st.Clusters)
	s.st.Clusters = slices.DeleteFunc(s.st.Clusters, func(c Cluster) bool { return c.GroupID == groupID && c.Name == name })
	if len(s.st.Clusters) == n {
		return fmt.Errorf("atlassim: no cluster %s/%s", groupID, name)
	}
	s.st.Snapshots = slices.DeleteFunc(s.st.Snapshots, func(x Snapshot) bool { return x.GroupID == groupID && x.ClusterName == name })
	s.st.ExportJobs = slices.DeleteFunc(s.st.ExportJobs, func(x ExportJob) bool { return x.GroupID == groupID && x.ClusterName == name })
	return s.savedLocked()
}

// SetClusterState sets a cluster's stateName (IDLE, CREATING, UPDATING,
// DELETING or REPAIRING).
func (s *Server) SetClusterState(groupID, name, state string) error {
	switch state {
	case "IDLE", "CREATING", "UPDATING", "DELETING", "REPAIRING":
	default:
		return fmt.Errorf("atlassim: cluster state %q is not in the spec's enum", state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.cluster(groupID, name)
	if c == nil {
		return fmt.Errorf("atlassim: no cluster %s/%s", groupID, name)
	}
	c.StateName = state
	return s.savedLocked()
}

// SnapshotSpec describes a snapshot added behind Snapdesk's back.
type SnapshotSpec struct {
	// SnapshotType is scheduled (default), onDemand or fallback.
	SnapshotType string
	Description  string
	// Retention is how long until it expires (default 7 days).
	Retention time.Duration
	// Age makes it created that long ago (completed when old enough).
	Age time.Duration
}

// AddSnapshot adds a snapshot of a cluster, as Atlas's scheduler (or
// another tool) would, and returns its id.
func (s *Server) AddSnapshot(groupID, clusterName string, spec SnapshotSpec) (string, error) {
	if spec.SnapshotType == "" {
		spec.SnapshotType = "scheduled"
	}
	switch spec.SnapshotType {
	case "scheduled", "onDemand", "fallback":
	default:
		return "", fmt.Errorf("atlassim: snapshot type %q is not in the spec's enum", spec.SnapshotType)
	}
	if spec.Retention <= 0 {
		spec.Retention = 7 * 24 * time.Hour
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.st.cluster(groupID, clusterName)
	if cl == nil {
		return "", fmt.Errorf("atlassim: no cluster %s/%s", groupID, clusterName)
	}
	created := s.nowLocked().UTC().Add(-spec.Age).Truncate(time.Second)
	sn := Snapshot{ID: s.newIDLocked(), GroupID: groupID, ClusterName: clusterName, SnapshotType: spec.SnapshotType,
		Description: spec.Description, CreatedAt: created, ExpiresAt: created.Add(spec.Retention)}
	if spec.SnapshotType == "scheduled" && len(cl.PolicyItems) > 0 {
		sn.PolicyItemID, sn.FrequencyType = cl.PolicyItems[0].ID, cl.PolicyItems[0].FrequencyType
	}
	sn.SizeBytes = int64(float64(cl.DataSizeBytes) * (0.97 + 0.06*unitFloat(sn.ID, "size")))
	if cl.ClusterType == "SHARDED" {
		for range replicaSetNames(cl) {
			sn.MemberIDs = append(sn.MemberIDs, s.newIDLocked())
		}
	}
	s.st.Snapshots = append(s.st.Snapshots, sn)
	return sn.ID, s.savedLocked()
}

// ExpireSnapshot makes a snapshot expire now: Atlas deletes it and lists
// it no more.
func (s *Server) ExpireSnapshot(groupID, snapshotID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked().UTC()
	for i := range s.st.Snapshots {
		sn := &s.st.Snapshots[i]
		if sn.GroupID == groupID && sn.ID == snapshotID && now.Before(sn.ExpiresAt) {
			sn.ExpiresAt = now
			return s.savedLocked()
		}
	}
	return fmt.Errorf("atlassim: no live snapshot %s in project %s", snapshotID, groupID)
}

// RemoveBucket deletes an export bucket.
func (s *Server) RemoveBucket(groupID, bucketID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.st.ExportBuckets)
	s.st.ExportBuckets = slices.DeleteFunc(s.st.ExportBuckets, func(b ExportBucket) bool { return b.GroupID == groupID && b.ID == bucketID })
	if len(s.st.ExportBuckets) == n {
		return fmt.Errorf("atlassim: no bucket %s in project %s", bucketID, groupID)
	}
	return s.savedLocked()
}

// savedLocked persists the state when persistence is on.
func (s *Server) savedLocked() error {
	if s.cfg.PersistPath == "" {
		return nil
	}
	return saveStateFile(s.cfg.PersistPath, s.st)
}

// serveInventoryAdmin serves the endpoints above; it reports whether route
// was one of them.
func (s *Server) serveInventoryAdmin(route string, readBody func(any) bool, ok func(any), fail func(int, string, ...any)) bool {
	var req struct {
		GroupID      string       `json:"groupId"`
		Name         string       `json:"name"`
		ClusterName  string       `json:"clusterName"`
		ClusterType  string       `json:"clusterType"`
		StateName    string       `json:"stateName"`
		SnapshotID   string       `json:"snapshotId"`
		SnapshotType string       `json:"snapshotType"`
		Description  string       `json:"description"`
		Retention    jsonDuration `json:"retention"`
		BucketID     string       `json:"bucketId"`
	}
	var id string
	var err error
	switch route {
	case "POST /_sim/projects", "POST /_sim/clusters", "DELETE /_sim/clusters", "POST /_sim/clusters/state",
		"POST /_sim/snapshots", "POST /_sim/snapshots/expire", "DELETE /_sim/buckets":
		if !readBody(&req) {
			return true
		}
	default:
		return false
	}
	switch route {
	case "POST /_sim/projects":
		id, err = s.AddProject(req.Name)
	case "POST /_sim/clusters":
		id, err = s.AddCluster(req.GroupID, req.Name, req.ClusterType)
	case "DELETE /_sim/clusters":
		err = s.RemoveCluster(req.GroupID, req.Name)
	case "POST /_sim/clusters/state":
		err = s.SetClusterState(req.GroupID, req.Name, req.StateName)
	case "POST /_sim/snapshots":
		id, err = s.AddSnapshot(req.GroupID, req.ClusterName, SnapshotSpec{SnapshotType: req.SnapshotType,
			Description: req.Description, Retention: time.Duration(req.Retention)})
	case "POST /_sim/snapshots/expire":
		err = s.ExpireSnapshot(req.GroupID, req.SnapshotID)
	case "DELETE /_sim/buckets":
		err = s.RemoveBucket(req.GroupID, req.BucketID)
	}
	if err != nil {
		fail(http.StatusBadRequest, "%v", err)
		return true
	}
	if id != "" {
		ok(map[string]string{"id": id})
	} else {
		ok(map[string]string{"status": "done"})
	}
	return true
}
