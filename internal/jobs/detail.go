package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/db"
)

// Detail is what a job's own page shows: the job, its status history and
// the jobs about the same snapshot (its lineage, newest first).
type Detail struct {
	Job     Job
	Events  []Event
	Related []Job
}

// ReadDetail reads a job's Detail in one read-only transaction, so the
// live page of a job costs one transaction per change however many
// people have it open (the live hub shares it between them).
func (s *Store) ReadDetail(ctx context.Context, id string) (Detail, error) {
	var d Detail
	if _, err := uuid.Parse(id); err != nil {
		return d, fmt.Errorf("jobs: job %q: %w", id, db.ErrNotFound)
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		d.Job, err = scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1::uuid`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("jobs: job %s: %w", id, db.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("jobs: get %s: %w", id, err)
		}
		rows, err := tx.Query(ctx, `
			SELECT id, job_id::text, at, COALESCE(from_state, ''), to_state, atlas_state, progress, message, source
			FROM job_events WHERE job_id = $1::uuid ORDER BY id`, id)
		if err != nil {
			return fmt.Errorf("jobs: events of %s: %w", id, err)
		}
		if d.Events, err = scanEvents(rows); err != nil {
			return fmt.Errorf("jobs: events of %s: %w", id, err)
		}
		if d.Job.SnapshotID == "" {
			return nil
		}
		where, args := Filter{SnapshotID: d.Job.SnapshotID, ProjectID: d.Job.ProjectID}.where()
		rows, err = tx.Query(ctx, `SELECT `+jobColumns+` FROM jobs `+where+` ORDER BY created_at DESC, id LIMIT 100`, args...)
		if err != nil {
			return fmt.Errorf("jobs: lineage of %s: %w", id, err)
		}
		if d.Related, err = collect(rows); err != nil {
			return fmt.Errorf("jobs: lineage of %s: %w", id, err)
		}
		return nil
	})
	return d, err
}

func scanEvents(rows pgx.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var progress []byte
		if err := rows.Scan(&e.ID, &e.JobID, &e.At, &e.From, &e.To, &e.AtlasState, &progress, &e.Message, &e.Source); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(progress, &e.Progress); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
