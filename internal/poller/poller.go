// Package poller follows every job Atlas is still working on until it
// ends. Each cycle it leases the jobs that are due (FOR UPDATE SKIP LOCKED,
// so several replicas share the work), brings all jobs of one cluster up to
// date with one list of snapshots or exports, and all runs of one pipeline
// with one list of runs, records a change only when there is one, backs off
// jobs that do not move, and flags stalled ones.
package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/metrics"
)

// Config tunes the poller.
type Config struct {
	// Interval is the time between cycles.
	Interval time.Duration
	// MinBackoff and MaxBackoff bound how long a job waits between polls;
	// a job that does not move waits longer each time, up to MaxBackoff
	// (exports up to ExportMaxBackoff: they run for hours).
	MinBackoff, MaxBackoff, ExportMaxBackoff time.Duration
	// StallAfter flags a job whose progress has not moved for this long.
	StallAfter time.Duration
	// BatchSize bounds the jobs leased per cycle; Concurrency the targets
	// polled at once.
	BatchSize, Concurrency int
	// ReconcileEvery is how often unknown jobs are reconciled.
	ReconcileEvery time.Duration
	// Inventory, when set, receives every complete list the poller
	// fetches, so one Atlas call serves both the jobs and the inventory.
	Inventory Inventory
}

// DefaultConfig suits Atlas: seconds at first, minutes for long exports.
func DefaultConfig() Config {
	return Config{
		Interval: time.Second, MinBackoff: 2 * time.Second, MaxBackoff: time.Minute, ExportMaxBackoff: 5 * time.Minute,
		StallAfter: 30 * time.Minute, BatchSize: 5000, Concurrency: 4, ReconcileEvery: time.Minute,
	}
}

// Poller moves jobs along.
type Poller struct {
	cfg     Config
	svc     *jobs.Service
	store   *jobs.Store
	atlas   *atlas.Client
	log     *slog.Logger
	metrics *metrics.Metrics
	now     func() time.Time
}

// New builds a poller over the jobs service.
func New(cfg Config, svc *jobs.Service, m *metrics.Metrics, log *slog.Logger) *Poller {
	return &Poller{cfg: cfg, svc: svc, store: svc.Store(), atlas: svc.Atlas(), log: log, metrics: m, now: time.Now}
}

