package atlas_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

func TestRestoreState(t *testing.T) {
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	tests := []struct {
		name string
		job  atlas.RestoreJob
		want atlas.RestoreState
	}{
		{"just created", atlas.RestoreJob{DeliveryType: atlas.DeliveryAutomated}, atlas.RestorePending},
		{"snapshot time known", atlas.RestoreJob{DeliveryType: atlas.DeliveryAutomated, Timestamp: at(0)}, atlas.RestoreRunning},
		{"point in time under way", atlas.RestoreJob{DeliveryType: atlas.DeliveryPointInTime, DesiredTimestamp: &atlas.BSONTimestamp{Date: at(0)}}, atlas.RestoreRunning},
		{"finished", atlas.RestoreJob{DeliveryType: atlas.DeliveryAutomated, Timestamp: at(0), FinishedAt: at(time.Hour)}, atlas.RestoreSucceeded},
		{"download links ready", atlas.RestoreJob{DeliveryType: atlas.DeliveryDownload, DeliveryURL: []string{"https://x/y"}}, atlas.RestoreSucceeded},
		{"download links in components", atlas.RestoreJob{DeliveryType: atlas.DeliveryDownload, Components: []atlas.RestoreMember{{DownloadURL: "https://x/y"}}}, atlas.RestoreSucceeded},
		{"download still preparing", atlas.RestoreJob{DeliveryType: atlas.DeliveryDownload, Timestamp: at(0)}, atlas.RestoreRunning},
		{"failed", atlas.RestoreJob{DeliveryType: atlas.DeliveryAutomated, Timestamp: at(0), Failed: true}, atlas.RestoreFailed},
		{"cancelled", atlas.RestoreJob{DeliveryType: atlas.DeliveryAutomated, Cancelled: true}, atlas.RestoreCancelled},
		{"cancelled wins over failed", atlas.RestoreJob{Cancelled: true, Failed: true}, atlas.RestoreCancelled},
		{"expired download that had finished", atlas.RestoreJob{DeliveryType: atlas.DeliveryDownload, FinishedAt: at(0), Expired: true}, atlas.RestoreExpired},
		{"zero finishedAt is not finished", atlas.RestoreJob{DeliveryType: atlas.DeliveryAutomated, FinishedAt: &time.Time{}}, atlas.RestorePending},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.job.State(); got != tc.want {
				t.Errorf("State() = %s, want %s", got, tc.want)
			}
		})
	}
	for _, s := range []atlas.RestoreState{atlas.RestoreSucceeded, atlas.RestoreFailed, atlas.RestoreCancelled, atlas.RestoreExpired} {
		if !s.IsTerminal() {
			t.Errorf("%s is not terminal", s)
		}
	}
	if atlas.RestoreRunning.IsTerminal() || atlas.RestorePending.IsTerminal() {
		t.Error("pending or running is terminal")
	}
}

