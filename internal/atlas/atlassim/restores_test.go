package atlassim_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// restoreJob is the part of S.DiskBackupSnapshotRestoreJob the tests read.
type restoreJob struct {
	ID                string   `json:"id"`
	DeliveryType      string   `json:"deliveryType"`
	SnapshotID        string   `json:"snapshotId"`
	TargetClusterName string   `json:"targetClusterName"`
	Cancelled         bool     `json:"cancelled"`
	Failed            bool     `json:"failed"`
	Expired           bool     `json:"expired"`
	ExpiresAt         string   `json:"expiresAt"`
	FinishedAt        string   `json:"finishedAt"`
	Timestamp         string   `json:"timestamp"`
	DeliveryURL       []string `json:"deliveryUrl"`
	Components        []struct {
		DownloadURL    string `json:"downloadUrl"`
		ReplicaSetName string `json:"replicaSetName"`
	} `json:"components"`
	DesiredTimestamp *struct {
		Date string `json:"date"`
	} `json:"desiredTimestamp"`
}

const (
	restores = rs + "/backup/restoreJobs"
	scratch  = "/api/atlas/v2/groups/" + g + "/clusters/" + atlassim.FixtureScratchCluster
)

func automatedBody(snapshot, target string) map[string]any {
	return map[string]any{"deliveryType": "automated", "snapshotId": snapshot, "targetGroupId": g, "targetClusterName": target}
}

func (e *env) restore(t *testing.T, id string) restoreJob {
	t.Helper()
	res := e.get(restores+"/"+id, v1)
	res.wantOK(t)
	var j restoreJob
	res.decode(t, &j)
	return j
}

func (e *env) clusterState(t *testing.T, path string) string {
	t.Helper()
	res := e.get(path, v4)
	res.wantOK(t)
	return res.json(t)["stateName"].(string)
}

// TestRestoreAutomated: the target leaves IDLE while it is restored, and
// its data is the snapshot's afterwards.
func TestRestoreAutomated(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	res := e.post(restores, v1, automatedBody(atlassim.FixtureSnapshotID, atlassim.FixtureScratchCluster))
	res.wantOK(t)
	var j restoreJob
	res.decode(t, &j)
	if j.Timestamp != "" || j.FinishedAt != "" || j.TargetClusterName != atlassim.FixtureScratchCluster {
		t.Fatalf("new restore = %+v, want queued (no timestamp, not finished)", j)
	}
	if got := e.clusterState(t, scratch); got != "UPDATING" {
		t.Errorf("target while queued: %s, want UPDATING", got)
	}
	// Another restore onto the busy target is refused.
	e.post(restores, v1, automatedBody(atlassim.FixtureScheduledSnapshotID, atlassim.FixtureScratchCluster)).
		wantError(t, http.StatusConflict, "CLUSTER_NOT_IDLE")

	e.advance(5 * time.Minute)
	if j = e.restore(t, j.ID); j.Timestamp == "" || j.FinishedAt != "" {
		t.Fatalf("restore after 5 min = %+v, want running", j)
	}
	if by, _, _, _ := e.sim.Contents(g, atlassim.FixtureScratchCluster); by != "" {
		t.Errorf("data replaced before the restore finished (by %s)", by)
	}
	e.advance(15 * time.Minute)
	j = e.restore(t, j.ID)
	if j.FinishedAt == "" || j.Failed || j.Cancelled {
		t.Fatalf("restore after 20 min = %+v, want finished", j)
	}
	if got := e.clusterState(t, scratch); got != "IDLE" {
		t.Errorf("target after the restore: %s, want IDLE", got)
	}
	by, _, size, _ := e.sim.Contents(g, atlassim.FixtureScratchCluster)
	if by != j.ID || size < 3<<30 {
		t.Errorf("target holds restore %q, %d bytes; want %s with Cluster0's snapshot (>3 GiB)", by, size, j.ID)
	}
	// Cancelling a finished restore: 405.
	e.call("DELETE", restores+"/"+j.ID, v1, nil).wantError(t, http.StatusMethodNotAllowed, "CANNOT_CANCEL_FINISHED_RESTORE_JOB")
}

