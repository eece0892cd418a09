-- +goose Up
-- version: bumped by every UPDATE of a job; every write names the version it
-- read, so a poller whose lease ran out (or any other late writer) changes
-- nothing.
-- request_fingerprint: what the idempotency key was first used for, so the
-- same key on a different request is refused instead of answered with this job.
-- requested_by_process: the process that wrote the job and calls Atlas for
-- it; when that process is known dead, a job it left requested is
-- reconciled at once.
ALTER TABLE jobs
    ADD COLUMN version              bigint NOT NULL DEFAULT 0,
    ADD COLUMN request_fingerprint  text NOT NULL DEFAULT '',
    ADD COLUMN requested_by_process uuid;

-- One job per Atlas object. Before the index, two replicas could adopt the
-- same object; the later jobs give it up.
WITH ranked AS (
    SELECT id, first_value(id) OVER w AS keeper, row_number() OVER w AS n
    FROM jobs WHERE atlas_id IS NOT NULL
    WINDOW w AS (PARTITION BY kind, atlas_id ORDER BY created_at, id))
UPDATE jobs j SET atlas_id = NULL, state = 'failed', finished_at = COALESCE(j.finished_at, now()),
    next_poll_at = NULL, updated_at = now(),
    error_message = 'another job (' || r.keeper || ') already follows the same Atlas object'
FROM ranked r WHERE j.id = r.id AND r.n > 1;
CREATE UNIQUE INDEX jobs_kind_atlas_id ON jobs (kind, atlas_id) WHERE atlas_id IS NOT NULL;

-- processes: every server and worker process, with its heartbeat. A
-- process whose heartbeat is old (or that said it stopped) is gone.
CREATE TABLE processes (
    id           uuid PRIMARY KEY,
    hostname     text NOT NULL,
    pid          integer NOT NULL,
    role         text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz
);
CREATE INDEX processes_heartbeat ON processes (heartbeat_at);

-- +goose Down
DROP TABLE processes;
DROP INDEX jobs_kind_atlas_id;
ALTER TABLE jobs
    DROP COLUMN requested_by_process,
    DROP COLUMN request_fingerprint,
    DROP COLUMN version;
