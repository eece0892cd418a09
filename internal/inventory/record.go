package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
)

// Recorder writes lists fetched by others (the poller, a submission's
// preflight) into the inventory, so one Atlas call serves both.
type Recorder struct {
	store   *Store
	watched time.Duration
}

// NewRecorder records into store; a recorded unit is next due after
// watched at the earliest.
func NewRecorder(store *Store, watched time.Duration) *Recorder {
	return &Recorder{store: store, watched: watched}
}

// RecordSnapshots records a complete list of a cluster's snapshots.
func (r *Recorder) RecordSnapshots(ctx context.Context, projectID, cluster string, ct atlas.ClusterType, snaps []atlas.Snapshot) error {
	return r.record(ctx, Unit{ProjectID: projectID, Resource: ResSnapshots, Target: cluster}, Listing{Snapshots: typedSnapshots(snaps, ct)})
}

// RecordExports records a complete list of a cluster's export jobs.
func (r *Recorder) RecordExports(ctx context.Context, projectID, cluster string, exports []atlas.ExportJob) error {
	return r.record(ctx, Unit{ProjectID: projectID, Resource: ResExports, Target: cluster}, Listing{Exports: exports})
}

// RecordRuns records a complete list of a pipeline's runs.
func (r *Recorder) RecordRuns(ctx context.Context, projectID, pipeline string, runs []atlas.PipelineRun) error {
	return r.record(ctx, Unit{ProjectID: projectID, Resource: ResRuns, Target: pipeline}, Listing{Runs: runs})
}

// record writes l for u unless a sync worker holds u (its own listing is
// on the way), and counts as u's sync: the unit is not due again before
// the watched cadence.
func (r *Recorder) record(ctx context.Context, u Unit, l Listing) error {
	err := db.Transact(ctx, r.store.pool, func(tx pgx.Tx) error {
		var leased bool
		var synced *time.Time
		err := tx.QueryRow(ctx, `SELECT coalesce(leased_until > now(), false), synced_at FROM inventory_sync
			WHERE project_id = $1 AND resource = $2 AND target = $3 FOR UPDATE`, u.ProjectID, u.Resource, u.Target).Scan(&leased, &synced)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil // not in the inventory yet: the sync finds it first
		case err != nil:
			return err
		case leased:
			return nil
		}
		if synced != nil {
			u.SyncedAt = *synced
		}
		changed, err := write(ctx, tx, u, l)
		if err != nil {
			return err
		}
		if changed > 0 {
			if err := notify(ctx, tx, u); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE inventory_sync SET synced_at = now(), error = '', error_kind = '', error_since = NULL, failures = 0,
				due_at = greatest(due_at, now() + make_interval(secs => $4))
			WHERE project_id = $1 AND resource = $2 AND target = $3`, u.ProjectID, u.Resource, u.Target, r.watched.Seconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("inventory: record %s: %w", u, err)
	}
	return nil
}

// RecordSubmitted records what a submission learned from Atlas's answer (a
// snapshot just taken, a run just triggered) at once, so the page the
// person lands on shows it. Only new rows are written: the next listing
// brings Atlas's full record.
func (s *Store) RecordSubmitted(ctx context.Context, u Unit, l Listing) error {
	var q string
	var items any
	switch u.Resource {
	case ResSnapshots:
		q, items = upsertSnapshots, l.Snapshots
	case ResRuns:
		q, items = upsertRuns, l.Runs
	default:
		return fmt.Errorf("inventory: record submitted %s: unsupported", u)
	}
	q = q[:strings.Index(q, "ON CONFLICT")] + "ON CONFLICT DO NOTHING"
	doc, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("inventory: record submitted %s: %w", u, err)
	}
	err = db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q, u.ProjectID, u.Target, string(doc))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notify(ctx, tx, u)
	})
	if err != nil {
		return fmt.Errorf("inventory: record submitted %s: %w", u, err)
	}
	return nil
}
