-- +goose Up
-- Indexes the pages' queries were missing, found by BenchmarkPages
-- (internal/web/bench_test.go) on 100,000 jobs.

-- A job's lineage (its snapshot's other jobs) asks for
-- snapshot_id = $1 OR (kind = 'snapshot' AND atlas_id = $1). With no index
-- for the second arm, Postgres read every job of the project (129 ms for
-- 12,500 jobs); with it, a BitmapOr of two index lookups (0.05 ms).
CREATE INDEX jobs_snapshot_made ON jobs (atlas_id) WHERE kind = 'snapshot';

-- The jobs page's "stalled" filter: a sequential scan of every job (60 ms)
-- for the few that are stalled.
CREATE INDEX jobs_stalled ON jobs (created_at DESC) WHERE stalled;

-- The requester and actor filters match a subject or an email
-- ((… = $1 OR …_email = $1), newest first). Only the subject had an index,
-- so a person with few or no rows made Postgres walk the whole newest-first
-- index (1.2 s over a million audit records); with both, a BitmapOr.
CREATE INDEX jobs_requester_email ON jobs (requested_by_email, created_at DESC);
CREATE INDEX audit_actor_email ON audit_events (actor_email, at DESC);

-- +goose Down
DROP INDEX audit_actor_email;
DROP INDEX jobs_requester_email;
DROP INDEX jobs_stalled;
DROP INDEX jobs_snapshot_made;
