package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
)

// The writes below take a complete listing (every page) of one unit's
// objects as JSON and, in one statement each: insert what is new, update
// only rows whose Atlas answer changed (or that come back after going), and
// mark gone what is no longer listed. Unchanged rows are not written.

const upsertProjects = `
	INSERT INTO inventory_projects AS i (project_id, name, org_id, cluster_count, created, doc)
	SELECT e->>'id', coalesce(e->>'name', ''), coalesce(e->>'orgId', ''), coalesce((e->>'clusterCount')::bigint, 0),
		(e->>'created')::timestamptz, e
	FROM jsonb_array_elements($1::jsonb) e
	ON CONFLICT (project_id) DO UPDATE SET name = excluded.name, org_id = excluded.org_id, cluster_count = excluded.cluster_count,
		created = excluded.created, doc = excluded.doc, changed_at = now(), last_seen_at = now(), gone_at = NULL
	WHERE i.doc IS DISTINCT FROM excluded.doc OR i.gone_at IS NOT NULL`

const upsertClusters = `
	INSERT INTO inventory_clusters AS i (project_id, name, cluster_id, cluster_type, state_name, backup_enabled, pit_enabled, paused, mongodb_version, doc)
	SELECT $1, e->>'name', coalesce(e->>'id', ''), coalesce(e->>'clusterType', ''), coalesce(e->>'stateName', ''),
		coalesce((e->>'backupEnabled')::boolean, false), coalesce((e->>'pitEnabled')::boolean, false),
		coalesce((e->>'paused')::boolean, false), coalesce(e->>'mongoDBVersion', ''), e
	FROM jsonb_array_elements($2::jsonb) e
	ON CONFLICT (project_id, name) DO UPDATE SET cluster_id = excluded.cluster_id, cluster_type = excluded.cluster_type,
		state_name = excluded.state_name, backup_enabled = excluded.backup_enabled, pit_enabled = excluded.pit_enabled,
		paused = excluded.paused, mongodb_version = excluded.mongodb_version, doc = excluded.doc,
		changed_at = now(), last_seen_at = now(), gone_at = NULL
	WHERE i.doc IS DISTINCT FROM excluded.doc OR i.gone_at IS NOT NULL`

const upsertSnapshots = `
	INSERT INTO inventory_snapshots AS i (project_id, cluster_name, snapshot_id, type, status, snapshot_type, frequency_type,
		description, created_at, expires_at, storage_size_bytes, doc)
	SELECT $1, $2, e->>'id', coalesce(e->>'type', ''), coalesce(e->>'status', ''), coalesce(e->>'snapshotType', ''),
		coalesce(e->>'frequencyType', ''), coalesce(e->>'description', ''), (e->>'createdAt')::timestamptz,
		(e->>'expiresAt')::timestamptz, coalesce((e->>'storageSizeBytes')::bigint, 0), e
	FROM jsonb_array_elements($3::jsonb) e
	ON CONFLICT (project_id, snapshot_id) DO UPDATE SET cluster_name = excluded.cluster_name, type = excluded.type,
		status = excluded.status, snapshot_type = excluded.snapshot_type, frequency_type = excluded.frequency_type,
		description = excluded.description, created_at = excluded.created_at, expires_at = excluded.expires_at,
		storage_size_bytes = excluded.storage_size_bytes, doc = excluded.doc, changed_at = now(), last_seen_at = now(), gone_at = NULL
	WHERE i.doc IS DISTINCT FROM excluded.doc OR i.gone_at IS NOT NULL OR i.cluster_name <> excluded.cluster_name`

const upsertBuckets = `
	INSERT INTO inventory_export_buckets AS i (project_id, bucket_id, bucket_name, cloud_provider, doc)
	SELECT $1, e->>'_id', coalesce(e->>'bucketName', ''), coalesce(e->>'cloudProvider', ''), e
	FROM jsonb_array_elements($2::jsonb) e
	ON CONFLICT (project_id, bucket_id) DO UPDATE SET bucket_name = excluded.bucket_name, cloud_provider = excluded.cloud_provider,
		doc = excluded.doc, changed_at = now(), last_seen_at = now(), gone_at = NULL
	WHERE i.doc IS DISTINCT FROM excluded.doc OR i.gone_at IS NOT NULL`

const upsertExports = `
	INSERT INTO inventory_exports AS i (project_id, cluster_name, export_id, snapshot_id, export_bucket_id, state, created_at, finished_at, doc)
	SELECT $1, $2, e->>'id', coalesce(e->>'snapshotId', ''), coalesce(e->>'exportBucketId', ''), coalesce(e->>'state', ''),
		(e->>'createdAt')::timestamptz, (e->>'finishedAt')::timestamptz, e
	FROM jsonb_array_elements($3::jsonb) e
	ON CONFLICT (project_id, export_id) DO UPDATE SET cluster_name = excluded.cluster_name, snapshot_id = excluded.snapshot_id,
		export_bucket_id = excluded.export_bucket_id, state = excluded.state, created_at = excluded.created_at,
		finished_at = excluded.finished_at, doc = excluded.doc, changed_at = now(), last_seen_at = now(), gone_at = NULL
	WHERE i.doc IS DISTINCT FROM excluded.doc OR i.gone_at IS NOT NULL`

