-- +goose Up
-- The inventory: what Snapdesk last saw of Atlas, so that pages read
-- Postgres instead of waiting on Atlas (internal/inventory).
--
-- Every object table keeps the Atlas answer as it came (doc) beside the
-- columns pages filter and sort by, and
--   first_seen_at  when a sync first listed it,
--   changed_at     when a sync last found it different,
--   last_seen_at   when it was last listed: for a row that is still listed
--                  this is its scope's latest sync (inventory_sync.synced_at),
--                  written here only when the row changes or goes (writing
--                  200,000 unchanged snapshots every cycle would be the
--                  database's busiest work for nothing),
--   gone_at        when a sync first found it no longer listed. Rows are
--                  never deleted: a snapshot Atlas expired keeps its lineage.

CREATE TABLE inventory_projects (
    project_id    text PRIMARY KEY,
    name          text NOT NULL,
    org_id        text NOT NULL DEFAULT '',
    cluster_count bigint NOT NULL DEFAULT 0,
    created       timestamptz,
    -- Atlas answered 404/410 for the project's pipelines (retired).
    pipelines_unavailable boolean NOT NULL DEFAULT false,
    doc           jsonb NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    changed_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    gone_at       timestamptz
);
CREATE INDEX inventory_projects_name ON inventory_projects (lower(name));

CREATE TABLE inventory_clusters (
    project_id      text NOT NULL,
    name            text NOT NULL,
    cluster_id      text NOT NULL DEFAULT '',
    cluster_type    text NOT NULL DEFAULT '',
    state_name      text NOT NULL DEFAULT '',
    backup_enabled  boolean NOT NULL DEFAULT false,
    pit_enabled     boolean NOT NULL DEFAULT false,
    paused          boolean NOT NULL DEFAULT false,
    mongodb_version text NOT NULL DEFAULT '',
    doc             jsonb NOT NULL,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    changed_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    gone_at         timestamptz,
    PRIMARY KEY (project_id, name)
);

-- Replica-set and sharded snapshots (type); members and the rest in doc.
CREATE TABLE inventory_snapshots (
    project_id         text NOT NULL,
    snapshot_id        text NOT NULL,
    cluster_name       text NOT NULL,
    type               text NOT NULL DEFAULT '',
    status             text NOT NULL DEFAULT '',
    snapshot_type      text NOT NULL DEFAULT '',
    frequency_type     text NOT NULL DEFAULT '',
    description        text NOT NULL DEFAULT '',
    created_at         timestamptz,
    expires_at         timestamptz,
    storage_size_bytes bigint NOT NULL DEFAULT 0,
    doc                jsonb NOT NULL,
    first_seen_at      timestamptz NOT NULL DEFAULT now(),
    changed_at         timestamptz NOT NULL DEFAULT now(),
    last_seen_at       timestamptz NOT NULL DEFAULT now(),
    gone_at            timestamptz,
    PRIMARY KEY (project_id, snapshot_id)
);
-- A cluster's list, newest first; /snapshots' default order (keyset on
-- created_at, snapshot_id).
CREATE INDEX inventory_snapshots_cluster ON inventory_snapshots (project_id, cluster_name, created_at DESC, snapshot_id DESC);
CREATE INDEX inventory_snapshots_created ON inventory_snapshots (created_at DESC, snapshot_id DESC);

CREATE TABLE inventory_export_buckets (
    project_id     text NOT NULL,
    bucket_id      text NOT NULL,
    bucket_name    text NOT NULL DEFAULT '',
    cloud_provider text NOT NULL DEFAULT '',
    doc            jsonb NOT NULL,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    changed_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    gone_at        timestamptz,
    PRIMARY KEY (project_id, bucket_id)
);

-- Every export job Atlas lists, Snapdesk's or not.
CREATE TABLE inventory_exports (
    project_id       text NOT NULL,
    export_id        text NOT NULL,
    cluster_name     text NOT NULL,
    snapshot_id      text NOT NULL DEFAULT '',
    export_bucket_id text NOT NULL DEFAULT '',
    state            text NOT NULL DEFAULT '',
    created_at       timestamptz,
    finished_at      timestamptz,
    doc              jsonb NOT NULL,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    changed_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    gone_at          timestamptz,
    PRIMARY KEY (project_id, export_id)
);
CREATE INDEX inventory_exports_cluster ON inventory_exports (project_id, cluster_name, created_at DESC);
CREATE INDEX inventory_exports_snapshot ON inventory_exports (snapshot_id);

CREATE TABLE inventory_pipelines (
    project_id     text NOT NULL,
    name           text NOT NULL,
    pipeline_id    text NOT NULL DEFAULT '',
    state          text NOT NULL DEFAULT '',
    source_cluster text NOT NULL DEFAULT '',
    doc            jsonb NOT NULL,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    changed_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    gone_at        timestamptz,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE inventory_pipeline_runs (
    project_id    text NOT NULL,
    run_id        text NOT NULL,
    pipeline_name text NOT NULL,
    snapshot_id   text NOT NULL DEFAULT '',
    state         text NOT NULL DEFAULT '',
    phase         text NOT NULL DEFAULT '',
    created_at    timestamptz,
    doc           jsonb NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    changed_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    gone_at       timestamptz,
    PRIMARY KEY (project_id, run_id)
);
CREATE INDEX inventory_runs_pipeline ON inventory_pipeline_runs (project_id, pipeline_name, created_at DESC);

-- A cluster's backup schedule (getGroupClusterBackupSchedule): one row per
-- cluster; policies and the rest in doc.
CREATE TABLE inventory_schedules (
    project_id          text NOT NULL,
    cluster_name        text NOT NULL,
    next_snapshot       timestamptz,
    restore_window_days integer,
    doc                 jsonb NOT NULL,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    changed_at          timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    gone_at             timestamptz,
    PRIMARY KEY (project_id, cluster_name)
);

-- The sync's work list: one row per project, resource and target (a
-- cluster or pipeline name; '' for project-wide resources, and project ''
-- for the list of projects). Workers lease due rows with FOR UPDATE SKIP
-- LOCKED, so replicas share the work and never fetch one thing twice.
CREATE TABLE inventory_sync (
    project_id    text NOT NULL,
    resource      text NOT NULL,
    target        text NOT NULL DEFAULT '',
    due_at        timestamptz NOT NULL DEFAULT now(),
    leased_until  timestamptz,
    lease_token   uuid,
    -- The last sync that listed everything (pages followed to the end).
    synced_at     timestamptz,
    attempted_at  timestamptz,
    -- The failure of the latest attempt, cleared by a success; error_since
    -- is when the current run of failures began (the pages' banner).
    error         text NOT NULL DEFAULT '',
    error_kind    text NOT NULL DEFAULT '',
    error_since   timestamptz,
    failures      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, resource, target),
    CHECK (resource IN ('projects', 'clusters', 'buckets', 'pipelines', 'snapshots', 'exports', 'schedule', 'runs'))
);
CREATE INDEX inventory_sync_due ON inventory_sync (due_at);

-- Projects someone has open (a page or an event stream), until when; the
-- sync refreshes them at its watched cadence.
CREATE TABLE inventory_watch (
    project_id    text PRIMARY KEY,
    watched_until timestamptz NOT NULL
);

-- Refresh requests: one in flight per project however many people press
-- it; requested_by keeps the per-person limit.
CREATE TABLE inventory_refresh_requests (
    id           bigserial PRIMARY KEY,
    project_id   text NOT NULL,
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_refresh_person ON inventory_refresh_requests (requested_by, requested_at DESC);

INSERT INTO inventory_sync (project_id, resource, target) VALUES ('', 'projects', '');

-- +goose Down
DROP TABLE inventory_refresh_requests;
DROP TABLE inventory_watch;
DROP TABLE inventory_sync;
DROP TABLE inventory_schedules;
DROP TABLE inventory_pipeline_runs;
DROP TABLE inventory_pipelines;
DROP TABLE inventory_exports;
DROP TABLE inventory_export_buckets;
DROP TABLE inventory_snapshots;
DROP TABLE inventory_clusters;
DROP TABLE inventory_projects;
