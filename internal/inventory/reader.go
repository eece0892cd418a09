package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
)

// Reader reads one project's inventory. It has no way to reach Atlas and
// no way to write: pages get one from the catalog once the person may view
// the project.
type Reader struct {
	pool      *pgxpool.Pool
	projectID string
}

// Reader returns the read-only view of projectID. Callers check the
// person's permission first (internal/catalog does).
func (s *Store) Reader(projectID string) *Reader { return &Reader{pool: s.pool, projectID: projectID} }

// ProjectID is the project the reader reads.
func (r *Reader) ProjectID() string { return r.projectID }

// Seen is when Snapdesk first and last saw an object, and since when Atlas
// no longer lists it (zero while it does).
type Seen struct {
	FirstSeen, LastSeen time.Time
	Gone                time.Time
}

// IsGone reports whether Atlas no longer lists the object.
func (s Seen) IsGone() bool { return !s.Gone.IsZero() }

// Project is a project as the inventory knows it.
type Project struct {
	atlas.Project
	PipelinesUnavailable bool
	Seen
}

// Cluster is a cluster as the inventory knows it.
type Cluster struct {
	atlas.Cluster
	Seen
}

// Snapshot is a snapshot as the inventory knows it; gone ones were
// expired or deleted in Atlas.
type Snapshot struct {
	atlas.Snapshot
	ProjectID, ClusterName string
	Seen
}

// Expired reports whether Atlas dropped the snapshot when it expired (as
// opposed to it being deleted before).
func (s Snapshot) Expired() bool {
	return s.IsGone() && !s.ExpiresAt.IsZero() && !s.ExpiresAt.After(s.Gone)
}

// Bucket is an export bucket as the inventory knows it.
type Bucket struct {
	atlas.ExportBucket
	Seen
}

// Pipeline is a pipeline as the inventory knows it.
type Pipeline struct {
	atlas.Pipeline
	Seen
}

// Run is a pipeline run as the inventory knows it.
type Run struct {
	atlas.PipelineRun
	Seen
}

// Export is an export job as the inventory knows it.
type Export struct {
	atlas.ExportJob
	ClusterName string
	Seen
}

// Schedule is a cluster's backup schedule as the inventory knows it.
type Schedule struct {
	NextSnapshot      time.Time
	RestoreWindowDays int
	Doc               json.RawMessage
	Seen
}

// scanDoc decodes a row's doc into dst and its seen columns into seen.
func scanDoc(row pgx.Row, dst any, seen *Seen, extra ...any) error {
	var doc []byte
	var gone *time.Time
	args := append([]any{&doc, &seen.FirstSeen, &seen.LastSeen, &gone}, extra...)
	if err := row.Scan(args...); err != nil {
		return err
	}
	if gone != nil {
		seen.Gone = *gone
	}
	return json.Unmarshal(doc, dst)
}

const seenCols = `doc, first_seen_at, last_seen_at, gone_at`

// Project returns the project; db.ErrNotFound when the inventory has not
// seen it.
func (r *Reader) Project(ctx context.Context) (Project, error) {
	var p Project
	err := scanDoc(r.pool.QueryRow(ctx, `SELECT `+seenCols+`, pipelines_unavailable FROM inventory_projects WHERE project_id = $1`, r.projectID),
		&p.Project, &p.Seen, &p.PipelinesUnavailable)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("inventory: project %s: %w", r.projectID, db.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("inventory: project %s: %w", r.projectID, err)
	}
	return p, nil
}

// Clusters lists the project's clusters Atlas still lists, by name.
func (r *Reader) Clusters(ctx context.Context) ([]Cluster, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+seenCols+` FROM inventory_clusters WHERE project_id = $1 AND gone_at IS NULL ORDER BY name`, r.projectID)
	if err != nil {
		return nil, fmt.Errorf("inventory: clusters of %s: %w", r.projectID, err)
	}
	return collectDocs(rows, func(c *Cluster) (any, *Seen) { return &c.Cluster, &c.Seen })
}

