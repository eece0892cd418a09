package drills_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/drills"
	"github.com/snapdesk/snapdesk/internal/jobs/jobstest"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/policy"
	"github.com/snapdesk/snapdesk/internal/poller"
)

const week = 168 * time.Hour

var drill = policy.Drill{Project: jobstest.Project, Cluster: jobstest.Cluster, TargetProject: jobstest.Project,
	Target: atlassim.FixtureScratchCluster, Every: week}

type env struct {
	*jobstest.Env
	workers []*drills.Runner
	poll    *poller.Poller
}

// newEnv has two workers (two replicas' runners) on one database and the
// simulator's clock, which the test moves.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{Env: jobstest.New(t, jobstest.Options{})}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 {
		e.workers = append(e.workers, drills.New(e.Pool, e.Svc, e.Client, func() []policy.Drill { return []policy.Drill{drill} }, log, drills.WithClock(e.Clock.Now)))
	}
	cfg := poller.DefaultConfig()
	cfg.MinBackoff = time.Millisecond
	e.poll = poller.New(cfg, e.Svc, e.Store, e.Client, metrics.New(), log)
	return e
}

// tickAll runs every worker's tick at once and returns how many drills
// they started between them.
func (e *env) tickAll(t *testing.T) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for _, w := range e.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.Tick(context.Background())
			if err != nil {
				t.Errorf("Tick: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

func (e *env) finish(t *testing.T) {
	t.Helper()
	for i := 0; i < 100 && e.Open(t) > 0; i++ {
		e.Clock.Advance(2 * time.Minute)
		e.MakeDue(t)
		if _, err := e.poll.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if e.Open(t) > 0 {
		t.Fatal("drill restores did not end")
	}
}

func (e *env) scalar(t *testing.T, q string, args ...any) any {
	t.Helper()
	var v any
	if err := e.Pool.QueryRow(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *env) status(t *testing.T) drills.Status {
	t.Helper()
	st, ok, err := drills.ForCluster(context.Background(), e.Pool, []policy.Drill{drill}, jobstest.Project, jobstest.Cluster, e.Clock.Now())
	if err != nil || !ok {
		t.Fatalf("ForCluster: %v, %v", ok, err)
	}
	return st
}

// TestDrillRunsOncePerDueTimeAcrossWorkers: two workers, one due time, one
// restore; moving the clock a period on makes one more; the outcome and
// the duration are recorded, and the cluster shows its last verified
// restore.
func TestDrillRunsOncePerDueTimeAcrossWorkers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if n := e.tickAll(t); n != 1 {
		t.Fatalf("two workers started %d drills for one due time, want 1", n)
	}
	if n := e.tickAll(t); n != 0 {
		t.Fatalf("a second tick at the same due time started %d", n)
	}
	if n := e.Sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 1 {
		t.Fatalf("Atlas asked for %d restores, want 1", n)
	}
	due := drills.DueAt(drill, e.Clock.Now())
	var jobID string
	if err := e.Pool.QueryRow(context.Background(), `SELECT job_id::text FROM restore_drills WHERE drill_key = $1 AND due_at = $2`, drill.Key(), due).Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	j := e.Job(t, jobID)
	if j.RequestedBy.Subject != "snapdesk" || j.TargetClusterName != atlassim.FixtureScratchCluster || j.Params["drill"] != drill.Key() {
		t.Errorf("drill job = %+v", j)
	}
	if n := e.scalar(t, `SELECT count(*) FROM audit_events WHERE action IN ('restore.drill.requested', 'restore.drill') AND actor_subject = 'snapdesk' AND job_id = $1`, jobID); n != int64(2) {
		t.Errorf("%v audit records of the drill, want requested and the Atlas answer", n)
	}
	if st := e.status(t); !st.LastVerified.IsZero() || st.Flagged() {
		t.Errorf("status before the restore ended: %+v", st)
	}

	e.finish(t)
	e.tickAll(t) // settles
	if got := e.scalar(t, `SELECT outcome || ' ' || (duration_ms IS NOT NULL AND duration_ms >= 0) FROM restore_drills WHERE drill_key = $1 AND due_at = $2`, drill.Key(), due); got != "succeeded true" {
		t.Errorf("drill outcome = %v", got)
	}
	st := e.status(t)
	if st.LastVerified.IsZero() || st.LastVerifiedJob != jobID || st.Flagged() {
		t.Errorf("status after the drill: %+v", st)
	}
	if by, _, _, _ := e.Sim.Contents(jobstest.Project, atlassim.FixtureScratchCluster); by != e.Job(t, jobID).AtlasID {
		t.Errorf("the scratch cluster holds %q, not the drill's restore", by)
	}

	// A week later: one more drill, still once.
	e.Clock.Advance(week)
	if n := e.tickAll(t); n != 1 {
		t.Fatalf("a week later the workers started %d drills, want 1", n)
	}
	if n := e.scalar(t, `SELECT count(*) FROM restore_drills WHERE drill_key = $1`, drill.Key()); n != int64(2) {
		t.Errorf("%v drill rows after two due times", n)
	}
	if n := e.Sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 2 {
		t.Errorf("Atlas asked for %d restores after two due times, want 2", n)
	}
}

// TestFailedAndOverdueDrillsAreFlagged: a drill whose target is busy fails
// (audited, as Snapdesk); the cluster is flagged, and stays flagged as
// overdue while no drill succeeds.
func TestFailedAndOverdueDrillsAreFlagged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.Sim.SetClusterState(jobstest.Project, atlassim.FixtureScratchCluster, "UPDATING"); err != nil {
		t.Fatal(err)
	}
	if n := e.tickAll(t); n != 1 {
		t.Fatalf("started %d", n)
	}
	st := e.status(t)
	if !st.Failing || !st.Flagged() || st.LastMessage == "" {
		t.Errorf("status after a refused drill: %+v", st)
	}
	if n := e.scalar(t, `SELECT count(*) FROM audit_events WHERE action = 'restore.drill' AND outcome = 'error' AND actor_subject = 'snapdesk'`); n != int64(1) {
		t.Errorf("%v refused drills audited", n)
	}
	if n := e.Sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 0 {
		t.Errorf("a refused drill reached Atlas")
	}
	e.Clock.Advance(3 * week)
	if st := e.status(t); !st.Overdue {
		t.Errorf("three weeks without a verified restore: %+v, want overdue", st)
	}
}
