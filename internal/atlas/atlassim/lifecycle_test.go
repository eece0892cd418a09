package atlassim_test

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// snapshot is the part of a snapshot answer the tests look at.
type snapshot struct {
	ID               string
	Type             string
	Status           string
	SnapshotType     string
	StorageSizeBytes int64
	CreatedAt        time.Time
	ExpiresAt        time.Time
	Description      string
	ReplicaSetName   string
	SnapshotIDs      []string
	Members          []struct{ ID, ReplicaSetName, CloudProvider string }
}

func TestSnapshotLifecycle(t *testing.T) {
	e := newEnv(t, atlassim.Config{})

	res := e.post(rs+"/backup/snapshots", v1, map[string]any{"description": "before release", "retentionInDays": 3})
	res.wantOK(t)
	var sn snapshot
	res.decode(t, &sn)
	if sn.Status != "queued" || sn.Type != "replicaSet" || sn.SnapshotType != "onDemand" || sn.StorageSizeBytes != 0 {
		t.Fatalf("new snapshot = %+v, want a queued on-demand replicaSet snapshot of size 0", sn)
	}
	if !sn.CreatedAt.Equal(t0) || !sn.ExpiresAt.Equal(t0.Add(3*24*time.Hour)) {
		t.Errorf("createdAt, expiresAt = %v, %v; want %v and three days later", sn.CreatedAt, sn.ExpiresAt, t0)
	}
	if sn.Description != "before release" || sn.ReplicaSetName == "" {
		t.Errorf("description, replicaSetName = %q, %q", sn.Description, sn.ReplicaSetName)
	}

	// While it runs, another on-demand snapshot of the cluster is refused.
	e.post(rs+"/backup/snapshots", v1, map[string]any{}).wantError(t, http.StatusBadRequest, "UNFINISHED_ON_DEMAND_SNAPSHOT")

	// Follow it through inProgress, size growing, to completed.
	get := func() snapshot {
		t.Helper()
		var s snapshot
		e.get(rs+"/backup/snapshots/"+sn.ID, v1).decode(t, &s)
		return s
	}
	var statuses []string
	var last int64 = -1
	for i := 0; i < 24; i++ {
		s := get()
		if len(statuses) == 0 || statuses[len(statuses)-1] != s.Status {
			statuses = append(statuses, s.Status)
		}
		if s.StorageSizeBytes < last {
			t.Fatalf("storageSizeBytes fell from %d to %d", last, s.StorageSizeBytes)
		}
		last = s.StorageSizeBytes
		if s.Status == "inProgress" {
			e.post(rs+"/backup/snapshots", v1, map[string]any{}).wantError(t, http.StatusBadRequest, "UNFINISHED_ON_DEMAND_SNAPSHOT")
		}
		e.advance(30 * time.Second)
	}
	if diff := cmp.Diff([]string{"queued", "inProgress", "completed"}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	final := get()
	if final.StorageSizeBytes < 3<<30 {
		t.Errorf("completed storageSizeBytes = %d, want about the cluster's 3.2 GiB", final.StorageSizeBytes)
	}

	// Completed: a new on-demand snapshot is accepted.
	e.post(rs+"/backup/snapshots", v1, map[string]any{}).wantOK(t)

	// It is listed, newest first, and it expires after its retention.
	var list struct {
		Results    []snapshot
		TotalCount int
	}
	e.get(rs+"/backup/snapshots", v1).decode(t, &list)
	if list.TotalCount != 6 || list.Results[1].ID != sn.ID {
		t.Errorf("list: totalCount %d, second result %s; want 6 and %s", list.TotalCount, list.Results[1].ID, sn.ID)
	}
	e.advance(3 * 24 * time.Hour)
	e.get(rs+"/backup/snapshots/"+sn.ID, v1).wantError(t, http.StatusNotFound, "SNAPSHOT_NOT_FOUND")
}

func TestSnapshotSpeed(t *testing.T) {
	e := newEnv(t, atlassim.Config{Speed: 100})
	res := e.post(rs+"/backup/snapshots", v1, map[string]any{})
	var sn snapshot
	res.decode(t, &sn)
	e.advance(10 * time.Second)
	var got snapshot
	e.get(rs+"/backup/snapshots/"+sn.ID, v1).decode(t, &got)
	if got.Status != "completed" {
		t.Errorf("at speed 100, status after 10s = %s, want completed", got.Status)
	}
}

func TestShardedSnapshot(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	res := e.post(sh+"/backup/snapshots", v1, map[string]any{"retentionInDays": 1})
	res.wantOK(t)
	var sn snapshot
	res.decode(t, &sn)
	if sn.Type != "shardedCluster" || sn.Status != "queued" {
		t.Fatalf("snapshot = %+v, want a queued shardedCluster snapshot", sn)
	}
	// Two shards and a dedicated config server.
	if len(sn.Members) != 3 || len(sn.SnapshotIDs) != 3 {
		t.Fatalf("members %d, snapshotIds %d; want 3 each", len(sn.Members), len(sn.SnapshotIDs))
	}
	rsName := regexp.MustCompile(`^atlas-[0-9a-f]{6}-(shard|config)-\d$`)
	for i, m := range sn.Members {
		if m.ID != sn.SnapshotIDs[i] || m.CloudProvider != "GCP" || !rsName.MatchString(m.ReplicaSetName) {
			t.Errorf("member %d = %+v", i, m)
		}
	}
	e.advance(10 * time.Minute)
	var got snapshot
	e.get(sh+"/backup/snapshots/shardedCluster/"+sn.ID, v1).decode(t, &got)
	if got.Status != "completed" {
		t.Errorf("status after 10 minutes = %s, want completed", got.Status)
	}
	var list struct {
		Results    []snapshot
		TotalCount int
	}
	e.get(sh+"/backup/snapshots/shardedClusters", v1).decode(t, &list)
	if list.TotalCount != 4 || list.Results[0].ID != sn.ID {
		t.Errorf("sharded list: %d results, first %s; want 4 and %s", list.TotalCount, list.Results[0].ID, sn.ID)
	}
}

// exportJob is the part of an export job answer the tests look at.
type exportJob struct {
	ID           string
	State        string
	Prefix       string
	FinishedAt   *time.Time
	SnapshotID   string
	CustomData   []struct{ Key, Value string }
	Components   []struct{ ExportID, ReplicaSetName string }
	ExportStatus struct{ ExportedCollections, TotalCollections int }
	StateReason  *struct{ ErrorCode, Message string }
}

func TestExportLifecycle(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	body := map[string]any{
		"snapshotId":     atlassim.FixtureSnapshotID,
		"exportBucketId": atlassim.FixtureAWSBucketID,
		"customData":     []map[string]string{{"key": "requestedBy", "value": "alice"}},
	}
	res := e.post(rs+"/backup/exports", v1, body)
	res.wantOK(t)
	var job exportJob
	res.decode(t, &job)
	if job.State != "Queued" || job.ExportStatus.ExportedCollections != 0 || job.ExportStatus.TotalCollections != 24 {
		t.Fatalf("new export = %+v", job)
	}
	wantPrefix := "/exported_snapshots/snapdesk-demo/payments/Cluster0/" + t0.Add(-5*time.Hour).Format("2006-01-02") + "/" + strconv.FormatInt(t0.Unix(), 10)
	if job.Prefix != wantPrefix {
		t.Errorf("prefix = %q, want %q", job.Prefix, wantPrefix)
	}
	if len(job.CustomData) != 1 || job.CustomData[0].Value != "alice" || len(job.Components) != 0 {
		t.Errorf("customData %v, components %v", job.CustomData, job.Components)
	}

	// The same snapshot to the same bucket while it runs: 409.
	e.post(rs+"/backup/exports", v1, body).wantError(t, http.StatusConflict, "EXPORT_ALREADY_IN_PROGRESS")

	var states []string
	last, risingSteps := -1, 0
	for i := 0; i < 30; i++ {
		var j exportJob
		e.get(rs+"/backup/exports/"+job.ID, v1).decode(t, &j)
		if len(states) == 0 || states[len(states)-1] != j.State {
			states = append(states, j.State)
		}
		if j.ExportStatus.ExportedCollections < last {
			t.Fatalf("exportedCollections fell from %d to %d", last, j.ExportStatus.ExportedCollections)
		}
		if j.State == "InProgress" && last > 0 && j.ExportStatus.ExportedCollections > last {
			risingSteps++
		}
		last = j.ExportStatus.ExportedCollections
		if (j.FinishedAt != nil) != (j.State == "Successful") {
			t.Fatalf("state %s with finishedAt %v", j.State, j.FinishedAt)
		}
		e.advance(time.Minute)
	}
	if diff := cmp.Diff([]string{"Queued", "InProgress", "Successful"}, states); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	if risingSteps < 5 {
		t.Errorf("exportedCollections rose in %d of the in-progress minutes, want it to rise steadily", risingSteps)
	}
	if last != 24 {
		t.Errorf("exportedCollections at the end = %d, want 24", last)
	}

	// Once finished, the same export can be made again.
	e.post(rs+"/backup/exports", v1, body).wantOK(t)
	var list struct {
		Results    []exportJob
		TotalCount int
	}
	e.get(rs+"/backup/exports", v1).decode(t, &list)
	if list.TotalCount != 2 || list.Results[1].ID != job.ID {
		t.Errorf("exports: %d, second %s; want 2 and %s", list.TotalCount, list.Results[1].ID, job.ID)
	}
}

func TestExportOfShardedSnapshot(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	res := e.post(sh+"/backup/exports", v1, map[string]any{"snapshotId": atlassim.FixtureShardedSnapshotID, "exportBucketId": atlassim.FixtureGCPBucketID})
	res.wantOK(t)
	var job exportJob
	res.decode(t, &job)
	if len(job.Components) != 2 {
		t.Fatalf("components = %v, want one per shard (2)", job.Components)
	}
	for i, c := range job.Components {
		if c.ReplicaSetName == "" || c.ExportID == "" || c.ExportID == job.ID {
			t.Errorf("component %d = %+v", i, c)
		}
	}
}

func TestExportOfIncompleteSnapshot(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	var sn snapshot
	e.post(rs+"/backup/snapshots", v1, map[string]any{}).decode(t, &sn)
	e.post(rs+"/backup/exports", v1, map[string]any{"snapshotId": sn.ID, "exportBucketId": atlassim.FixtureAWSBucketID}).
		wantError(t, http.StatusConflict, "CANNOT_EXPORT_INCOMPLETE_SNAPSHOT")
}

// run is the part of a pipeline run answer the tests look at.
type run struct {
	ID                    string `json:"_id"`
	State                 string
	Phase                 string
	SnapshotID            string
	DatasetName           string
	BackupFrequencyType   string
	ScheduledDeletionDate *time.Time
	Stats                 struct{ BytesExported, NumDocs int64 }
}

func TestPipelineRunLifecycle(t *testing.T) {
	e := newEnv(t, atlassim.Config{})

	// The pipeline offers the completed snapshots of its source cluster only.
	var avail struct {
		Results []snapshot
	}
	e.get(pl+"/availableSnapshots", v1).decode(t, &avail)
	if len(avail.Results) != 4 {
		t.Fatalf("available snapshots = %d, want Cluster0's 4", len(avail.Results))
	}
	for _, s := range avail.Results {
		if s.Status != "completed" || s.Type != "replicaSet" {
			t.Errorf("available snapshot %+v", s)
		}
	}
	since := t0.Add(-28 * time.Hour).Format(time.RFC3339)
	e.get(pl+"/availableSnapshots?completedAfter="+since, v1).decode(t, &avail)
	if len(avail.Results) != 2 {
		t.Errorf("available snapshots after %s = %d, want 2", since, len(avail.Results))
	}

	res := e.post(pl+"/trigger", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID})
	res.wantOK(t)
	var r run
	res.decode(t, &r)
	wantName := "v1$atlas$snapshot$Cluster0$shop$orders$" + t0.Add(-5*time.Hour).Format("20060102T150405Z")
	if r.State != "PENDING" || r.DatasetName != wantName || r.BackupFrequencyType != "ON_DEMAND" || r.SnapshotID != atlassim.FixtureSnapshotID {
		t.Fatalf("new run = %+v; want PENDING, datasetName %s", r, wantName)
	}

	type step struct{ State, Phase string }
	var steps []step
	var lastBytes, lastDocs int64
	for i := 0; i < 30; i++ {
		var cur run
		e.get(pl+"/runs/"+r.ID, v1).decode(t, &cur)
		if s := (step{cur.State, cur.Phase}); len(steps) == 0 || steps[len(steps)-1] != s {
			steps = append(steps, s)
		}
		if cur.Stats.BytesExported < lastBytes || cur.Stats.NumDocs < lastDocs {
			t.Fatalf("stats fell: %+v after %d bytes, %d docs", cur.Stats, lastBytes, lastDocs)
		}
		lastBytes, lastDocs = cur.Stats.BytesExported, cur.Stats.NumDocs
		e.advance(time.Minute)
	}
	want := []step{
		{"PENDING", "SNAPSHOT"},
		{"IN_PROGRESS", "SNAPSHOT"},
		{"IN_PROGRESS", "EXPORT"},
		{"IN_PROGRESS", "INGESTION"},
		{"DONE", "INGESTION"},
	}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("run steps (-want +got):\n%s", diff)
	}
	if lastBytes == 0 || lastDocs == 0 {
		t.Errorf("final stats %d bytes, %d docs; want both above 0", lastBytes, lastDocs)
	}

	var list struct {
		Results    []run
		TotalCount int
	}
	e.get(pl+"/runs", v1).decode(t, &list)
	if list.TotalCount != 2 || list.Results[0].ID != r.ID || list.Results[0].ScheduledDeletionDate == nil {
		t.Errorf("runs = %+v; want the new DONE run first (with a deletion date) and the fixture run", list)
	}
	e.get(pl+"/runs?createdBefore="+t0.Format(time.RFC3339), v1).decode(t, &list)
	if list.TotalCount != 1 {
		t.Errorf("runs created before %v = %d, want the fixture run only", t0, list.TotalCount)
	}

	// Pause refuses triggers; resume allows them again.
	var p struct{ State string }
	e.post(pl+"/pause", v1, nil).decode(t, &p)
	if p.State != "PAUSED" {
		t.Errorf("after pause, state = %s", p.State)
	}
	e.post(pl+"/trigger", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID}).wantError(t, http.StatusBadRequest, "PIPELINE_PAUSED")
	e.post(pl+"/resume", v1, nil).decode(t, &p)
	if p.State != "ACTIVE" {
		t.Errorf("after resume, state = %s", p.State)
	}
	e.post(pl+"/trigger", v1, map[string]any{"snapshotId": atlassim.FixtureScheduledSnapshotID}).wantOK(t)
}

