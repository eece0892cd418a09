// Package inventory keeps what Atlas holds (projects, clusters, snapshots,
// export buckets, export jobs, pipelines and runs, backup schedules) in
// Postgres, so that pages read Postgres and never wait on Atlas.
//
// The sync engine runs in every worker. Its work is a list of units, one per
// project, resource and target (inventory_sync), each with a due time and a
// lease taken with FOR UPDATE SKIP LOCKED: replicas share the units and
// never fetch one twice. A unit is one list call per cluster (or pipeline,
// or project) per resource, pages followed to the end; its rows are written
// in one transaction fenced by the lease, and only rows that changed are
// written. What someone has open (a project's own units and the open
// cluster's or pipeline's) is refreshed at the watched cadence (10 s), the
// rest of that project at the nearby one (1 min), other projects at the
// idle one (10 min). Every call is background work for
// the Atlas client: it uses at most the configured share of each rate-limit
// bucket, and a 429 backs the unit off instead of being retried.
package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
)

// Config tunes the sync.
type Config struct {
	// Watched is the cadence of what someone has open (a project's own
	// units, and the open cluster's or pipeline's); Nearby of the rest of
	// a project someone has open; Idle of the other projects.
	Watched, Nearby, Idle time.Duration
	// Tick is how often a worker looks for due units.
	Tick time.Duration
	// Lease bounds one unit's fetch and write; another worker takes the
	// unit over after it.
	Lease time.Duration
	// Batch bounds the units leased at once; Concurrency the units fetched
	// at once.
	Batch, Concurrency int
	// MaxBackoff bounds the wait after failures.
	MaxBackoff time.Duration
}

// DefaultConfig: an open page within 15 s (10 s cadence plus a tick and the
// calls), the rest of its project every minute, idle projects every 10
// minutes.
func DefaultConfig() Config {
	return Config{Watched: 10 * time.Second, Nearby: time.Minute, Idle: 10 * time.Minute, Tick: time.Second, Lease: 2 * time.Minute,
		Batch: 200, Concurrency: 4, MaxBackoff: 5 * time.Minute}
}

// Syncer brings the inventory up to date with Atlas.
type Syncer struct {
	cfg   Config
	store *Store
	atlas *atlas.Client
	log   *slog.Logger
}

// NewSyncer builds a sync engine.
func NewSyncer(cfg Config, store *Store, client *atlas.Client, log *slog.Logger) *Syncer {
	return &Syncer{cfg: cfg, store: store, atlas: client, log: log}
}

// Run syncs until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		for {
			st, err := s.Cycle(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("inventory: cycle", "err", err)
			}
			// A full batch means more is due (new clusters found): go on.
			if st.Units < s.cfg.Batch || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CycleStats says what one cycle did.
type CycleStats struct {
	Units   int   // units leased
	Changed int64 // rows changed
	Errors  int   // units that failed (Atlas or the database)
	Budget  int   // units put off because the background share was spent
}

// Cycle leases the due units and syncs each once.
func (s *Syncer) Cycle(ctx context.Context) (CycleStats, error) {
	var st CycleStats
	units, err := s.store.Claim(ctx, s.cfg.Batch, s.cfg.Lease, s.cfg.Watched, s.nearby())
	if err != nil {
		return st, err
	}
	st.Units = len(units)
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, max(s.cfg.Concurrency, 1))
	var wg sync.WaitGroup
	for _, u := range units {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			n, budget, err := s.syncUnit(ctx, u)
			mu.Lock()
			defer mu.Unlock()
			st.Changed += n
			if budget {
				st.Budget++
			}
			if err != nil {
				st.Errors++
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return st, errors.Join(errs...)
}

// syncUnit fetches u from Atlas and writes it, or records why not.
func (s *Syncer) syncUnit(ctx context.Context, u Unit) (changed int64, budget bool, err error) {
	callCtx, cancel := context.WithTimeout(atlas.Background(ctx), s.cfg.Lease*3/4)
	l, err := s.fetch(callCtx, u)
	cancel()
	if err != nil {
		var be *atlas.BudgetError
		if errors.As(err, &be) && !be.Limited {
			// Atlas is fine; the share is spent for now.
			return 0, true, s.store.Fail(ctx, u, "", "", be.Wait)
		}
		if parent, ok := parentOf(u); ok && isNotFound(err) {
			// The cluster or pipeline went since the parent unit listed
			// it: list the parent now, which retires this unit.
			if err := s.store.markUnitDue(ctx, parent); err != nil {
				return 0, false, err
			}
			return 0, false, s.store.Fail(ctx, u, "", "", s.cfg.Watched)
		}
		kind := failureKind(err)
		n, _ := s.store.Failures(ctx, u)
		next := s.backoff(n)
		if errors.As(err, &be) {
			next = max(next, be.Wait)
		}
		if ferr := s.store.Fail(ctx, u, kind, err.Error(), next); ferr != nil {
			return 0, false, errors.Join(err, ferr)
		}
		return 0, false, fmt.Errorf("inventory: %s: %w", u, err)
	}
	changed, err = s.writeUnit(ctx, u, l)
	if errors.Is(err, ErrLeaseLost) {
		s.log.Warn("inventory: lease lost; the other worker's listing stands", "unit", u.String())
		return 0, false, nil
	}
	return changed, false, err
}

// writeUnit records u's listing in one transaction fenced by u's lease, and
// schedules the unit's next sync.
func (s *Syncer) writeUnit(ctx context.Context, u Unit, l Listing) (changed int64, err error) {
	err = db.Transact(ctx, s.store.pool, func(tx pgx.Tx) error {
		if err := hold(ctx, tx, u); err != nil {
			return err
		}
		var err error
		if changed, err = write(ctx, tx, u, l); err != nil {
			return err
		}
		if changed > 0 {
			if err := notify(ctx, tx, u); err != nil {
				return err
			}
		}
		return complete(ctx, tx, u, s.cfg.Watched, s.nearby(), s.cfg.Idle)
	})
	return changed, err
}

// nearby is the cadence of the rest of a watched project: never shorter
// than the watched one nor longer than the idle one (a zero Nearby, from a
// configuration written before it existed, is the watched cadence).
func (s *Syncer) nearby() time.Duration {
	if s.cfg.Nearby <= 0 {
		return s.cfg.Watched
	}
	return min(max(s.cfg.Nearby, s.cfg.Watched), max(s.cfg.Idle, s.cfg.Watched))
}

// backoff is the wait after n failures in a row: the watched cadence,
// doubled each time, up to MaxBackoff.
func (s *Syncer) backoff(n int) time.Duration {
	d := s.cfg.Watched
	for i := 0; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxBackoff)
}

