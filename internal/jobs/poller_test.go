package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/jobs"
)

// submitSnapshots takes one on-demand snapshot of each cluster.
func submitSnapshots(t *testing.T, e *env, clusters []string) []jobs.Job {
	t.Helper()
	var out []jobs.Job
	for _, c := range clusters {
		j, err := e.svc.TakeSnapshot(context.Background(), ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: c, RetentionInDays: 1, IdempotencyKey: key()})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, j)
	}
	return out
}

func TestStormOf500sAnd429sEndsInTrueStates(t *testing.T) {
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	snaps := submitSnapshots(t, e, []string{cluster, atlassim.FixtureShardedCluster})
	exp, err := e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	ing, err := e.svc.TriggerIngestion(ctx, ada, origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName, SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	// Atlas breaks down: every list answers 500 or 429 for a while.
	e.sim.SetFaults(atlassim.Faults{ErrorRate: 0.7, ErrorStatus: 500, RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 2, Window: time.Minute}}})
	var errorsSeen int
	for range 30 {
		e.clock.Advance(time.Minute)
		e.makeDue(t)
		st, _ := e.poller.Cycle(ctx)
		errorsSeen += st.Errors
	}
	if errorsSeen == 0 {
		t.Fatal("the storm caused no poll errors; the test proves nothing")
	}
	// Atlas recovers.
	e.sim.SetFaults(atlassim.Faults{})
	e.pollUntilEnded(t, time.Minute)
	for _, j := range append(snaps, exp, ing) {
		got := e.job(t, j.ID)
		if got.State != jobs.StateSucceeded {
			t.Errorf("%s job %s ended %s (%s)", got.Kind, got.ID, got.State, got.ErrorMessage)
		}
	}
}

func TestTwoPollersNeverRecordATransitionTwice(t *testing.T) {
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	submitSnapshots(t, e, []string{cluster, atlassim.FixtureShardedCluster})
	for range 3 {
		if _, err := e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: []string{atlassim.FixtureAWSBucketID, atlassim.FixtureAzureBucketID, atlassim.FixtureGCPBucketID}[e.sim.Calls()["createGroupClusterBackupExport"]], IdempotencyKey: key()}); err != nil {
			t.Fatal(err)
		}
	}
	other := newEnvSharing(t, e)
	for range 40 {
		e.clock.Advance(time.Minute)
		e.makeDue(t)
		var wg sync.WaitGroup
		wg.Go(func() { e.poller.Cycle(ctx) })
		wg.Go(func() { other.poller.Cycle(ctx) })
		wg.Wait()
	}
	var dup int
	err := e.pool.QueryRow(ctx, `SELECT count(*) FROM (
		SELECT job_id, from_state, to_state, atlas_state, progress, count(*) FROM job_events
		GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) d`).Scan(&dup)
	if err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Errorf("%d transitions were recorded twice", dup)
	}
	var open int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE finished_at IS NULL`).Scan(&open)
	if open != 0 {
		t.Errorf("%d jobs still open after 40 simulated minutes", open)
	}
}

// newEnvSharing is a second replica: its own poller over the same database
// and the same Atlas.
func newEnvSharing(t *testing.T, e *env) *env {
	t.Helper()
	other := *e
	other.poller = newPollerFor(e)
	return &other
}

func TestStalledJobIsFlaggedOnce(t *testing.T) {
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	j := submitSnapshots(t, e, []string{cluster})[0]
	// Make Atlas report no progress: the simulator's clock stands still,
	// and the job's last progress is long ago.
	e.pool.Exec(ctx, `UPDATE jobs SET last_progress_at = now() - interval '2 hours' WHERE id = $1`, j.ID)
	for range 3 {
		e.makeDue(t)
		if _, err := e.poller.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := e.job(t, j.ID)
	if !got.Stalled {
		t.Fatal("job not flagged stalled")
	}
	var n int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM job_events WHERE job_id = $1 AND message LIKE 'stalled%'`, j.ID).Scan(&n)
	if n != 1 {
		t.Errorf("stalled events = %d, want 1", n)
	}
	// Progress clears the flag.
	e.pollUntilEnded(t, time.Minute)
	if got := e.job(t, j.ID); got.Stalled || got.State != jobs.StateSucceeded {
		t.Errorf("after progress: stalled=%v state=%s", got.Stalled, got.State)
	}
}

func TestOneListCallPerClusterPerCycle(t *testing.T) {
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	submitSnapshots(t, e, []string{cluster})
	for _, b := range []string{atlassim.FixtureAWSBucketID, atlassim.FixtureAzureBucketID, atlassim.FixtureGCPBucketID} {
		if _, err := e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: b, IdempotencyKey: key()}); err != nil {
			t.Fatal(err)
		}
	}
	e.sim.ResetCalls()
	e.makeDue(t)
	st, err := e.poller.Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls := e.sim.Calls()
	if st.Jobs != 4 || calls["listGroupClusterBackupSnapshots"] != 1 || calls["listGroupClusterBackupExports"] != 1 {
		t.Errorf("cycle over %d jobs made calls %v; want one snapshot list and one export list", st.Jobs, calls)
	}
	if calls["getGroupClusterBackupExport"]+calls["getGroupClusterBackupSnapshot"] != 0 {
		t.Errorf("per-job GETs made: %v", calls)
	}
}