func TestTriggerIncompleteSnapshot(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	var sn snapshot
	e.post(rs+"/backup/snapshots", v1, map[string]any{}).decode(t, &sn)
	e.post(pl+"/trigger", v1, map[string]any{"snapshotId": sn.ID}).wantError(t, http.StatusBadRequest, "SNAPSHOT_NOT_COMPLETED")
}

func TestFailureRate(t *testing.T) {
	e := newEnv(t, atlassim.Config{FailureRate: 1})

	var sn snapshot
	e.post(rs+"/backup/snapshots", v1, map[string]any{}).decode(t, &sn)
	var job exportJob
	e.post(rs+"/backup/exports", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "exportBucketId": atlassim.FixtureAzureBucketID}).decode(t, &job)
	var r run
	e.post(pl+"/trigger", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID}).decode(t, &r)

	e.advance(time.Hour)

	e.get(rs+"/backup/snapshots/"+sn.ID, v1).decode(t, &sn)
	if sn.Status != "failed" {
		t.Errorf("snapshot status = %s, want failed", sn.Status)
	}
	e.get(rs+"/backup/exports/"+job.ID, v1).decode(t, &job)
	if job.State != "Failed" || job.StateReason == nil || job.StateReason.Message == "" || job.FinishedAt == nil {
		t.Errorf("export = %+v, want Failed with a stateReason and finishedAt", job)
	}
	if job.ExportStatus.ExportedCollections >= job.ExportStatus.TotalCollections {
		t.Errorf("failed export exported %d of %d collections", job.ExportStatus.ExportedCollections, job.ExportStatus.TotalCollections)
	}
	e.get(pl+"/runs/"+r.ID, v1).decode(t, &r)
	if r.State != "FAILED" || r.Phase != "EXPORT" {
		t.Errorf("run = %s in %s, want FAILED in EXPORT", r.State, r.Phase)
	}
	// A failed on-demand snapshot does not block the next one.
	e.post(rs+"/backup/snapshots", v1, map[string]any{}).wantOK(t)
}

func TestDatasetDeletedAfterRetention(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	var r run
	e.post(pl+"/trigger", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID,
		"datasetRetentionPolicy": map[string]any{"units": "WEEKS", "value": 1}}).decode(t, &r)
	e.advance(time.Hour)
	e.get(pl+"/runs/"+r.ID, v1).decode(t, &r)
	if r.State != "DONE" || r.ScheduledDeletionDate == nil {
		t.Fatalf("run = %+v, want DONE with a deletion date", r)
	}
	if want := t0.Add(24*time.Minute + 7*24*time.Hour); !r.ScheduledDeletionDate.Equal(want) {
		t.Errorf("scheduledDeletionDate = %v, want %v", r.ScheduledDeletionDate, want)
	}
	e.advance(7 * 24 * time.Hour)
	e.get(pl+"/runs/"+r.ID, v1).decode(t, &r)
	if r.State != "DATASET_DELETED" {
		t.Errorf("a week later, state = %s, want DATASET_DELETED", r.State)
	}
}
