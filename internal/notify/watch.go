package notify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/snapdesk/snapdesk/internal/db"
)

// Condition is something that is either fine or not: a cluster's backup
// health, a restore drill being on time. Watchers report conditions; an
// event is emitted when one turns bad (once, until it is fine again).
type Condition struct {
	// Key names the condition for good, e.g. "health:<project>/<cluster>".
	Key         string
	Type        string // the event emitted when it turns bad
	ProjectID   string
	ClusterName string
	Bad         bool
	Payload     Payload
}

// Watcher lists the current conditions of one kind.
type Watcher func(ctx context.Context) ([]Condition, error)

// WatchArgs is River's periodic job that runs the watchers; River runs it
// on its elected leader only, so one process compares at a time.
type WatchArgs struct{}

// Kind is River's name for the job.
func (WatchArgs) Kind() string { return "notify_watch" }

type watchWorker struct {
	river.WorkerDefaults[WatchArgs]
	svc *Service
}

func (w *watchWorker) Work(ctx context.Context, _ *river.Job[WatchArgs]) error {
	_, err := w.svc.WatchOnce(ctx)
	return err
}

// WatchOnce runs every watcher and records each condition; a condition that
// turns bad emits its event in the same transaction as the record, so it is
// told once. It returns how many events it emitted.
func (s *Service) WatchOnce(ctx context.Context) (int, error) {
	emitted := 0
	for _, watch := range s.cfg.Watchers {
		conds, err := watch(ctx)
		if err != nil {
			return emitted, fmt.Errorf("notify: watch: %w", err)
		}
		for _, c := range conds {
			err := db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
				var wasBad bool
				err := tx.QueryRow(ctx, `SELECT bad FROM notify_conditions WHERE key = $1 FOR UPDATE`, c.Key).Scan(&wasBad)
				if err != nil && err != pgx.ErrNoRows {
					return fmt.Errorf("notify: condition %s: %w", c.Key, err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO notify_conditions (key, bad, changed_at) VALUES ($1, $2, now())
					ON CONFLICT (key) DO UPDATE SET bad = EXCLUDED.bad,
						changed_at = CASE WHEN notify_conditions.bad = EXCLUDED.bad THEN notify_conditions.changed_at ELSE now() END`,
					c.Key, c.Bad); err != nil {
					return fmt.Errorf("notify: condition %s: %w", c.Key, err)
				}
				if !c.Bad || wasBad {
					return nil
				}
				emitted++
				return Emit(ctx, tx, Event{Type: c.Type, ProjectID: c.ProjectID, ClusterName: c.ClusterName, Payload: c.Payload})
			})
			if err != nil {
				return emitted, err
			}
		}
	}
	return emitted, nil
}

func (s *Service) periodicJobs() []*river.PeriodicJob {
	if len(s.cfg.Watchers) == 0 {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.cfg.WatchEvery),
		func() (river.JobArgs, *river.InsertOpts) {
			return WatchArgs{}, &river.InsertOpts{Queue: Queue, MaxAttempts: 1}
		}, &river.PeriodicJobOpts{RunOnStart: true})}
}
