// Package drills runs restore drills: on the schedule the policy gives, a
// cluster's latest completed snapshot is restored onto a scratch cluster,
// to prove the backups can be restored and to measure how long it takes.
//
// Each drill's due times are the multiples of its period (its every:) since
// the zero time, so every worker computes the same due time at once; the
// primary key of restore_drills (drill, due time) lets exactly one of them
// claim it. A drill is a restore job like any other, requested by Snapdesk
// itself (jobs.Service.RestoreDrill) and audited.
package drills

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/policy"
)

// Outcomes of a drill.
const (
	Running   = "running"
	Succeeded = "succeeded"
	Failed    = "failed"
)

// Runner claims due drills and settles finished ones.
type Runner struct {
	pool   *pgxpool.Pool
	svc    *jobs.Service
	atlas  *atlas.Client
	drills func() []policy.Drill
	log    *slog.Logger
	// now is the clock drills are due by; nil: the database's.
	now func() time.Time
}

// Option configures a Runner.
type Option func(*Runner)

// WithClock makes the runner read time from now (tests move it) instead
// of the database's clock.
func WithClock(now func() time.Time) Option { return func(r *Runner) { r.now = now } }

// New builds a runner over the policy's drills (read at every tick, so a
// reloaded policy takes effect at once).
func New(pool *pgxpool.Pool, svc *jobs.Service, client *atlas.Client, drills func() []policy.Drill, log *slog.Logger, opts ...Option) *Runner {
	r := &Runner{pool: pool, svc: svc, atlas: client, drills: drills, log: log}
	for _, o := range opts {
		o(r)
	}
	return r
}

// DueAt is the due time of drill d at now: the latest multiple of its
// period not after now.
func DueAt(d policy.Drill, now time.Time) time.Time { return now.UTC().Truncate(d.Every) }

func (r *Runner) clock(ctx context.Context) (time.Time, error) {
	if r.now != nil {
		return r.now(), nil
	}
	var now time.Time
	if err := r.pool.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return now, fmt.Errorf("drills: clock: %w", err)
	}
	return now, nil
}

// Tick settles drills whose restore ended, then starts every drill that is
// due and not yet claimed. It returns how many it started.
func (r *Runner) Tick(ctx context.Context) (int, error) {
	var errs []error
	if err := r.settle(ctx); err != nil {
		errs = append(errs, err)
	}
	now, err := r.clock(ctx)
	if err != nil {
		return 0, err
	}
	started := 0
	for _, d := range r.drills() {
		ok, err := r.start(ctx, d, DueAt(d, now))
		if err != nil {
			errs = append(errs, fmt.Errorf("drills: %s: %w", d.Key(), err))
		}
		if ok {
			started++
		}
	}
	return started, errors.Join(errs...)
}

