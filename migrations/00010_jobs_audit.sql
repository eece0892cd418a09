-- +goose Up
-- jobs: one row per action Snapdesk asked Atlas to do, written before Atlas is called.
CREATE TABLE jobs (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind                 text NOT NULL CHECK (kind IN ('snapshot', 'export', 'ingestion')),
    project_id           text NOT NULL CHECK (project_id ~ '^[a-f0-9]{24}$'),
    cluster_name         text,
    pipeline_name        text,
    -- the snapshot exported or ingested; for a snapshot job, the snapshot Atlas made
    snapshot_id          text CHECK (snapshot_id ~ '^[a-f0-9]{24}$'),
    export_bucket_id     text CHECK (export_bucket_id ~ '^[a-f0-9]{24}$'),
    -- Atlas's id of what this job made: snapshot, export job or pipeline run
    atlas_id             text CHECK (atlas_id ~ '^[a-f0-9]{24}$'),
    params               jsonb NOT NULL DEFAULT '{}',
    state                text NOT NULL DEFAULT 'requested' CHECK (state IN (
                             'requested', 'submitted', 'queued', 'running',
                             'succeeded', 'failed', 'cancelled', 'unknown')),
    atlas_state          text NOT NULL DEFAULT '',
    progress             jsonb NOT NULL DEFAULT '{}',
    error_code           text NOT NULL DEFAULT '',
    error_message        text NOT NULL DEFAULT '',
    requested_by_subject text NOT NULL,
    requested_by_email   text NOT NULL DEFAULT '',
    requested_by_name    text NOT NULL DEFAULT '',
    idempotency_key      text NOT NULL UNIQUE,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz,
    next_poll_at         timestamptz,
    poll_lease_until     timestamptz,
    unchanged_polls      integer NOT NULL DEFAULT 0,
    last_progress_at     timestamptz NOT NULL DEFAULT now(),
    stalled              boolean NOT NULL DEFAULT false,
    CHECK ((kind = 'ingestion') = (pipeline_name IS NOT NULL)),
    CHECK ((kind = 'ingestion') OR (cluster_name ~ '^[a-zA-Z0-9][a-zA-Z0-9-]*$')),
    CHECK ((kind <> 'export') OR (snapshot_id IS NOT NULL AND export_bucket_id IS NOT NULL)),
    CHECK ((kind <> 'ingestion') OR snapshot_id IS NOT NULL),
    CHECK ((finished_at IS NOT NULL) = (state IN ('succeeded', 'failed', 'cancelled')))
);

-- One on-demand snapshot in flight per cluster, known locally (Atlas refuses a second one).
CREATE UNIQUE INDEX jobs_one_snapshot_in_flight ON jobs (project_id, cluster_name)
    WHERE kind = 'snapshot' AND state IN ('requested', 'submitted', 'queued', 'running', 'unknown');
-- The poller's work list.
CREATE INDEX jobs_due ON jobs (next_poll_at) WHERE state IN ('submitted', 'queued', 'running');
CREATE INDEX jobs_unresolved ON jobs (created_at) WHERE state IN ('requested', 'unknown');
-- The pages' filters, newest first.
CREATE INDEX jobs_created ON jobs (created_at DESC, id);
CREATE INDEX jobs_project_created ON jobs (project_id, created_at DESC);
CREATE INDEX jobs_target ON jobs (project_id, cluster_name, created_at DESC);
CREATE INDEX jobs_pipeline ON jobs (project_id, pipeline_name, created_at DESC) WHERE pipeline_name IS NOT NULL;
CREATE INDEX jobs_requester ON jobs (requested_by_subject, created_at DESC);
CREATE INDEX jobs_state ON jobs (state, created_at DESC);
CREATE INDEX jobs_snapshot ON jobs (snapshot_id) WHERE snapshot_id IS NOT NULL;

-- job_events: every state change of a job, with its time and detail.
CREATE TABLE job_events (
    id          bigserial PRIMARY KEY,
    job_id      uuid NOT NULL REFERENCES jobs (id),
    at          timestamptz NOT NULL DEFAULT now(),
    from_state  text,
    to_state    text NOT NULL,
    atlas_state text NOT NULL DEFAULT '',
    progress    jsonb NOT NULL DEFAULT '{}',
    message     text NOT NULL DEFAULT '',
    source      text NOT NULL CHECK (source IN ('user', 'poller', 'reconcile'))
);
CREATE INDEX job_events_job ON job_events (job_id, id);

-- Every change to a job is announced to every replica's open pages.
-- +goose StatementBegin
CREATE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('snapdesk_jobs', NEW.id::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_notify();

-- audit_events: append-only, hash-chained record of every action and refusal.
CREATE TABLE audit_events (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor_subject text NOT NULL,
    actor_email   text NOT NULL DEFAULT '',
    actor_name    text NOT NULL DEFAULT '',
    action        text NOT NULL,
    project_id    text NOT NULL DEFAULT '',
    cluster_name  text NOT NULL DEFAULT '',
    pipeline_name text NOT NULL DEFAULT '',
    snapshot_id   text NOT NULL DEFAULT '',
    job_id        uuid,
    params        jsonb NOT NULL DEFAULT '{}',
    outcome       text NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
    error_code    text NOT NULL DEFAULT '',
    message       text NOT NULL DEFAULT '',
    request_id    text NOT NULL DEFAULT '',
    remote_addr   text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '',
    prev_hash     bytea NOT NULL,
    hash          bytea NOT NULL UNIQUE
);
CREATE INDEX audit_at ON audit_events (at DESC, id DESC);
CREATE INDEX audit_actor ON audit_events (actor_subject, at DESC);
CREATE INDEX audit_project ON audit_events (project_id, at DESC);
CREATE INDEX audit_action ON audit_events (action, at DESC);
CREATE INDEX audit_outcome ON audit_events (outcome, at DESC);
CREATE INDEX audit_job ON audit_events (job_id) WHERE job_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE job_events;
DROP TABLE jobs;
DROP FUNCTION jobs_notify();