// TestRestoreDownload: links appear when ready and the job expires.
func TestRestoreDownload(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	res := e.post(restores, v1, map[string]any{"deliveryType": "download", "snapshotId": atlassim.FixtureSnapshotID})
	res.wantOK(t)
	var j restoreJob
	res.decode(t, &j)
	if len(j.DeliveryURL) != 0 {
		t.Fatalf("links before the restore is ready: %v", j.DeliveryURL)
	}
	if got := e.clusterState(t, rs); got != "IDLE" {
		t.Errorf("a download restore changed the source's state to %s", got)
	}
	e.advance(7 * time.Minute)
	j = e.restore(t, j.ID)
	if len(j.DeliveryURL) != 1 || j.ExpiresAt == "" || j.Expired || j.FinishedAt == "" {
		t.Fatalf("ready download = %+v, want one link, an expiry, not expired", j)
	}
	expires, err := time.Parse(time.RFC3339, j.ExpiresAt)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(expires)
	j = e.restore(t, j.ID)
	if !j.Expired || len(j.DeliveryURL) != 0 {
		t.Fatalf("download at its expiry = %+v, want expired without links", j)
	}

	// A sharded source gives one link per replica set.
	sj := e.post(sh+"/backup/restoreJobs", v1, map[string]any{"deliveryType": "download", "snapshotId": atlassim.FixtureShardedSnapshotID})
	sj.wantOK(t)
	id := sj.json(t)["id"].(string)
	e.advance(7 * time.Minute)
	got := e.get(sh+"/backup/restoreJobs/"+id, v1)
	got.wantOK(t)
	var shj restoreJob
	got.decode(t, &shj)
	if len(shj.Components) != 3 || shj.Components[0].DownloadURL == "" || len(shj.DeliveryURL) != 3 {
		t.Errorf("sharded download = %+v, want a link for each of 3 replica sets", shj)
	}
}

// TestRestorePointInTime: only with continuous backup, inside the window.
func TestRestorePointInTime(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	pit := func(cluster string, at time.Time) map[string]any {
		return map[string]any{"deliveryType": "pointInTime", "pointInTimeUTCSeconds": at.Unix(), "targetGroupId": g, "targetClusterName": cluster}
	}
	// The schedule names the window.
	sched := e.get(rs+"/backup/schedule", v4)
	sched.wantOK(t)
	if days := sched.json(t)["restoreWindowDays"].(float64); days != 7 {
		t.Fatalf("Cluster0's restore window = %v days, want 7", days)
	}
	e.post(restores, v1, pit(atlassim.FixtureScratchCluster, t0.AddDate(0, 0, -8))).wantError(t, http.StatusBadRequest, "INVALID_POINT_IN_TIME")
	e.post(restores, v1, pit(atlassim.FixtureScratchCluster, t0.Add(time.Hour))).wantError(t, http.StatusBadRequest, "INVALID_POINT_IN_TIME")
	e.post(sh+"/backup/restoreJobs", v1, pit(atlassim.FixtureScratchCluster, t0.Add(-time.Hour))).wantError(t, http.StatusBadRequest, "CONTINUOUS_BACKUP_NOT_ENABLED")

	res := e.post(restores, v1, pit(atlassim.FixtureScratchCluster, t0.Add(-2*time.Hour)))
	res.wantOK(t)
	var j restoreJob
	res.decode(t, &j)
	if j.SnapshotID != atlassim.FixtureSnapshotID {
		t.Errorf("point in time 2 h ago restores from %s, want the newest snapshot before it (%s)", j.SnapshotID, atlassim.FixtureSnapshotID)
	}
	e.advance(2 * time.Minute)
	j = e.restore(t, j.ID)
	if j.DesiredTimestamp == nil || j.DesiredTimestamp.Date != t0.Add(-2*time.Hour).Format("2006-01-02T15:04:05Z") {
		t.Errorf("running point-in-time restore = %+v, want desiredTimestamp 2 h before t0", j)
	}
	e.advance(25 * time.Minute)
	if j = e.restore(t, j.ID); j.FinishedAt == "" {
		t.Errorf("point-in-time restore after 27 min = %+v, want finished", j)
	}
}

// TestRestoreCancel: 204 while running, then cancelled; the target is IDLE
// again and keeps its data; a second cancel is 405.
func TestRestoreCancel(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	res := e.post(restores, v1, automatedBody(atlassim.FixtureSnapshotID, atlassim.FixtureScratchCluster))
	res.wantOK(t)
	id := res.json(t)["id"].(string)
	e.advance(3 * time.Minute)
	del := e.call("DELETE", restores+"/"+id, v1, nil)
	if del.status != http.StatusNoContent {
		t.Fatalf("cancel = %d %s, want 204", del.status, del.body)
	}
	if j := e.restore(t, id); !j.Cancelled || j.FinishedAt != "" {
		t.Errorf("after cancel = %+v", j)
	}
	if got := e.clusterState(t, scratch); got != "IDLE" {
		t.Errorf("target after cancel: %s, want IDLE", got)
	}
	e.advance(time.Hour)
	if by, _, _, _ := e.sim.Contents(g, atlassim.FixtureScratchCluster); by != "" {
		t.Errorf("a cancelled restore replaced the target's data")
	}
	e.call("DELETE", restores+"/"+id, v1, nil).wantError(t, http.StatusMethodNotAllowed, "CANNOT_CANCEL_FINISHED_RESTORE_JOB")
}