// TestRestoreJobsScenario walks the three delivery types and cancel through
// the client, every request and answer checked against the spec.
func TestRestoreJobsScenario(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client

	sched, err := c.BackupSchedules.Get(ctx, group, cluster)
	if err != nil {
		t.Fatal(err)
	}
	if sched.RestoreWindowDays != 7 || len(sched.Items()) != 2 || sched.NextSnapshot == nil {
		t.Fatalf("schedule = %+v", sched)
	}
	from, to := sched.RestoreWindow(e.sim.Now())
	if got := to.Sub(from); got != 7*24*time.Hour {
		t.Errorf("restore window spans %v", got)
	}

	auto, err := c.RestoreJobs.Create(ctx, group, cluster, atlas.CreateRestoreRequest{
		DeliveryType: atlas.DeliveryAutomated, SnapshotID: atlassim.FixtureSnapshotID,
		TargetGroupID: group, TargetClusterName: atlassim.FixtureScratchCluster,
	})
	if err != nil {
		t.Fatal(err)
	}
	if auto.State() != atlas.RestorePending {
		t.Errorf("new restore is %s", auto.State())
	}
	target, err := c.Clusters.Get(ctx, group, atlassim.FixtureScratchCluster)
	if err != nil || target.StateName == atlas.ClusterIdle {
		t.Errorf("target while restored: %v, %v", target.StateName, err)
	}
	e.clock.Advance(5 * time.Minute)
	if auto, err = c.RestoreJobs.Get(ctx, group, cluster, auto.ID); err != nil || auto.State() != atlas.RestoreRunning {
		t.Fatalf("after 5 min: %s, %v", auto.State(), err)
	}
	e.clock.Advance(20 * time.Minute)
	if auto, err = c.RestoreJobs.Get(ctx, group, cluster, auto.ID); err != nil || auto.State() != atlas.RestoreSucceeded {
		t.Fatalf("after 25 min: %s, %v", auto.State(), err)
	}
	err = c.RestoreJobs.Cancel(ctx, group, cluster, auto.ID)
	if !atlas.IsNotCancellable(err) {
		t.Errorf("cancel of a finished restore: %v, want a 405", err)
	}

	dl, err := c.RestoreJobs.Create(ctx, group, cluster, atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryDownload, SnapshotID: atlassim.FixtureScheduledSnapshotID})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	if dl, err = c.RestoreJobs.Get(ctx, group, cluster, dl.ID); err != nil || dl.State() != atlas.RestoreSucceeded || len(dl.DownloadURLs()) != 1 || dl.ExpiresAt == nil {
		t.Fatalf("download after 10 min: %+v, %v", dl, err)
	}
	e.clock.Set(*dl.ExpiresAt)
	if dl, err = c.RestoreJobs.Get(ctx, group, cluster, dl.ID); err != nil || dl.State() != atlas.RestoreExpired || len(dl.DownloadURLs()) != 0 {
		t.Fatalf("download at expiry: %+v, %v", dl, err)
	}

	pit, err := c.RestoreJobs.Create(ctx, group, cluster, atlas.CreateRestoreRequest{
		DeliveryType: atlas.DeliveryPointInTime, PointInTimeUTCSeconds: e.sim.Now().Add(-time.Hour).Unix(),
		TargetGroupID: group, TargetClusterName: atlassim.FixtureScratchCluster,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	if err := c.RestoreJobs.Cancel(ctx, group, cluster, pit.ID); err != nil {
		t.Fatalf("cancel a running restore: %v", err)
	}
	if pit, err = c.RestoreJobs.Get(ctx, group, cluster, pit.ID); err != nil || pit.State() != atlas.RestoreCancelled {
		t.Fatalf("after cancel: %s, %v", pit.State(), err)
	}
	_, err = c.RestoreJobs.Create(ctx, group, cluster, atlas.CreateRestoreRequest{
		DeliveryType: atlas.DeliveryPointInTime, PointInTimeUTCSeconds: e.sim.Now().AddDate(0, 0, -30).Unix(),
		TargetGroupID: group, TargetClusterName: atlassim.FixtureScratchCluster,
	})
	if atlas.ErrorCode(err) != "INVALID_POINT_IN_TIME" {
		t.Errorf("point in time outside the window: %v", err)
	}

	var ids []string
	for j, err := range c.RestoreJobs.All(ctx, group, cluster) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	if len(ids) != 3 || ids[0] != pit.ID {
		t.Errorf("listed %v, want three, newest (%s) first", ids, pit.ID)
	}
}

func TestRestoreValidationBeforeAnyRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := t0.Unix()
	tests := []struct {
		name  string
		req   atlas.CreateRestoreRequest
		field string
	}{
		{"no delivery type", atlas.CreateRestoreRequest{SnapshotID: atlassim.FixtureSnapshotID}, "deliveryType"},
		{"automated without snapshot", atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryAutomated, TargetGroupID: group, TargetClusterName: "x"}, "snapshotId"},
		{"automated without target project", atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryAutomated, SnapshotID: atlassim.FixtureSnapshotID, TargetClusterName: "x"}, "targetGroupId"},
		{"automated with a bad target name", atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryAutomated, SnapshotID: atlassim.FixtureSnapshotID, TargetGroupID: group, TargetClusterName: "a b"}, "targetClusterName"},
		{"download with a point in time", atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryDownload, SnapshotID: atlassim.FixtureSnapshotID, PointInTimeUTCSeconds: now}, "pointInTimeUTCSeconds"},
		{"point in time without a time", atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryPointInTime, TargetGroupID: group, TargetClusterName: "x"}, "pointInTimeUTCSeconds"},
		{"point in time and oplog", atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryPointInTime, TargetGroupID: group, TargetClusterName: "x", PointInTimeUTCSeconds: now, OplogTs: now, OplogInc: 1}, "pointInTimeUTCSeconds"},
		{"point in time before 2008", atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryPointInTime, TargetGroupID: group, TargetClusterName: "x", PointInTimeUTCSeconds: 1000}, "pointInTimeUTCSeconds"},
		{"oplog without increment", atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryPointInTime, TargetGroupID: group, TargetClusterName: "x", OplogTs: now}, "oplogInc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.RestoreJobs.Create(ctx, group, cluster, tc.req)
			var ve *atlas.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Errorf("err = %v, want a ValidationError on %s", err, tc.field)
			}
		})
	}
	if err := e.client.RestoreJobs.Cancel(ctx, group, cluster, "nope"); err == nil {
		t.Error("cancel with a bad id was sent")
	}
	if _, err := e.client.BackupSchedules.Get(ctx, group, "-x"); err == nil {
		t.Error("schedule of a bad cluster name was asked")
	}
	if n := len(e.sim.Calls()); n != 0 {
		t.Errorf("invalid requests reached Atlas: %v", e.sim.Calls())
	}
}

// TestRestoreCreateNotRetried: a create whose answer is lost is not sent
// again; the caller is told the outcome is unknown.
func TestRestoreCreateNotRetried(t *testing.T) {
	e := newEnv(t)
	if err := e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{
		"createGroupClusterBackupRestoreJob": {ErrorRate: 1, Status: 503},
	}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.RestoreJobs.Create(context.Background(), group, cluster, atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryDownload, SnapshotID: atlassim.FixtureSnapshotID})
	if !errors.Is(err, atlas.ErrOutcomeUnknown) {
		t.Errorf("err = %v, want ErrOutcomeUnknown", err)
	}
	if n := e.sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 1 {
		t.Errorf("create sent %d times, want once", n)
	}
}