// start claims drill d's due time and asks for its restore. It reports
// whether this worker claimed it.
func (r *Runner) start(ctx context.Context, d policy.Drill, due time.Time) (bool, error) {
	tag, err := r.pool.Exec(ctx, `INSERT INTO restore_drills (drill_key, due_at, project_id, cluster_name, target_project_id, target_cluster_name)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (drill_key, due_at) DO NOTHING`,
		d.Key(), due, d.Project, d.Cluster, d.TargetProject, d.Target)
	if err != nil {
		return false, fmt.Errorf("claim: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil // another worker has it, or it ran
	}
	snap, err := r.latestSnapshot(ctx, d)
	if err != nil {
		return true, r.fail(ctx, d, due, "", err)
	}
	j, err := r.svc.RestoreDrill(ctx, jobs.DrillRequest{Key: d.Key(), DueAt: due, ProjectID: d.Project, ClusterName: d.Cluster,
		SnapshotID: snap.ID, TargetProjectID: d.TargetProject, TargetClusterName: d.Target})
	if err != nil && j.ID == "" {
		return true, r.fail(ctx, d, due, snap.ID, err)
	}
	if _, uerr := r.pool.Exec(ctx, `UPDATE restore_drills SET job_id = $3::uuid, snapshot_id = $4 WHERE drill_key = $1 AND due_at = $2`,
		d.Key(), due, j.ID, snap.ID); uerr != nil {
		return true, fmt.Errorf("record the job: %w", uerr)
	}
	r.log.Info("drills: restore drill started", "drill", d.Key(), "due", due, "job", j.ID, "snapshot", snap.ID)
	return true, nil
}

// latestSnapshot is the newest completed snapshot of the drill's cluster.
func (r *Runner) latestSnapshot(ctx context.Context, d policy.Drill) (atlas.Snapshot, error) {
	cl, err := r.atlas.Clusters.Get(ctx, d.Project, d.Cluster)
	if err != nil {
		return atlas.Snapshot{}, err
	}
	snaps, err := r.atlas.Snapshots.ForCluster(ctx, d.Project, d.Cluster, cl.ClusterType)
	if err != nil {
		return atlas.Snapshot{}, err
	}
	var best atlas.Snapshot
	for _, s := range snaps {
		if s.Status == atlas.SnapshotCompleted && s.CreatedAt.After(best.CreatedAt) {
			best = s
		}
	}
	if best.ID == "" {
		return best, fmt.Errorf("%s has no completed snapshot to restore", d.Cluster)
	}
	return best, nil
}

// fail records a drill that could not start.
func (r *Runner) fail(ctx context.Context, d policy.Drill, due time.Time, snapshotID string, cause error) error {
	msg := cause.Error()
	_, err := r.pool.Exec(ctx, `UPDATE restore_drills SET outcome = 'failed', finished_at = now(), message = $3,
			snapshot_id = NULLIF($4, '') WHERE drill_key = $1 AND due_at = $2`, d.Key(), due, msg, snapshotID)
	if err != nil {
		return fmt.Errorf("record the failure: %w", err)
	}
	r.log.Warn("drills: restore drill could not start", "drill", d.Key(), "due", due, "err", cause)
	return nil
}

// settle records the outcome and duration of drills whose job has ended:
// the duration runs from the job's creation (Snapdesk asked Atlas at once:
// drills wait for nobody) to its end.
func (r *Runner) settle(ctx context.Context) error {
	_, err := r.pool.Exec(ctx, `UPDATE restore_drills d SET
			outcome = CASE WHEN j.state = 'succeeded' THEN 'succeeded' ELSE 'failed' END,
			finished_at = j.finished_at,
			duration_ms = CASE WHEN j.state = 'succeeded' THEN (extract(epoch FROM j.finished_at - j.created_at) * 1000)::bigint END,
			message = CASE WHEN j.state = 'succeeded' THEN '' ELSE COALESCE(NULLIF(j.error_message, ''), 'the restore ended ' || j.state) END
		FROM jobs j
		WHERE d.outcome = 'running' AND d.job_id = j.id AND j.state IN ('succeeded', 'failed', 'cancelled')`)
	if err != nil {
		return fmt.Errorf("drills: settle: %w", err)
	}
	return nil
}

// Run ticks every interval until ctx ends.
func (r *Runner) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("drills: tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Querier is a pool or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Status is what a cluster's pages say about its drills.
type Status struct {
	// LastVerified is the last drill that succeeded (zero when none has).
	LastVerified     time.Time
	LastDuration     time.Duration
	LastVerifiedJob  string
	LastOutcome      string // of the latest drill, any outcome
	LastMessage      string
	LastJob          string
	Every            time.Duration
	Overdue, Failing bool
}

// Flagged reports whether the cluster's backups are not proven: the last
// drill failed, or no drill succeeded within two periods (of the last
// success, or of the first drill when none has succeeded).
func (s Status) Flagged() bool { return s.Overdue || s.Failing }

// ForCluster is the drill status of a cluster the policy drills, and false
// when it names no drill for it.
func ForCluster(ctx context.Context, q Querier, drills []policy.Drill, projectID, cluster string, now time.Time) (Status, bool, error) {
	var st Status
	found := false
	for _, d := range drills {
		if d.Project != projectID || d.Cluster != cluster {
			continue
		}
		if !found || d.Every < st.Every {
			st.Every = d.Every
		}
		found = true
	}
	if !found {
		return st, false, nil
	}
	var verifiedAt *time.Time
	var durationMS *int64
	var verifiedJob *string
	err := q.QueryRow(ctx, `SELECT finished_at, duration_ms, job_id::text FROM restore_drills
		WHERE project_id = $1 AND cluster_name = $2 AND outcome = 'succeeded' ORDER BY due_at DESC LIMIT 1`, projectID, cluster).
		Scan(&verifiedAt, &durationMS, &verifiedJob)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, true, fmt.Errorf("drills: last verified restore of %s: %w", cluster, err)
	}
	if verifiedAt != nil {
		st.LastVerified = *verifiedAt
	}
	if durationMS != nil {
		st.LastDuration = time.Duration(*durationMS) * time.Millisecond
	}
	if verifiedJob != nil {
		st.LastVerifiedJob = *verifiedJob
	}
	var lastJob *string
	err = q.QueryRow(ctx, `SELECT outcome, message, job_id::text FROM restore_drills
		WHERE project_id = $1 AND cluster_name = $2 ORDER BY due_at DESC LIMIT 1`, projectID, cluster).
		Scan(&st.LastOutcome, &st.LastMessage, &lastJob)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, true, fmt.Errorf("drills: last drill of %s: %w", cluster, err)
	}
	if lastJob != nil {
		st.LastJob = *lastJob
	}
	st.Failing = st.LastOutcome == Failed
	since := st.LastVerified
	if since.IsZero() {
		var first *time.Time
		if err := q.QueryRow(ctx, `SELECT min(due_at) FROM restore_drills WHERE project_id = $1 AND cluster_name = $2`, projectID, cluster).Scan(&first); err != nil {
			return st, true, fmt.Errorf("drills: first drill of %s: %w", cluster, err)
		}
		since = now
		if first != nil {
			since = *first
		}
	}
	st.Overdue = now.Sub(since) > 2*st.Every
	return st, true, nil
}
