// Package poller follows every job Atlas is still working on until it
// ends. Each cycle it leases the jobs that are due (FOR UPDATE SKIP LOCKED,
// so several replicas share the work), brings all jobs of one cluster up to
// date with one list of snapshots or exports, and all runs of one pipeline
// with one list of runs, records a change only when there is one, backs off
// jobs that do not move, and flags stalled ones.
//
// Targets (clusters and pipelines) are polled concurrently, at most
// Config.Concurrency at once, each within Config.CallTimeout: a target whose
// Atlas calls hang holds one slot until its deadline and never the others,
// and the next cycles go on without it. Every write is fenced by the lease
// (the job's version when it was claimed), so a poller whose lease ran out
// writes nothing.
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
	// ReconcileEvery is how often unknown jobs, and jobs left requested by
	// a process that is gone, are reconciled.
	ReconcileEvery time.Duration
	// Inventory, when set, receives every complete list the poller
	// fetches, so one Atlas call serves both the jobs and the inventory.
	Inventory Inventory
	// Lease is how long claimed jobs are reserved for this poller; CallTimeout
	// bounds the Atlas calls for one target and must be shorter.
	Lease, CallTimeout time.Duration
	// WriteTimeout bounds the database writes for one target.
	WriteTimeout time.Duration
}

