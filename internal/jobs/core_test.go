package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/jobs/jobstest"
)

// The state machine, written out: a change not in this table is refused.
func TestStateMachineTable(t *testing.T) {
	t.Parallel()
	inFlight := []jobs.State{jobs.StateSubmitted, jobs.StateQueued, jobs.StateRunning}
	allowed := map[jobs.Kind]map[[2]jobs.State]bool{}
	allow := func(k jobs.Kind, from jobs.State, to ...jobs.State) {
		if allowed[k] == nil {
			allowed[k] = map[[2]jobs.State]bool{}
		}
		for _, s := range to {
			allowed[k][[2]jobs.State{from, s}] = true
		}
	}
	for _, k := range jobs.Kinds {
		ends := []jobs.State{jobs.StateSucceeded, jobs.StateFailed}
		if k == jobs.KindExport || k == jobs.KindRestore {
			ends = append(ends, jobs.StateCancelled) // exports and restores can be cancelled in Atlas
			allow(k, jobs.StateAwaitingApproval, jobs.StateRequested, jobs.StateCancelled)
			allow(k, jobs.StateRequested, jobs.StateAwaitingApproval)
		}
		allow(k, jobs.StateRequested, append(append([]jobs.State{jobs.StateUnknown}, inFlight...), ends...)...)
		allow(k, jobs.StateUnknown, append(append([]jobs.State{}, inFlight...), ends...)...)
		allow(k, jobs.StateSubmitted, append(append([]jobs.State{}, inFlight...), ends...)...)
		allow(k, jobs.StateQueued, append([]jobs.State{jobs.StateQueued, jobs.StateRunning}, ends...)...)
		allow(k, jobs.StateRunning, append([]jobs.State{jobs.StateRunning}, ends...)...)
	}
	for _, k := range jobs.Kinds {
		for _, from := range jobs.States {
			for _, to := range jobs.States {
				if got, want := jobs.CanMove(k, from, to), allowed[k][[2]jobs.State{from, to}]; got != want {
					t.Errorf("%s job %s → %s: allowed=%v, want %v", k, from, to, got, want)
				}
			}
		}
	}
}

// The store refuses a change the table does not allow, such as a running
// export reported queued again, and writes nothing.
func TestStoreRefusesTransitionsOutsideTheTable(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	j := e.TakeSnapshots(t, jobstest.Cluster)[0]
	j = e.Job(t, j.ID)
	if _, err := e.Pool.Exec(ctx, `UPDATE jobs SET state = 'running', version = version + 1 WHERE id = $1`, j.ID); err != nil {
		t.Fatal(err)
	}
	j = e.Job(t, j.ID)
	err := db.Transact(ctx, e.Pool, func(tx pgx.Tx) error {
		_, err := e.Store.Apply(ctx, tx, j, jobs.Change{To: jobs.StateQueued, AtlasState: "QUEUED", Source: jobs.SourcePoller}, jobs.ApplyOptions{})
		return err
	})
	var te *jobs.TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("running → queued = %v, want a TransitionError", err)
	}
	if got := e.Job(t, j.ID); got.State != jobs.StateRunning || got.Version != j.Version {
		t.Errorf("after the refused change: %s v%d, want running v%d", got.State, got.Version, j.Version)
	}
}