const upsertPipelines = `
	INSERT INTO inventory_pipelines AS i (project_id, name, pipeline_id, state, source_cluster, doc)
	SELECT $1, e->>'name', coalesce(e->>'_id', ''), coalesce(e->>'state', ''), coalesce(e->'source'->>'clusterName', ''), e
	FROM jsonb_array_elements($2::jsonb) e
	ON CONFLICT (project_id, name) DO UPDATE SET pipeline_id = excluded.pipeline_id, state = excluded.state,
		source_cluster = excluded.source_cluster, doc = excluded.doc, changed_at = now(), last_seen_at = now(), gone_at = NULL
	WHERE i.doc IS DISTINCT FROM excluded.doc OR i.gone_at IS NOT NULL`

const upsertRuns = `
	INSERT INTO inventory_pipeline_runs AS i (project_id, pipeline_name, run_id, snapshot_id, state, phase, created_at, doc)
	SELECT $1, $2, e->>'_id', coalesce(e->>'snapshotId', ''), coalesce(e->>'state', ''), coalesce(e->>'phase', ''),
		(e->>'createdDate')::timestamptz, e
	FROM jsonb_array_elements($3::jsonb) e
	ON CONFLICT (project_id, run_id) DO UPDATE SET pipeline_name = excluded.pipeline_name, snapshot_id = excluded.snapshot_id,
		state = excluded.state, phase = excluded.phase, created_at = excluded.created_at, doc = excluded.doc,
		changed_at = now(), last_seen_at = now(), gone_at = NULL
	WHERE i.doc IS DISTINCT FROM excluded.doc OR i.gone_at IS NOT NULL`

const upsertSchedule = `
	INSERT INTO inventory_schedules AS i (project_id, cluster_name, next_snapshot, restore_window_days, doc)
	SELECT $1, $2, (e->>'nextSnapshot')::timestamptz, (e->>'restoreWindowDays')::integer, e
	FROM jsonb_array_elements($3::jsonb) e
	ON CONFLICT (project_id, cluster_name) DO UPDATE SET next_snapshot = excluded.next_snapshot,
		restore_window_days = excluded.restore_window_days, doc = excluded.doc, changed_at = now(), last_seen_at = now(), gone_at = NULL
	WHERE i.doc IS DISTINCT FROM excluded.doc OR i.gone_at IS NOT NULL`

// goneSQL marks gone the rows of table in scope (scopeCols = the unit's
// values $1…) whose key is not among the listed ones; a gone row was last
// seen at the previous complete sync.
func goneSQL(table, key string, scopeCols ...string) string {
	q := `UPDATE ` + table + ` SET gone_at = now(), last_seen_at = greatest(last_seen_at, coalesce($1::timestamptz, last_seen_at)) WHERE gone_at IS NULL`
	n := 2
	for _, c := range scopeCols {
		q += fmt.Sprintf(" AND %s = $%d", c, n)
		n++
	}
	return q + fmt.Sprintf(" AND %s <> ALL($%d::text[])", key, n)
}

// writeList upserts items (marshalled as a JSON array) with upsert and
// marks gone what is missing; it returns how many rows changed.
func writeList(ctx context.Context, tx pgx.Tx, u Unit, items any, ids []string, upsert, gone string, scope ...any) (int64, error) {
	doc, err := json.Marshal(items)
	if err != nil {
		return 0, fmt.Errorf("inventory: encode %s: %w", u, err)
	}
	if ids == nil {
		ids = []string{}
	}
	args := append(append([]any{}, scope...), string(doc))
	tag, err := tx.Exec(ctx, upsert, args...)
	if err != nil {
		return 0, fmt.Errorf("inventory: write %s: %w", u, err)
	}
	var prev *time.Time
	if !u.SyncedAt.IsZero() {
		prev = &u.SyncedAt
	}
	gargs := append(append([]any{prev}, scope...), ids)
	tag2, err := tx.Exec(ctx, gone, gargs...)
	if err != nil {
		return 0, fmt.Errorf("inventory: mark gone %s: %w", u, err)
	}
	return tag.RowsAffected() + tag2.RowsAffected(), nil
}

// Listing is what one unit's sync found in Atlas: exactly one field is set
// for the unit's resource.
type Listing struct {
	Projects  []atlas.Project
	Clusters  []atlas.Cluster
	Buckets   []atlas.ExportBucket
	Pipelines []atlas.Pipeline
	// PipelinesUnavailable: Atlas retired pipelines for this project.
	PipelinesUnavailable bool
	Snapshots            []atlas.Snapshot
	Exports              []atlas.ExportJob
	Runs                 []atlas.PipelineRun
	// Schedule is the cluster's backup schedule (nil: none).
	Schedule json.RawMessage
}