// DefaultConfig suits Atlas: seconds at first, minutes for long exports.
func DefaultConfig() Config {
	return Config{
		Interval: time.Second, MinBackoff: 2 * time.Second, MaxBackoff: time.Minute, ExportMaxBackoff: 5 * time.Minute,
		StallAfter: 30 * time.Minute, BatchSize: 5000, Concurrency: 4, ReconcileEvery: 10 * time.Second,
		Lease: 2 * time.Minute, CallTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
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
	sem     chan struct{}

	mu       sync.Mutex
	inflight map[targetKey]bool
	// unreleased are claimed jobs whose write failed (the database went
	// away): their leases are given back as soon as it returns, instead of
	// making them wait for the lease to run out.
	unreleased []jobs.Job
	dbDown     bool
	// recovered is set when the database answers again after failing: the
	// next turn reconciles at once.
	recovered bool
}

type targetKey struct {
	projectID, name string
	pipeline        bool
}

// New builds a poller over the jobs service (for reconciliation), the
// store it leases jobs from and the Atlas client it reads them with.
func New(cfg Config, svc *jobs.Service, store *jobs.Store, client *atlas.Client, m *metrics.Metrics, log *slog.Logger) *Poller {
	def := DefaultConfig()
	if cfg.Lease <= 0 {
		cfg.Lease = def.Lease
	}
	if cfg.CallTimeout <= 0 || cfg.CallTimeout >= cfg.Lease {
		cfg.CallTimeout = min(def.CallTimeout, cfg.Lease/2)
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = def.WriteTimeout
	}
	return &Poller{cfg: cfg, svc: svc, store: store, atlas: client, log: log, metrics: m,
		sem: make(chan struct{}, max(cfg.Concurrency, 1)), inflight: map[targetKey]bool{}}
}

// Run polls until ctx ends; targets being polled finish first (each within
// CallTimeout).
func (p *Poller) Run(ctx context.Context) {
	var lastReconcile, lastGauges time.Time
	var running sync.WaitGroup
	defer running.Wait()
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		p.mu.Lock()
		recovered := p.recovered
		p.recovered = false
		p.mu.Unlock()
		if recovered || time.Since(lastReconcile) >= p.cfg.ReconcileEvery {
			lastReconcile = time.Now()
			p.housekeeping(ctx)
		}
		if p.svc.Owed() > 0 {
			if n, err := p.svc.RecordOwed(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("poller: record owed Atlas answers", "err", err)
			} else if n > 0 {
				p.log.Info("poller: recorded Atlas answers kept while the database was away", "count", n)
			}
		}
		if _, err := p.dispatch(ctx, &running); err != nil && ctx.Err() == nil {
			p.log.Warn("poller: cycle", "err", err)
		} else if err == nil && time.Since(lastGauges) >= p.cfg.ReconcileEvery {
			lastGauges = time.Now()
			p.refreshGauges(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// housekeeping reconciles unresolved jobs and lapses approvals.
func (p *Poller) housekeeping(ctx context.Context) {
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

// CycleStats describes one cycle.
type CycleStats struct {
	Jobs        int // jobs leased
	Targets     int // clusters and pipelines polled
	Transitions int // changes recorded
	Errors      int // targets whose poll failed
}

// target is one cluster's or pipeline's due jobs.
type target struct {
	targetKey
	jobs []jobs.Job
}

// Cycle polls every due job once and waits for it: what Run does each
// Interval, for tests and benchmarks. One target's error does not stop the
// others.
func (p *Poller) Cycle(ctx context.Context) (CycleStats, error) {
	start := time.Now()
	var wg sync.WaitGroup
	c, err := p.dispatch(ctx, &wg)
	wg.Wait()
	p.metrics.PollCycle.Observe(time.Since(start).Seconds())
	p.refreshGauges(ctx)
	if c == nil {
		return CycleStats{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats, errors.Join(append(c.errs, err)...)
}

// cycle collects what the targets of one dispatch did.
type cycle struct {
	mu    sync.Mutex
	stats CycleStats
	errs  []error
}

// dispatch leases the due jobs and starts polling each of their targets,
// waiting only for a free slot (never for a target to finish). Targets
// still being polled from an earlier cycle are left for a later one.
func (p *Poller) dispatch(ctx context.Context, wg *sync.WaitGroup) (*cycle, error) {
	p.releaseUnreleased(ctx)
	due, err := p.store.ClaimDue(ctx, p.cfg.BatchSize, p.cfg.Lease)
	p.noteDB(err)
	if err != nil {
		return nil, err
	}
	c := &cycle{stats: CycleStats{Jobs: len(due)}}
	byTarget := map[targetKey]*target{}
	var order []*target
	for _, j := range due {
		key := targetKey{projectID: j.ProjectID, name: j.Target(), pipeline: j.Kind == jobs.KindIngestion}
		t, ok := byTarget[key]
		if !ok {
			t = &target{targetKey: key}
			byTarget[key] = t
			order = append(order, t)
		}
		t.jobs = append(t.jobs, j)
	}
	for i, t := range order {
		p.mu.Lock()
		busy := p.inflight[t.targetKey]
		if !busy {
			p.inflight[t.targetKey] = true
		}
		p.mu.Unlock()
		if busy {
			// One poll per target at a time: a slow one is not piled on.
			for _, j := range t.jobs {
				p.postpone(ctx, j, p.cfg.MinBackoff)
			}
			continue
		}
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			// Stopping: give back what was claimed and not polled.
			p.mu.Lock()
			delete(p.inflight, t.targetKey)
			p.mu.Unlock()
			for _, rest := range order[i:] {
				for _, j := range rest.jobs {
					p.postpone(ctx, j, 0)
				}
			}
			return c, ctx.Err()
		}
		c.stats.Targets++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				<-p.sem
				p.mu.Lock()
				delete(p.inflight, t.targetKey)
				p.mu.Unlock()
			}()
			n, err := p.pollTarget(ctx, t)
			if err != nil && ctx.Err() == nil {
				p.log.Warn("poller: target", "err", err)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			c.stats.Transitions += n
			if err != nil {
				c.stats.Errors++
				c.errs = append(c.errs, err)
			}
		}()
	}
	return c, nil
}

// noteDB tracks whether the database answers, so that the turn after it
// comes back reconciles at once.
func (p *Poller) noteDB(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		p.dbDown = true
	case err == nil && p.dbDown:
		p.dbDown = false
		p.recovered = true
		p.log.Info("poller: the database answers again; resuming at once")
	}
}

// releaseUnreleased gives back the leases of jobs whose writes failed.
func (p *Poller) releaseUnreleased(ctx context.Context) {
	p.mu.Lock()
	pending := p.unreleased
	p.unreleased = nil
	p.mu.Unlock()
	for _, j := range pending {
		p.postpone(ctx, j, 0)
	}
}

// pollTarget fetches the Atlas state of every job of one target with list
// calls and records what changed.
func (p *Poller) pollTarget(ctx context.Context, t *target) (int, error) {
	callCtx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
	changes, err := p.fetch(callCtx, t)
	cancel()
	if err != nil {
		// Leave the jobs to be retried later, with backoff.
		for _, j := range t.jobs {
			p.postpone(ctx, j, min(p.cfg.MinBackoff*time.Duration(1+j.UnchangedPolls), p.cfg.MaxBackoff))
		}
		return 0, fmt.Errorf("poller: %s/%s: %w", t.projectID, t.name, err)
	}
	wctx, cancel := context.WithTimeout(ctx, p.cfg.WriteTimeout)
	defer cancel()
	n := 0
	for i, j := range t.jobs {
		c, ok := changes[j.AtlasID]
		if !ok {
			// Atlas no longer lists it (e.g. a snapshot deleted in Atlas).
			c = jobs.Change{To: jobs.StateFailed, AtlasState: j.AtlasState, Progress: j.Progress,
				Message: "Atlas no longer lists this " + string(j.Kind) + "; it was deleted or expired in Atlas"}
		}
		c.Source = jobs.SourcePoller
		var moved bool
		err := db.Transact(wctx, p.store.Pool(), func(tx pgx.Tx) error {
			var err error
			moved, err = p.store.Apply(wctx, tx, j, c, jobs.ApplyOptions{PollIn: p.nextPoll(j, c), StallAfter: p.cfg.StallAfter})
			return err
		})
		var te *jobs.TransitionError
		switch {
		case errors.Is(err, jobs.ErrMoved):
			continue // another poller got there first, or this lease ran out
		case errors.As(err, &te):
			// Atlas reported something the state machine does not allow
			// (a running job back to queued): keep what is recorded.
			p.log.Warn("poller: change refused", "job", j.ID, "err", err)
			p.postpone(wctx, j, p.nextPoll(j, jobs.Change{To: j.State, AtlasState: j.AtlasState, Progress: j.Progress}))
			continue
		case err != nil:
			p.mu.Lock()
			p.unreleased = append(p.unreleased, t.jobs[i:]...)
			p.mu.Unlock()
			p.noteDB(err)
			return n, err
		}
		if moved {
			n++
			if c.To != j.State {
				p.metrics.Transitions.WithLabelValues(string(j.Kind), string(j.State), string(c.To)).Inc()
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
	var snapshots, exports, restores bool
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
		case jobs.KindRestore:
			restores = true
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
	if restores {
		// A restore is listed under its source cluster.
		for r, err := range p.atlas.RestoreJobs.All(ctx, t.projectID, t.name) {
			if err != nil {
				return nil, err
			}
			out[r.ID] = jobs.RestoreChange(r)
		}
	}
	return out, nil
}

// nextPoll backs a job off while it does not move: MinBackoff × 1.5^n up
// to the kind's maximum.
func (p *Poller) nextPoll(j jobs.Job, c jobs.Change) time.Duration {
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
	return d
}

// postpone releases a job's lease, to be polled again in d. It is written
// even while the poller stops, so another replica need not wait for the
// lease to run out.
func (p *Poller) postpone(ctx context.Context, j jobs.Job, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := p.store.Postpone(ctx, j, d)
	switch {
	case err == nil, errors.Is(err, jobs.ErrMoved):
	default:
		p.mu.Lock()
		p.unreleased = append(p.unreleased, j)
		p.mu.Unlock()
		p.noteDB(err)
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