// Cluster returns one cluster (gone ones too: their page shows history);
// db.ErrNotFound when never seen.
func (r *Reader) Cluster(ctx context.Context, name string) (Cluster, error) {
	var c Cluster
	err := scanDoc(r.pool.QueryRow(ctx, `SELECT `+seenCols+` FROM inventory_clusters WHERE project_id = $1 AND name = $2`, r.projectID, name), &c.Cluster, &c.Seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("inventory: cluster %s/%s: %w", r.projectID, name, db.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("inventory: cluster %s/%s: %w", r.projectID, name, err)
	}
	return c, nil
}

// Snapshots returns one page of a cluster's snapshots, newest first,
// expired ones included, and how many there are.
func (r *Reader) Snapshots(ctx context.Context, cluster string, page, perPage int) ([]Snapshot, int, error) {
	var total int
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM inventory_snapshots WHERE project_id = $1 AND cluster_name = $2`,
		r.projectID, cluster).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("inventory: count snapshots of %s/%s: %w", r.projectID, cluster, err)
	}
	rows, err := r.pool.Query(ctx, `SELECT `+seenCols+`, project_id, cluster_name FROM inventory_snapshots
		WHERE project_id = $1 AND cluster_name = $2
		ORDER BY created_at DESC, snapshot_id DESC LIMIT $3 OFFSET $4`, r.projectID, cluster, perPage, (max(page, 1)-1)*perPage)
	if err != nil {
		return nil, 0, fmt.Errorf("inventory: snapshots of %s/%s: %w", r.projectID, cluster, err)
	}
	snaps, err := collectSnapshots(rows)
	return snaps, total, err
}

// LiveSnapshots lists a cluster's snapshots Atlas still lists, newest
// first (the rule for Take snapshot, the export form's choices).
func (r *Reader) LiveSnapshots(ctx context.Context, cluster string) ([]Snapshot, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+seenCols+`, project_id, cluster_name FROM inventory_snapshots
		WHERE project_id = $1 AND cluster_name = $2 AND gone_at IS NULL
		ORDER BY created_at DESC, snapshot_id DESC`, r.projectID, cluster)
	if err != nil {
		return nil, fmt.Errorf("inventory: snapshots of %s/%s: %w", r.projectID, cluster, err)
	}
	return collectSnapshots(rows)
}

// Snapshot returns one snapshot of the project (gone ones too).
func (r *Reader) Snapshot(ctx context.Context, id string) (Snapshot, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+seenCols+`, project_id, cluster_name FROM inventory_snapshots
		WHERE project_id = $1 AND snapshot_id = $2`, r.projectID, id)
	if err != nil {
		return Snapshot{}, fmt.Errorf("inventory: snapshot %s: %w", id, err)
	}
	snaps, err := collectSnapshots(rows)
	if err != nil {
		return Snapshot{}, err
	}
	if len(snaps) == 0 {
		return Snapshot{}, fmt.Errorf("inventory: snapshot %s: %w", id, db.ErrNotFound)
	}
	return snaps[0], nil
}

func collectSnapshots(rows pgx.Rows) ([]Snapshot, error) {
	defer rows.Close()
	var out []Snapshot
	for rows.Next() {
		var s Snapshot
		if err := scanDoc(rows, &s.Snapshot, &s.Seen, &s.ProjectID, &s.ClusterName); err != nil {
			return nil, fmt.Errorf("inventory: read snapshots: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inventory: read snapshots: %w", err)
	}
	return out, nil
}

// Buckets lists the project's export buckets Atlas still lists.
func (r *Reader) Buckets(ctx context.Context) ([]Bucket, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+seenCols+` FROM inventory_export_buckets WHERE project_id = $1 AND gone_at IS NULL ORDER BY bucket_name, bucket_id`, r.projectID)
	if err != nil {
		return nil, fmt.Errorf("inventory: buckets of %s: %w", r.projectID, err)
	}
	return collectDocs(rows, func(b *Bucket) (any, *Seen) { return &b.ExportBucket, &b.Seen })
}

// Pipelines lists the project's pipelines Atlas still lists, and whether
// Atlas has retired pipelines for the project.
func (r *Reader) Pipelines(ctx context.Context) ([]Pipeline, bool, error) {
	var unavailable bool
	err := r.pool.QueryRow(ctx, `SELECT pipelines_unavailable FROM inventory_projects WHERE project_id = $1`, r.projectID).Scan(&unavailable)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, false, fmt.Errorf("inventory: pipelines of %s: %w", r.projectID, err)
	}
	rows, err := r.pool.Query(ctx, `SELECT `+seenCols+` FROM inventory_pipelines WHERE project_id = $1 AND gone_at IS NULL ORDER BY name`, r.projectID)
	if err != nil {
		return nil, false, fmt.Errorf("inventory: pipelines of %s: %w", r.projectID, err)
	}
	ps, err := collectDocs(rows, func(p *Pipeline) (any, *Seen) { return &p.Pipeline, &p.Seen })
	return ps, unavailable, err
}

// Pipeline returns one pipeline; db.ErrNotFound when never seen.
func (r *Reader) Pipeline(ctx context.Context, name string) (Pipeline, error) {
	var p Pipeline
	err := scanDoc(r.pool.QueryRow(ctx, `SELECT `+seenCols+` FROM inventory_pipelines WHERE project_id = $1 AND name = $2`, r.projectID, name), &p.Pipeline, &p.Seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("inventory: pipeline %s/%s: %w", r.projectID, name, db.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("inventory: pipeline %s/%s: %w", r.projectID, name, err)
	}
	return p, nil
}

// Runs returns one page of a pipeline's runs, newest first, and how many
// there are.
func (r *Reader) Runs(ctx context.Context, pipeline string, page, perPage int) ([]Run, int, error) {
	var total int
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM inventory_pipeline_runs WHERE project_id = $1 AND pipeline_name = $2`,
		r.projectID, pipeline).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("inventory: count runs of %s/%s: %w", r.projectID, pipeline, err)
	}
	rows, err := r.pool.Query(ctx, `SELECT `+seenCols+` FROM inventory_pipeline_runs WHERE project_id = $1 AND pipeline_name = $2
		ORDER BY created_at DESC, run_id DESC LIMIT $3 OFFSET $4`, r.projectID, pipeline, perPage, (max(page, 1)-1)*perPage)
	if err != nil {
		return nil, 0, fmt.Errorf("inventory: runs of %s/%s: %w", r.projectID, pipeline, err)
	}
	runs, err := collectDocs(rows, func(x *Run) (any, *Seen) { return &x.PipelineRun, &x.Seen })
	return runs, total, err
}