// Run polls until ctx ends; the cycle in progress finishes first.
func (p *Poller) Run(ctx context.Context) {
	lastReconcile := time.Time{}
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		if time.Since(lastReconcile) >= p.cfg.ReconcileEvery {
			lastReconcile = time.Now()
			if n, err := p.svc.Reconcile(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("poller: reconcile", "err", err)
			} else if n > 0 {
				p.metrics.Reconciliations.WithLabelValues("resolved").Add(float64(n))
				p.log.Info("poller: reconciled jobs", "count", n)
			}
			if n, err := p.svc.ExpireApprovals(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("poller: expire approvals", "err", err)
			} else if n > 0 {
				p.log.Info("poller: cancelled exports whose approval lapsed", "count", n)
			}
		}
		if _, err := p.Cycle(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("poller: cycle", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CycleStats describes one cycle.
type CycleStats struct {
	Jobs        int // jobs leased
	Targets     int // clusters and pipelines polled
	Transitions int // changes recorded
	Errors      int // targets whose poll failed
}

// target is one cluster's or pipeline's due jobs.
type target struct {
	projectID, name string
	pipeline        bool
	jobs            []jobs.Job
}

// Cycle polls every due job once and returns what it did. One target's
// error does not stop the others.
func (p *Poller) Cycle(ctx context.Context) (CycleStats, error) {
	start := time.Now()
	defer func() { p.metrics.PollCycle.Observe(time.Since(start).Seconds()) }()
	var st CycleStats
	due, err := p.store.ClaimDue(ctx, p.cfg.BatchSize, 2*time.Minute)
	if err != nil {
		return st, err
	}
	st.Jobs = len(due)
	byTarget := map[[3]string]*target{}
	var order []*target
	for _, j := range due {
		key := [3]string{j.ProjectID, "cluster", j.Target()}
		if j.Kind == jobs.KindIngestion {
			key[1] = "pipeline"
		}
		t, ok := byTarget[key]
		if !ok {
			t = &target{projectID: j.ProjectID, name: j.Target(), pipeline: j.Kind == jobs.KindIngestion}
			byTarget[key] = t
			order = append(order, t)
		}
		t.jobs = append(t.jobs, j)
	}
	st.Targets = len(order)

	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, max(p.cfg.Concurrency, 1))
	var wg sync.WaitGroup
	for _, t := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n, err := p.pollTarget(ctx, t)
			mu.Lock()
			defer mu.Unlock()
			st.Transitions += n
			if err != nil {
				st.Errors++
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	p.refreshGauges(ctx)
	return st, errors.Join(errs...)
}

// pollTarget fetches the Atlas state of every job of one target with list
// calls and records what changed.
func (p *Poller) pollTarget(ctx context.Context, t *target) (int, error) {
	changes, err := p.fetch(ctx, t)
	if err != nil {
		// Leave the jobs to be retried later, with backoff.
		for _, j := range t.jobs {
			p.postpone(ctx, j)
		}
		return 0, fmt.Errorf("poller: %s/%s: %w", t.projectID, t.name, err)
	}
	n := 0
	for _, j := range t.jobs {
		c, ok := changes[j.AtlasID]
		if !ok {
			// Atlas no longer lists it (e.g. a snapshot deleted in Atlas).
			c = jobs.Change{To: jobs.StateFailed, AtlasState: j.AtlasState, Progress: j.Progress,
				Message: "Atlas no longer lists this " + string(j.Kind) + "; it was deleted or expired in Atlas"}
		}
		c.Source = jobs.SourcePoller
		next := p.nextPoll(j, c)
		var moved bool
		err := db.Transact(ctx, p.store.Pool(), func(tx pgx.Tx) error {
			var err error
			moved, err = p.store.Apply(ctx, tx, j, c, next)
			return err
		})
		switch {
		case errors.Is(err, jobs.ErrMoved):
			continue // another poller got there first
		case err != nil:
			return n, err
		}
		if moved {
			n++
			if c.To != j.State {
				p.metrics.Transitions.WithLabelValues(string(j.Kind), string(j.State), string(c.To)).Inc()
			}
		} else if p.cfg.StallAfter > 0 && p.now().Sub(j.LastProgressAt) > p.cfg.StallAfter && !j.Stalled {
			if marked, err := p.store.MarkStalled(ctx, j, p.now().Add(-p.cfg.StallAfter)); err == nil && marked {
				n++
			}
		}
	}
	return n, nil
}

// fetch lists the target's objects in Atlas, keyed by Atlas id.
func (p *Poller) fetch(ctx context.Context, t *target) (map[string]jobs.Change, error) {
	out := map[string]jobs.Change{}
	if t.pipeline {
		var runs []atlas.PipelineRun
		for run, err := range p.atlas.Pipelines.AllRuns(ctx, t.projectID, t.name) {
			if err != nil {
				return nil, err
			}
			out[run.ID] = jobs.RunChange(run)
			runs = append(runs, run)
		}
		p.recordRuns(ctx, t, runs)
		return out, nil
	}
	var snapshots, exports bool
	clusterType := atlas.ClusterReplicaSet
	for _, j := range t.jobs {
		switch j.Kind {
		case jobs.KindSnapshot:
			snapshots = true
			if ct, _ := j.Params["clusterType"].(string); ct != "" {
				clusterType = atlas.ClusterType(ct)
			}
		case jobs.KindExport:
			exports = true
		}
	}
	if snapshots {
		snaps, err := p.atlas.Snapshots.ForCluster(ctx, t.projectID, t.name, clusterType)
		if err != nil {
			return nil, err
		}
		for _, s := range snaps {
			out[s.ID] = jobs.SnapshotChange(s)
		}
		p.recordSnapshots(ctx, t, clusterType, snaps)
	}
	if exports {
		var list []atlas.ExportJob
		for e, err := range p.atlas.Exports.All(ctx, t.projectID, t.name) {
			if err != nil {
				return nil, err
			}
			out[e.ID] = jobs.ExportChange(e)
			list = append(list, e)
		}
		p.recordExports(ctx, t, list)
	}
	return out, nil
}

// nextPoll backs a job off while it does not move: MinBackoff × 1.5^n up
// to the kind's maximum. A job that ended is not polled again.
func (p *Poller) nextPoll(j jobs.Job, c jobs.Change) *time.Time {
	if c.To.IsTerminal() {
		return nil
	}
	d := p.cfg.MinBackoff
	if c.To == j.State && c.AtlasState == j.AtlasState && c.Progress == j.Progress {
		limit := p.cfg.MaxBackoff
		if j.Kind == jobs.KindExport {
			limit = p.cfg.ExportMaxBackoff
		}
		for i := 0; i < j.UnchangedPolls && d < limit; i++ {
			d = d * 3 / 2
		}
		d = min(d, limit)
	}
	t := p.now().Add(d)
	return &t
}

// postpone releases a job after a failed poll, to be tried again later.
func (p *Poller) postpone(ctx context.Context, j jobs.Job) {
	next := p.now().Add(min(p.cfg.MinBackoff*time.Duration(1+j.UnchangedPolls), p.cfg.MaxBackoff))
	if err := p.store.Postpone(ctx, j.ID, next); err != nil {
		p.log.Warn("poller: postpone", "job", j.ID, "err", err)
	}
}

func (p *Poller) refreshGauges(ctx context.Context) {
	counts, err := p.store.CountByState(ctx)
	if err != nil {
		return
	}
	p.metrics.JobsByState.Reset()
	for k, n := range counts {
		p.metrics.JobsByState.WithLabelValues(k[0], k[1]).Set(float64(n))
	}
	if n, err := p.store.CountStalled(ctx); err == nil {
		p.metrics.StalledJobs.Set(float64(n))
	}
}