// TestRestoreErrors: Atlas-shaped refusals, each validated against the spec.
func TestRestoreErrors(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	// Make a snapshot in flight, to restore it too early.
	snap := e.post(rs+"/backup/snapshots", v1, map[string]any{"retentionInDays": 1})
	snap.wantOK(t)
	inFlight := snap.json(t)["id"].(string)
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"no delivery type", restores, `{"snapshotId":"` + atlassim.FixtureSnapshotID + `"}`, 400, "VALIDATION_ERROR"},
		{"unknown delivery type", restores, `{"deliveryType":"email","snapshotId":"` + atlassim.FixtureSnapshotID + `"}`, 400, "VALIDATION_ERROR"},
		{"automated without target", restores, `{"deliveryType":"automated","snapshotId":"` + atlassim.FixtureSnapshotID + `"}`, 400, "VALIDATION_ERROR"},
		{"download without snapshot", restores, `{"deliveryType":"download"}`, 400, "VALIDATION_ERROR"},
		{"point in time and oplog", restores, `{"deliveryType":"pointInTime","targetGroupId":"` + g + `","targetClusterName":"payments-scratch","pointInTimeUTCSeconds":` + strconv.FormatInt(t0.Unix()-60, 10) + `,"oplogTs":` + strconv.FormatInt(t0.Unix()-60, 10) + `,"oplogInc":1}`, 400, "VALIDATION_ERROR"},
		{"unknown snapshot", restores, automatedBody(unknownID, atlassim.FixtureScratchCluster), 404, "SNAPSHOT_NOT_FOUND"},
		{"snapshot of another cluster", restores, automatedBody(atlassim.FixtureShardedSnapshotID, atlassim.FixtureScratchCluster), 404, "SNAPSHOT_NOT_FOUND"},
		{"snapshot not completed", restores, automatedBody(inFlight, atlassim.FixtureScratchCluster), 409, "CANNOT_RESTORE_INCOMPLETE_SNAPSHOT"},
		{"target cluster missing", restores, automatedBody(atlassim.FixtureSnapshotID, "Nope0"), 404, "CLUSTER_NOT_FOUND"},
		{"target project missing", restores, map[string]any{"deliveryType": "automated", "snapshotId": atlassim.FixtureSnapshotID, "targetGroupId": unknownID, "targetClusterName": "Cluster0"}, 404, "GROUP_NOT_FOUND"},
		{"replica set onto sharded", restores, automatedBody(atlassim.FixtureSnapshotID, atlassim.FixtureShardedCluster), 400, "INCOMPATIBLE_RESTORE_TARGET"},
		{"source without backups", "/api/atlas/v2/groups/" + g + "/clusters/" + atlassim.FixtureNoBackupCluster + "/backup/restoreJobs", map[string]any{"deliveryType": "download", "snapshotId": atlassim.FixtureSnapshotID}, 400, "BACKUP_JOB_NOT_FOUND"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.post(tc.path, v1, tc.body).wantError(t, tc.status, tc.code)
		})
	}
	t.Run("unknown restore job", func(t *testing.T) {
		e.get(restores+"/"+unknownID, v1).wantError(t, http.StatusNotFound, "RESTORE_JOB_NOT_FOUND")
		e.call("DELETE", restores+"/"+unknownID, v1, nil).wantError(t, http.StatusNotFound, "RESTORE_JOB_NOT_FOUND")
	})
	t.Run("restoring a cluster onto itself is Atlas's to allow", func(t *testing.T) {
		e.post(restores, v1, automatedBody(atlassim.FixtureSnapshotID, atlassim.FixtureReplicaSetCluster)).wantOK(t)
		if got := e.clusterState(t, rs); got != "UPDATING" {
			t.Errorf("Cluster0 restored onto itself is %s, want UPDATING", got)
		}
	})
}

// TestBackupSchedules: every cluster has a schedule, in both versions.
func TestBackupSchedules(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	st, err := e.sim.State()
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range st.Clusters {
		for _, v := range []string{v1, v4} {
			res := e.get("/api/atlas/v2/groups/"+cl.GroupID+"/clusters/"+cl.Name+"/backup/schedule", v)
			res.wantOK(t)
			m := res.json(t)
			items := m["policies"].([]any)[0].(map[string]any)["policyItems"].([]any)
			if m["clusterName"] != cl.Name || len(items) != len(cl.PolicyItems) && cl.BackupEnabled {
				t.Errorf("%s schedule (%s) = %v", cl.Name, v, m)
			}
			if _, next := m["nextSnapshot"]; next != (cl.BackupEnabled && len(cl.PolicyItems) > 0) {
				t.Errorf("%s: nextSnapshot present = %v, backups on = %v", cl.Name, next, cl.BackupEnabled)
			}
		}
	}
	res := e.get("/api/atlas/v2/groups/"+atlassim.FixtureProject2ID+"/clusters/"+atlassim.FixtureReportingCluster+"/backup/schedule", v4)
	if days := res.json(t)["restoreWindowDays"].(float64); days != 3 {
		t.Errorf("Reporting0's window = %v days, want 3", days)
	}
	e.get("/api/atlas/v2/groups/"+g+"/clusters/Nope0/backup/schedule", v4).wantError(t, http.StatusNotFound, "CLUSTER_NOT_FOUND")
}