// parentOf is the unit whose listing creates u: a cluster's units come from
// the project's clusters, a pipeline's runs from its pipelines.
func parentOf(u Unit) (Unit, bool) {
	switch u.Resource {
	case ResSnapshots, ResExports, ResSchedule:
		return Unit{ProjectID: u.ProjectID, Resource: ResClusters}, true
	case ResRuns:
		return Unit{ProjectID: u.ProjectID, Resource: ResPipelines}, true
	}
	return Unit{}, false
}

func isNotFound(err error) bool {
	var ae *atlas.Error
	return errors.As(err, &ae) && ae.HTTPStatus == http.StatusNotFound
}

func failureKind(err error) string {
	var be *atlas.BudgetError
	if errors.As(err, &be) && be.Limited {
		return KindLimited
	}
	var ae *atlas.Error
	if errors.As(err, &ae) {
		switch {
		case ae.HTTPStatus == http.StatusTooManyRequests:
			return KindLimited
		case ae.HTTPStatus >= 500:
			return KindUnreachable
		}
		return KindError
	}
	return KindUnreachable // no answer: network, timeout
}

// fetch lists u's objects in Atlas, every page.
func (s *Syncer) fetch(ctx context.Context, u Unit) (Listing, error) {
	var l Listing
	a := s.atlas
	p, t := u.ProjectID, u.Target
	switch u.Resource {
	case ResProjects:
		return l, collect(a.Projects.All(ctx), &l.Projects)
	case ResClusters:
		return l, collect(a.Clusters.All(ctx, p), &l.Clusters)
	case ResBuckets:
		return l, collect(a.ExportBuckets.All(ctx, p), &l.Buckets)
	case ResPipelines:
		ps, err := a.Pipelines.List(ctx, p)
		if errors.Is(err, atlas.ErrPipelinesUnavailable) {
			l.PipelinesUnavailable = true
			return l, nil
		}
		l.Pipelines = ps
		return l, err
	case ResSnapshots:
		ct, err := s.store.clusterType(ctx, p, t)
		if err != nil {
			return l, err
		}
		snaps, err := a.Snapshots.ForCluster(ctx, p, t, ct)
		l.Snapshots = typedSnapshots(snaps, ct)
		return l, err
	case ResExports:
		return l, collect(a.Exports.All(ctx, p, t), &l.Exports)
	case ResRuns:
		err := collect(a.Pipelines.AllRuns(ctx, p, t), &l.Runs)
		if errors.Is(err, atlas.ErrPipelinesUnavailable) {
			return l, nil // the pipelines unit records it
		}
		return l, err
	case ResSchedule:
		sched, err := getSchedule(ctx, a, p, t)
		var ae *atlas.Error
		if errors.As(err, &ae) && ae.HTTPStatus == http.StatusNotFound {
			return l, nil // no schedule (backup off): recorded as gone
		}
		if err != nil {
			return l, err
		}
		l.Schedule, err = json.Marshal(sched)
		return l, err
	}
	return l, fmt.Errorf("inventory: unknown resource %q", u.Resource)
}

// typedSnapshots fills each snapshot's type from its cluster's when Atlas
// left it out, so the inventory can tell sharded snapshots apart.
func typedSnapshots(snaps []atlas.Snapshot, ct atlas.ClusterType) []atlas.Snapshot {
	want := "replicaSet"
	if ct.IsSharded() {
		want = "shardedCluster"
	}
	for i := range snaps {
		if snaps[i].Type == "" {
			snaps[i].Type = want
		}
	}
	return snaps
}

func collect[T any](seq func(func(T, error) bool), out *[]T) error {
	for x, err := range seq {
		if err != nil {
			return err
		}
		*out = append(*out, x)
	}
	return nil
}

// clusterType is what the inventory knows of a cluster's type (replica
// set until the clusters unit said otherwise).
func (s *Store) clusterType(ctx context.Context, projectID, name string) (atlas.ClusterType, error) {
	var t string
	err := s.pool.QueryRow(ctx, `SELECT cluster_type FROM inventory_clusters WHERE project_id = $1 AND name = $2`, projectID, name).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) || t == "" {
		return atlas.ClusterReplicaSet, nil
	}
	if err != nil {
		return "", fmt.Errorf("inventory: cluster type of %s/%s: %w", projectID, name, err)
	}
	return atlas.ClusterType(t), nil
}