// write records l for u inside tx and returns how many rows changed.
func write(ctx context.Context, tx pgx.Tx, u Unit, l Listing) (int64, error) {
	p, t := u.ProjectID, u.Target
	switch u.Resource {
	case ResProjects:
		ids := make([]string, len(l.Projects))
		for i, x := range l.Projects {
			ids[i] = x.ID
		}
		n, err := writeList(ctx, tx, u, nonNil(l.Projects), ids, upsertProjects, goneSQL("inventory_projects", "project_id"))
		if err != nil {
			return 0, err
		}
		// Each project's own resources; a project that is gone has none.
		if _, err := tx.Exec(ctx, `
			INSERT INTO inventory_sync (project_id, resource, target)
			SELECT p, r, '' FROM unnest($1::text[]) p, unnest($2::text[]) r ON CONFLICT DO NOTHING`,
			ids, resourceNames(projectResources)); err != nil {
			return 0, fmt.Errorf("inventory: add project units: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM inventory_sync WHERE project_id <> '' AND project_id <> ALL($1::text[])`, ids); err != nil {
			return 0, fmt.Errorf("inventory: drop project units: %w", err)
		}
		return n, nil
	case ResClusters:
		names := make([]string, len(l.Clusters))
		for i, x := range l.Clusters {
			names[i] = x.Name
		}
		n, err := writeList(ctx, tx, u, nonNil(l.Clusters), names, upsertClusters, goneSQL("inventory_clusters", "name", "project_id"), p)
		if err != nil {
			return 0, err
		}
		// A cluster that is gone takes its snapshots, exports and
		// schedule with it (Atlas lists them no more).
		for _, q := range []string{
			goneSQL("inventory_snapshots", "cluster_name", "project_id"),
			goneSQL("inventory_exports", "cluster_name", "project_id"),
			goneSQL("inventory_schedules", "cluster_name", "project_id"),
		} {
			tag, err := tx.Exec(ctx, q, nil, p, names)
			if err != nil {
				return 0, fmt.Errorf("inventory: mark gone clusters' objects %s: %w", u, err)
			}
			n += tag.RowsAffected()
		}
		return n, ensureUnits(ctx, tx, p, clusterResources, names)
	case ResBuckets:
		ids := make([]string, len(l.Buckets))
		for i, x := range l.Buckets {
			ids[i] = x.ID
		}
		return writeList(ctx, tx, u, nonNil(l.Buckets), ids, upsertBuckets, goneSQL("inventory_export_buckets", "bucket_id", "project_id"), p)
	case ResPipelines:
		names := make([]string, len(l.Pipelines))
		for i, x := range l.Pipelines {
			names[i] = x.Name
		}
		n, err := writeList(ctx, tx, u, nonNil(l.Pipelines), names, upsertPipelines, goneSQL("inventory_pipelines", "name", "project_id"), p)
		if err != nil {
			return 0, err
		}
		tag, err := tx.Exec(ctx, `UPDATE inventory_projects SET pipelines_unavailable = $2, changed_at = now()
			WHERE project_id = $1 AND pipelines_unavailable <> $2`, p, l.PipelinesUnavailable)
		if err != nil {
			return 0, fmt.Errorf("inventory: pipelines availability %s: %w", u, err)
		}
		return n + tag.RowsAffected(), ensureUnits(ctx, tx, p, pipelineResources, names)
	case ResSnapshots:
		ids := make([]string, len(l.Snapshots))
		for i, x := range l.Snapshots {
			ids[i] = x.ID
		}
		return writeList(ctx, tx, u, nonNil(l.Snapshots), ids, upsertSnapshots, goneSQL("inventory_snapshots", "snapshot_id", "project_id", "cluster_name"), p, t)
	case ResExports:
		ids := make([]string, len(l.Exports))
		for i, x := range l.Exports {
			ids[i] = x.ID
		}
		return writeList(ctx, tx, u, nonNil(l.Exports), ids, upsertExports, goneSQL("inventory_exports", "export_id", "project_id", "cluster_name"), p, t)
	case ResRuns:
		ids := make([]string, len(l.Runs))
		for i, x := range l.Runs {
			ids[i] = x.ID
		}
		return writeList(ctx, tx, u, nonNil(l.Runs), ids, upsertRuns, goneSQL("inventory_pipeline_runs", "run_id", "project_id", "pipeline_name"), p, t)
	case ResSchedule:
		items := []json.RawMessage{}
		ids := []string{}
		if l.Schedule != nil {
			items = append(items, l.Schedule)
			ids = append(ids, t)
		}
		return writeList(ctx, tx, u, items, ids, upsertSchedule, goneSQL("inventory_schedules", "cluster_name", "project_id", "cluster_name"), p, t)
	}
	return 0, fmt.Errorf("inventory: unknown resource %q", u.Resource)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func resourceNames(rs []Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
