package atlassim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

func (st *State) org(id string) *Org {
	for i := range st.Orgs {
		if st.Orgs[i].ID == id {
			return &st.Orgs[i]
		}
	}
	return nil
}

func (st *State) project(id string) *Project {
	for i := range st.Projects {
		if st.Projects[i].ID == id {
			return &st.Projects[i]
		}
	}
	return nil
}

func (st *State) cluster(groupID, name string) *Cluster {
	for i := range st.Clusters {
		if c := &st.Clusters[i]; c.GroupID == groupID && c.Name == name {
			return c
		}
	}
	return nil
}

func (st *State) clusterCount(groupID string) int {
	n := 0
	for _, c := range st.Clusters {
		if c.GroupID == groupID {
			n++
		}
	}
	return n
}

// snapshot finds a snapshot of one cluster by id; expired snapshots are gone,
// as Atlas deletes them.
func (st *State) snapshot(groupID, cluster, id string, now time.Time) *Snapshot {
	for i := range st.Snapshots {
		sn := &st.Snapshots[i]
		if sn.ID == id && sn.GroupID == groupID && sn.ClusterName == cluster && now.Before(sn.ExpiresAt) {
			return sn
		}
	}
	return nil
}

// clusterSnapshots lists the live snapshots of one cluster, newest first.
func (st *State) clusterSnapshots(groupID, cluster string, now time.Time) []*Snapshot {
	var out []*Snapshot
	for i := range st.Snapshots {
		sn := &st.Snapshots[i]
		if sn.GroupID == groupID && sn.ClusterName == cluster && now.Before(sn.ExpiresAt) {
			out = append(out, sn)
		}
	}
	slices.SortStableFunc(out, func(a, b *Snapshot) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

func (st *State) bucket(groupID, id string) *ExportBucket {
	for i := range st.ExportBuckets {
		if b := &st.ExportBuckets[i]; b.ID == id && b.GroupID == groupID {
			return b
		}
	}
	return nil
}

func (st *State) exportJob(groupID, cluster, id string) *ExportJob {
	for i := range st.ExportJobs {
		if j := &st.ExportJobs[i]; j.ID == id && j.GroupID == groupID && j.ClusterName == cluster {
			return j
		}
	}
	return nil
}

// clusterExports lists the export jobs of one cluster, newest first.
func (st *State) clusterExports(groupID, cluster string) []*ExportJob {
	var out []*ExportJob
	for i := range st.ExportJobs {
		if j := &st.ExportJobs[i]; j.GroupID == groupID && j.ClusterName == cluster {
			out = append(out, j)
		}
	}
	slices.SortStableFunc(out, func(a, b *ExportJob) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

func (st *State) pipeline(groupID, name string) *Pipeline {
	for i := range st.Pipelines {
		if p := &st.Pipelines[i]; p.GroupID == groupID && p.Name == name {
			return p
		}
	}
	return nil
}

// pipelineRuns lists a pipeline's runs, newest first.
func (st *State) pipelineRuns(pipelineID string) []*PipelineRun {
	var out []*PipelineRun
	for i := range st.PipelineRuns {
		if r := &st.PipelineRuns[i]; r.PipelineID == pipelineID {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b *PipelineRun) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// clone is a deep copy, made by a JSON round trip (the state is small).
func (st *State) clone() (*State, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("atlassim: copy state: %w", err)
	}
	var out State
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("atlassim: copy state: %w", err)
	}
	return &out, nil
}

// saveStateFile writes the state to path atomically (temporary file, then
// rename), so a crash never leaves half a file behind.
func saveStateFile(path string, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("atlassim: encode state: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("atlassim: save state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("atlassim: save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("atlassim: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("atlassim: save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("atlassim: save state: %w", err)
	}
	return nil
}