// A key names one request: the same key with another description,
// retention, cluster or kind is refused, and Atlas is asked only once.
func TestIdempotencyKeyReusedForAnotherRequestIsRefused(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	key := jobstest.Key()
	first := jobs.TakeSnapshotRequest{ProjectID: jobstest.Project, ClusterName: jobstest.Cluster, Description: "before the upgrade", RetentionInDays: 7, IdempotencyKey: key}
	j, err := e.Svc.TakeSnapshot(ctx, jobstest.Ada, jobstest.Origin, first)
	if err != nil {
		t.Fatal(err)
	}
	// The same request again (a double click) is the same job.
	again, err := e.Svc.TakeSnapshot(ctx, jobstest.Ada, jobstest.Origin, first)
	if err != nil || again.ID != j.ID {
		t.Fatalf("same request again = %s, %v; want job %s", again.ID, err, j.ID)
	}
	changed := func(f func(*jobs.TakeSnapshotRequest)) jobs.TakeSnapshotRequest {
		r := first
		f(&r)
		return r
	}
	for name, r := range map[string]jobs.TakeSnapshotRequest{
		"description": changed(func(r *jobs.TakeSnapshotRequest) { r.Description = "after the upgrade" }),
		"retention":   changed(func(r *jobs.TakeSnapshotRequest) { r.RetentionInDays = 30 }),
		"cluster":     changed(func(r *jobs.TakeSnapshotRequest) { r.ClusterName = atlassim.FixtureShardedCluster }),
	} {
		got, err := e.Svc.TakeSnapshot(ctx, jobstest.Ada, jobstest.Origin, r)
		var refused *jobs.RefusedError
		if !errors.As(err, &refused) || !strings.Contains(refused.Msg, "different request") {
			t.Errorf("other %s under the same key = job %q, %v; want a refusal", name, got.ID, err)
		}
	}
	// Another kind under the same key.
	_, err = e.Svc.ExportSnapshot(ctx, jobstest.Ada, jobstest.Origin, jobs.ExportRequest{ProjectID: jobstest.Project, ClusterName: jobstest.Cluster,
		SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key})
	var refused *jobs.RefusedError
	if !errors.As(err, &refused) {
		t.Errorf("an export under a snapshot's key = %v; want a refusal", err)
	}
	if n := e.Sim.Calls()["takeGroupClusterBackupSnapshots"] + e.Sim.Calls()["createGroupClusterBackupExport"]; n != 1 {
		t.Errorf("Atlas was asked %d times, want once", n)
	}
	var audited int
	e.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE outcome = 'error' AND message LIKE '%different request%'`).Scan(&audited)
	if audited != 4 {
		t.Errorf("%d refusals audited, want 4", audited)
	}
}

// Two jobs can never follow the same Atlas object, however they race.
func TestOneJobPerAtlasObject(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	crash := errors.New("process died")
	e.Hook.Set(func(jobs.Job) error { return crash })
	first, err := e.Svc.TriggerIngestion(ctx, jobstest.Ada, jobstest.Origin, jobs.IngestionRequest{ProjectID: jobstest.Project,
		PipelineName: atlassim.FixturePipelineName, SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: jobstest.Key()})
	if !errors.Is(err, crash) {
		t.Fatalf("crash not injected: %v", err)
	}
	e.Hook.Set(nil)
	// A second job for the same snapshot that never reached Atlas (its
	// process died before the call), written as the service would.
	var secondID string
	if err := e.Pool.QueryRow(ctx, `INSERT INTO jobs (kind, project_id, pipeline_name, snapshot_id, requested_by_subject, idempotency_key, created_at, updated_at)
		SELECT kind, project_id, pipeline_name, snapshot_id, requested_by_subject, $2, created_at, updated_at FROM jobs WHERE id = $1
		RETURNING id::text`, first.ID, jobstest.Key()).Scan(&secondID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pool.Exec(ctx, `UPDATE jobs SET updated_at = now() - interval '1 hour' WHERE state = 'requested'`); err != nil {
		t.Fatal(err)
	}
	// Four replicas reconcile at once: one run in Atlas, so one job adopts
	// it and the other learns Atlas has nothing for it.
	var wg sync.WaitGroup
	for range 4 {
		replica := jobs.NewService(jobs.NewStore(e.Pool), e.Client, nil, e.Log)
		wg.Go(func() { replica.Reconcile(ctx) })
	}
	wg.Wait()
	a, b := e.Job(t, first.ID), e.Job(t, secondID)
	if a.AtlasID == "" || b.AtlasID != "" || b.State != jobs.StateFailed {
		t.Errorf("after reconciliation: first %s %q, second %s %q; want only the first to follow the run", a.State, a.AtlasID, b.State, b.AtlasID)
	}
	// The database refuses a second job on the same object outright.
	_, err = e.Pool.Exec(ctx, `UPDATE jobs SET atlas_id = $2 WHERE id = $1`, secondID, a.AtlasID)
	if err == nil || !strings.Contains(err.Error(), "jobs_kind_atlas_id") {
		t.Errorf("a second job on run %s: %v, want the unique index to refuse it", a.AtlasID, err)
	}
}

// A job left requested by a process known to be gone is reconciled at
// once; a live process's job is left alone.
func TestJobOfAGoneProcessIsReconciledAtOnce(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{Process: true})
	ctx := context.Background()
	crash := errors.New("process died")
	e.Hook.Set(func(jobs.Job) error { return crash })
	j, err := e.Svc.TakeSnapshot(ctx, jobstest.Ada, jobstest.Origin, jobs.TakeSnapshotRequest{ProjectID: jobstest.Project, ClusterName: jobstest.Cluster, RetentionInDays: 1, IdempotencyKey: jobstest.Key()})
	if !errors.Is(err, crash) {
		t.Fatalf("crash not injected: %v", err)
	}
	other := jobs.NewService(jobs.NewStore(e.Pool), e.Client, nil, e.Log) // another replica
	if n, err := other.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("while its process lives: Reconcile = %d, %v; want the job left to it", n, err)
	}
	// The process's heartbeat stops: it is gone once DeadAfter has passed.
	if _, err := e.Pool.Exec(ctx, `UPDATE processes SET heartbeat_at = now() - interval '1 minute' WHERE id = $1`, e.Proc.ID()); err != nil {
		t.Fatal(err)
	}
	if n, err := other.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("after its process is gone: Reconcile = %d, %v; want the job resolved at once", n, err)
	}
	if got := e.Job(t, j.ID); got.AtlasID == "" || got.State == jobs.StateRequested {
		t.Errorf("after reconciliation: %s %q", got.State, got.AtlasID)
	}
	// A process that stops cleanly is gone at once.
	if _, err := e.Pool.Exec(ctx, `UPDATE processes SET heartbeat_at = now()`); err != nil {
		t.Fatal(err)
	}
	e.Hook.Set(func(jobs.Job) error { return crash })
	j2, _ := e.Svc.ExportSnapshot(ctx, jobstest.Ada, jobstest.Origin, jobs.ExportRequest{ProjectID: jobstest.Project, ClusterName: jobstest.Cluster,
		SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: jobstest.Key()})
	e.Proc.Stop(ctx)
	if n, err := other.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("after a clean stop: Reconcile = %d, %v", n, err)
	}
	if got := e.Job(t, j2.ID); got.AtlasID == "" {
		t.Errorf("export not adopted: %s", got.State)
	}
}

// Postgres goes away between Atlas's answer and the second write: the
// person is told plainly what happened (the web answers 503), and the
// answer is recorded, with its audit record, as soon as Postgres is back.
func TestAtlasAnswerIsKeptWhilePostgresIsDown(t *testing.T) {
	t.Parallel()
	link, url := dbtest.NewLink(t, dbtest.URL(t))
	pool, err := pgxpool.New(context.Background(), url+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	e := jobstest.New(t, jobstest.Options{Pool: pool, Process: true})
	ctx := context.Background()
	e.Hook.Set(func(jobs.Job) error { link.Cut(); return nil }) // Postgres goes away
	j, err := e.Svc.TakeSnapshot(ctx, jobstest.Ada, jobstest.Origin, jobs.TakeSnapshotRequest{ProjectID: jobstest.Project, ClusterName: jobstest.Cluster, RetentionInDays: 1, IdempotencyKey: jobstest.Key()})
	var nr *jobs.NotRecordedError
	if !errors.As(err, &nr) {
		t.Fatalf("TakeSnapshot with Postgres down after Atlas answered = %v, want a NotRecordedError", err)
	}
	if want := "Atlas has the request; Snapdesk will record it when its database is back"; nr.Error() != want {
		t.Errorf("message %q, want %q", nr.Error(), want)
	}
	if n := e.Sim.Calls()["takeGroupClusterBackupSnapshots"]; n != 1 {
		t.Fatalf("Atlas was asked %d times", n)
	}
	if n, _ := e.Svc.RecordOwed(ctx); n != 0 {
		t.Fatalf("recorded %d answers while Postgres is down", n)
	}
	link.Restore()
	e.Hook.Set(nil)
	if n, err := e.Svc.RecordOwed(ctx); n != 1 || err != nil {
		t.Fatalf("RecordOwed after Postgres is back = %d, %v", n, err)
	}
	got := e.Job(t, j.ID)
	if got.AtlasID == "" || got.State == jobs.StateRequested {
		t.Errorf("after Postgres is back: %s %q", got.State, got.AtlasID)
	}
	var audited int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'snapshot.take' AND outcome = 'ok' AND job_id = $1`, j.ID).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d audit records of Atlas's answer, want 1", audited)
	}
	if e.Svc.Owed() != 0 {
		t.Errorf("%d answers still owed", e.Svc.Owed())
	}
}

// A submission asks Atlas only what may have changed: an export after
// another on the same cluster reads the snapshot, checks exports in flight
// and creates the export (3 calls), without asking again for the cluster's
// type or the bucket.
func TestExportSubmissionAtlasCalls(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	e.Export(t, atlassim.FixtureAWSBucketID)
	e.Clock.Advance(24 * time.Hour) // Atlas finishes it
	e.Sim.ResetCalls()
	// The same snapshot to the same bucket again, confirmed.
	if _, err := e.Svc.ExportSnapshot(context.Background(), jobstest.Ada, jobstest.Origin, jobs.ExportRequest{ProjectID: jobstest.Project, ClusterName: jobstest.Cluster,
		SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: jobstest.Key(), Again: true}); err != nil {
		t.Fatal(err)
	}
	calls := e.Sim.Calls()
	delete(calls, "oauthToken")
	total := 0
	for _, n := range calls {
		total += n
	}
	if total > 3 || calls["getGroupCluster"] != 0 || calls["getGroupBackupExportBucket"] != 0 {
		t.Errorf("an export submission made %d Atlas calls (%v); want at most 3, none for the cluster or the bucket", total, calls)
	}
}
