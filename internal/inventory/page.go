package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/db"
)

// ErrNoProject and ErrNoCluster say which of a page's objects the inventory
// does not hold (both are db.ErrNotFound).
var (
	ErrNoProject = fmt.Errorf("inventory: no such project: %w", db.ErrNotFound)
	ErrNoCluster = fmt.Errorf("inventory: no such cluster: %w", db.ErrNotFound)
)

// ClusterPage is what a cluster's page shows of the inventory.
type ClusterPage struct {
	Project Project
	Cluster Cluster
	// Snapshots is one page of the cluster's snapshots, newest first,
	// expired ones included; Total counts them all.
	Snapshots []Snapshot
	Total     int
	// InFlight are the cluster's on-demand snapshots Atlas still lists as
	// queued or in progress: all the Take snapshot rule reads of them.
	InFlight  []Snapshot
	Buckets   []Bucket
	Pipelines []Pipeline
	// Freshness covers the project's own units and the cluster's.
	Freshness Freshness
}

// ClusterPage reads everything a cluster's page shows in one round trip
// (one batch of statements on one connection): a page view costs one
// wait on the database instead of nine.
func (r *Reader) ClusterPage(ctx context.Context, cluster string, page, perPage int) (ClusterPage, error) {
	var v ClusterPage
	var b pgx.Batch
	g := r.projectID
	b.Queue(`SELECT `+seenCols+`, pipelines_unavailable FROM inventory_projects WHERE project_id = $1`, g).QueryRow(func(row pgx.Row) error {
		err := scanDoc(row, &v.Project.Project, &v.Project.Seen, &v.Project.PipelinesUnavailable)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNoProject, g)
		}
		return err
	})
	b.Queue(`SELECT `+seenCols+` FROM inventory_clusters WHERE project_id = $1 AND name = $2`, g, cluster).QueryRow(func(row pgx.Row) error {
		err := scanDoc(row, &v.Cluster.Cluster, &v.Cluster.Seen)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s/%s", ErrNoCluster, g, cluster)
		}
		return err
	})
	b.Queue(`SELECT count(*) FROM inventory_snapshots WHERE project_id = $1 AND cluster_name = $2`, g, cluster).
		QueryRow(func(row pgx.Row) error { return row.Scan(&v.Total) })
	b.Queue(`SELECT `+seenCols+`, project_id, cluster_name FROM inventory_snapshots
		WHERE project_id = $1 AND cluster_name = $2
		ORDER BY created_at DESC, snapshot_id DESC LIMIT $3 OFFSET $4`, g, cluster, perPage, (max(page, 1)-1)*perPage).
		Query(func(rows pgx.Rows) (err error) { v.Snapshots, err = collectSnapshots(rows); return err })
	// The literals match the partial index inventory_snapshots_in_flight
	// (atlas.SnapshotOnDemand, SnapshotQueued, SnapshotInProgress).
	b.Queue(`SELECT `+seenCols+`, project_id, cluster_name FROM inventory_snapshots
		WHERE project_id = $1 AND cluster_name = $2
		  AND gone_at IS NULL AND snapshot_type = 'onDemand' AND status IN ('queued', 'inProgress')
		ORDER BY created_at DESC, snapshot_id DESC`, g, cluster).
		Query(func(rows pgx.Rows) (err error) { v.InFlight, err = collectSnapshots(rows); return err })
	b.Queue(`SELECT `+seenCols+` FROM inventory_export_buckets WHERE project_id = $1 AND gone_at IS NULL ORDER BY bucket_name, bucket_id`, g).
		Query(func(rows pgx.Rows) (err error) {
			v.Buckets, err = collectDocs(rows, func(b *Bucket) (any, *Seen) { return &b.ExportBucket, &b.Seen })
			return err
		})
	b.Queue(`SELECT `+seenCols+` FROM inventory_pipelines WHERE project_id = $1 AND gone_at IS NULL ORDER BY name`, g).
		Query(func(rows pgx.Rows) (err error) {
			v.Pipelines, err = collectDocs(rows, func(p *Pipeline) (any, *Seen) { return &p.Pipeline, &p.Seen })
			return err
		})
	b.Queue(freshnessSQL, []string{g}, cluster).QueryRow(func(row pgx.Row) error { return scanFreshness(row, &v.Freshness) })
	if err := r.pool.SendBatch(ctx, &b).Close(); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return v, err
		}
		return v, fmt.Errorf("inventory: cluster page %s/%s: %w", g, cluster, err)
	}
	return v, nil
}

// freshnessSQL aggregates the units of projects ($1) with target "" or $2.
const freshnessSQL = `
	SELECT min(synced_at), coalesce(bool_or(synced_at IS NULL), true), min(error_since),
		coalesce((array_agg(error_kind ORDER BY error_since) FILTER (WHERE error_since IS NOT NULL))[1], ''), now()
	FROM inventory_sync WHERE project_id = ANY($1) AND (target = '' OR target = $2)`

func scanFreshness(row pgx.Row, f *Freshness) error {
	var asOf, since *time.Time
	var never bool
	if err := row.Scan(&asOf, &never, &since, &f.Problem, &f.Now); err != nil {
		return fmt.Errorf("inventory: freshness: %w", err)
	}
	if asOf != nil && !never {
		f.AsOf = *asOf
	}
	if since != nil {
		f.Since = *since
	}
	return nil
}
