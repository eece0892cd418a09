-- +goose Up
-- Restores are jobs of kind 'restore'. The cluster columns name the source
-- (the cluster whose snapshot is restored, the one in Atlas's path); the
-- target columns name the cluster whose data is replaced (automated and
-- pointInTime), empty for a download.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('snapshot', 'export', 'ingestion', 'restore'));
ALTER TABLE jobs
    ADD COLUMN delivery_type       text NOT NULL DEFAULT '',
    ADD COLUMN target_project_id   text,
    ADD COLUMN target_cluster_name text,
    ADD CONSTRAINT jobs_restore_delivery CHECK ((kind = 'restore') = (delivery_type IN ('automated', 'download', 'pointInTime'))),
    ADD CONSTRAINT jobs_restore_target CHECK (
        ((kind = 'restore' AND delivery_type <> 'download') = (target_cluster_name IS NOT NULL))
        AND ((target_project_id IS NULL) = (target_cluster_name IS NULL))
        AND target_project_id ~ '^[a-f0-9]{24}$'
        AND target_cluster_name ~ '^[a-zA-Z0-9][a-zA-Z0-9-]*$');
-- Restores wait for approval as exports do.
ALTER TABLE jobs DROP CONSTRAINT jobs_approval_only_for_exports;
ALTER TABLE jobs ADD CONSTRAINT jobs_approval_only_for_exports_and_restores
    CHECK (approval_expires_at IS NULL OR kind IN ('export', 'restore'));
-- One restore at a time onto a cluster, known locally (Atlas refuses a
-- target that is not IDLE); one waiting for approval does not count.
CREATE UNIQUE INDEX jobs_one_restore_onto_target ON jobs (target_project_id, target_cluster_name)
    WHERE kind = 'restore' AND target_cluster_name IS NOT NULL
      AND state IN ('requested', 'submitted', 'queued', 'running', 'unknown');
-- Lineage: the restores onto a cluster.
CREATE INDEX jobs_restore_target ON jobs (target_project_id, target_cluster_name, created_at DESC)
    WHERE target_cluster_name IS NOT NULL;

-- Download links are bearer links to a cluster's data. They live here, not
-- in the job's params, progress or events (which pages, streams and the
-- audit trail show), and only the requester and admins are shown them.
CREATE TABLE restore_downloads (
    job_id     uuid PRIMARY KEY REFERENCES jobs (id),
    urls       text[] NOT NULL,
    expires_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Restore drills: one row per drill and due time. The primary key is what
-- makes a drill run once per due time however many workers look at it.
CREATE TABLE restore_drills (
    drill_key   text NOT NULL,
    due_at      timestamptz NOT NULL,
    project_id  text NOT NULL CHECK (project_id ~ '^[a-f0-9]{24}$'),
    cluster_name text NOT NULL,
    target_project_id text NOT NULL CHECK (target_project_id ~ '^[a-f0-9]{24}$'),
    target_cluster_name text NOT NULL,
    job_id      uuid REFERENCES jobs (id),
    snapshot_id text,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped')),
    -- how long the restore took, from Atlas accepting it to its end
    duration_ms bigint,
    message     text NOT NULL DEFAULT '',
    PRIMARY KEY (drill_key, due_at)
);
CREATE INDEX restore_drills_cluster ON restore_drills (project_id, cluster_name, due_at DESC);
CREATE INDEX restore_drills_open ON restore_drills (due_at) WHERE outcome = 'running';

-- +goose Down
DROP TABLE restore_drills;
DROP TABLE restore_downloads;
DROP INDEX jobs_restore_target;
DROP INDEX jobs_one_restore_onto_target;
DELETE FROM job_events WHERE job_id IN (SELECT id FROM jobs WHERE kind = 'restore');
DELETE FROM jobs WHERE kind = 'restore';
ALTER TABLE jobs DROP CONSTRAINT jobs_approval_only_for_exports_and_restores;
ALTER TABLE jobs ADD CONSTRAINT jobs_approval_only_for_exports CHECK (approval_expires_at IS NULL OR kind = 'export');
ALTER TABLE jobs
    DROP CONSTRAINT jobs_restore_target,
    DROP CONSTRAINT jobs_restore_delivery,
    DROP COLUMN target_cluster_name,
    DROP COLUMN target_project_id,
    DROP COLUMN delivery_type;
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('snapshot', 'export', 'ingestion'));
