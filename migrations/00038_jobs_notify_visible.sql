-- +goose Up
-- Open pages are told about a job only when something they show changed,
-- not on every UPDATE: poll leases, next-poll times, back-off counters and
-- writes that change nothing used to wake every open stream of every
-- replica on every poll. The payload names the job's project, cluster and
-- pipeline so each replica hands a change only to the streams that follow
-- it, without reading the job first (internal/live).
-- A column that pages show must be listed in the WHEN clause below.
DROP TRIGGER jobs_notify ON jobs;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('snapdesk_jobs', json_build_object(
        'id', NEW.id::text, 'project', NEW.project_id,
        'cluster', COALESCE(NEW.cluster_name, ''), 'pipeline', COALESCE(NEW.pipeline_name, ''))::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_notify();
CREATE TRIGGER jobs_notify_update AFTER UPDATE ON jobs FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state
        OR OLD.atlas_state IS DISTINCT FROM NEW.atlas_state
        OR OLD.progress IS DISTINCT FROM NEW.progress
        OR OLD.error_code IS DISTINCT FROM NEW.error_code
        OR OLD.error_message IS DISTINCT FROM NEW.error_message
        OR OLD.atlas_id IS DISTINCT FROM NEW.atlas_id
        OR OLD.snapshot_id IS DISTINCT FROM NEW.snapshot_id
        OR OLD.params IS DISTINCT FROM NEW.params
        OR OLD.stalled IS DISTINCT FROM NEW.stalled
        OR OLD.finished_at IS DISTINCT FROM NEW.finished_at
        OR OLD.approval_expires_at IS DISTINCT FROM NEW.approval_expires_at
        OR OLD.approved_by_subject IS DISTINCT FROM NEW.approved_by_subject
        OR OLD.approved_at IS DISTINCT FROM NEW.approved_at
        OR OLD.decision IS DISTINCT FROM NEW.decision
        OR OLD.decision_reason IS DISTINCT FROM NEW.decision_reason)
    EXECUTE FUNCTION jobs_notify();

-- +goose Down
DROP TRIGGER jobs_notify_update ON jobs;
DROP TRIGGER jobs_notify_insert ON jobs;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('snapdesk_jobs', NEW.id::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_notify();