// Run returns one run of a pipeline; db.ErrNotFound when never seen.
func (r *Reader) Run(ctx context.Context, pipeline, runID string) (Run, error) {
	var x Run
	err := scanDoc(r.pool.QueryRow(ctx, `SELECT `+seenCols+` FROM inventory_pipeline_runs WHERE project_id = $1 AND pipeline_name = $2 AND run_id = $3`,
		r.projectID, pipeline, runID), &x.PipelineRun, &x.Seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return x, fmt.Errorf("inventory: run %s: %w", runID, db.ErrNotFound)
	}
	if err != nil {
		return x, fmt.Errorf("inventory: run %s: %w", runID, err)
	}
	return x, nil
}

// Exports lists a cluster's export jobs (all of them, Snapdesk's or not),
// newest first.
func (r *Reader) Exports(ctx context.Context, cluster string) ([]Export, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+seenCols+`, cluster_name FROM inventory_exports WHERE project_id = $1 AND cluster_name = $2
		ORDER BY created_at DESC, export_id DESC`, r.projectID, cluster)
	if err != nil {
		return nil, fmt.Errorf("inventory: exports of %s/%s: %w", r.projectID, cluster, err)
	}
	defer rows.Close()
	var out []Export
	for rows.Next() {
		var e Export
		if err := scanDoc(rows, &e.ExportJob, &e.Seen, &e.ClusterName); err != nil {
			return nil, fmt.Errorf("inventory: read exports: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Schedule returns a cluster's backup schedule; db.ErrNotFound when the
// inventory has none.
func (r *Reader) Schedule(ctx context.Context, cluster string) (Schedule, error) {
	var s Schedule
	var next *time.Time
	var window *int32
	var gone *time.Time
	err := r.pool.QueryRow(ctx, `SELECT doc, next_snapshot, restore_window_days, first_seen_at, last_seen_at, gone_at
		FROM inventory_schedules WHERE project_id = $1 AND cluster_name = $2`, r.projectID, cluster).
		Scan(&s.Doc, &next, &window, &s.FirstSeen, &s.LastSeen, &gone)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("inventory: schedule of %s/%s: %w", r.projectID, cluster, db.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("inventory: schedule of %s/%s: %w", r.projectID, cluster, err)
	}
	if next != nil {
		s.NextSnapshot = *next
	}
	if window != nil {
		s.RestoreWindowDays = int(*window)
	}
	if gone != nil {
		s.Gone = *gone
	}
	return s, nil
}

// collectDocs reads rows of seenCols into Ts, with at(t) naming where the
// doc and the seen columns go.
func collectDocs[T any](rows pgx.Rows, at func(*T) (any, *Seen)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var t T
		dst, seen := at(&t)
		if err := scanDoc(rows, dst, seen); err != nil {
			return nil, fmt.Errorf("inventory: read rows: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inventory: read rows: %w", err)
	}
	return out, nil
}

// Freshness says how current what a page shows is.
type Freshness struct {
	// AsOf is the oldest complete sync among the units the page shows
	// (zero: Snapdesk has not read them from Atlas yet).
	AsOf time.Time
	// Problem is the kind of failure of the latest attempts (KindUnreachable,
	// KindLimited, KindError), "" when Atlas answers; Since is when it began.
	Problem string
	Since   time.Time
	// Now is the database's clock, for "12 s ago".
	Now time.Time
}

// Freshness reports the freshness of the project's units; with cluster
// set, of the project's own units and that cluster's.
func (r *Reader) Freshness(ctx context.Context, cluster string) (Freshness, error) {
	return freshness(ctx, r.pool, []string{r.projectID}, cluster)
}

// freshness aggregates the units of projects (target "" or cluster).
func freshness(ctx context.Context, pool *pgxpool.Pool, projects []string, cluster string) (Freshness, error) {
	var f Freshness
	err := scanFreshness(pool.QueryRow(ctx, freshnessSQL, projects, cluster), &f)
	return f, err
}
