-- +goose Up
-- Conditions the notification watchers follow (a cluster's backup health, a
-- restore drill being on time): an event is emitted when one turns bad, in
-- the transaction that records it, and not again until it was fine.
CREATE TABLE notify_conditions (
    key           text PRIMARY KEY,
    bad           boolean NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    changed_at    timestamptz NOT NULL DEFAULT now()
);

-- A failed drill restore is also a restore.drill_failed event.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kinds text[] := '{}';
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state = 'awaiting_approval' THEN kinds := array_append(kinds, 'approval.requested'); END IF;
    ELSE
        IF NEW.state IS DISTINCT FROM OLD.state THEN
            IF NEW.state = 'awaiting_approval' THEN kinds := array_append(kinds, 'approval.requested'); END IF;
            IF OLD.state = 'awaiting_approval' THEN kinds := array_append(kinds, 'approval.decided'); END IF;
            IF NEW.state = 'succeeded' THEN kinds := array_append(kinds, 'job.succeeded'); END IF;
            IF NEW.state = 'failed' THEN kinds := array_append(kinds, 'job.failed'); END IF;
            -- A drill's restore (the drill scheduler marks it with params.drill) failing is also a failed drill.
            IF NEW.state = 'failed' AND NEW.kind = 'restore' AND NEW.params ? 'drill' THEN
                kinds := array_append(kinds, 'restore.drill_failed');
            END IF;
        END IF;
        IF NEW.stalled AND NOT OLD.stalled AND NEW.finished_at IS NULL THEN kinds := array_append(kinds, 'job.stalled'); END IF;
    END IF;
    FOREACH k IN ARRAY kinds LOOP
        INSERT INTO notify_events (type, project_id, cluster_name, job_id, payload)
        VALUES (k, NEW.project_id, COALESCE(NEW.cluster_name, ''), NEW.id, jsonb_build_object(
            'jobId', NEW.id, 'kind', NEW.kind, 'state', NEW.state, 'atlasState', NEW.atlas_state,
            'projectId', NEW.project_id, 'clusterName', COALESCE(NEW.cluster_name, ''),
            'pipelineName', COALESCE(NEW.pipeline_name, ''),
            'errorCode', NEW.error_code, 'errorMessage', NEW.error_message,
            'requestedBy', jsonb_build_object('subject', NEW.requested_by_subject, 'email', NEW.requested_by_email, 'name', NEW.requested_by_name),
            'approvedBy', CASE WHEN NEW.approved_by_subject = '' THEN NULL ELSE
                jsonb_build_object('subject', NEW.approved_by_subject, 'email', NEW.approved_by_email, 'name', NEW.approved_by_name) END,
            'approvalExpiresAt', NEW.approval_expires_at,
            'decision', NEW.decision, 'decisionReason', NEW.decision_reason,
            'decidedBy', CASE WHEN NEW.decided_by_subject = '' THEN NULL ELSE
                jsonb_build_object('subject', NEW.decided_by_subject, 'email', NEW.decided_by_email, 'name', NEW.decided_by_name) END,
            'createdAt', NEW.created_at, 'finishedAt', NEW.finished_at));
    END LOOP;
    IF cardinality(kinds) > 0 THEN
        PERFORM pg_notify('snapdesk_notify', '');
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kinds text[] := '{}';
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state = 'awaiting_approval' THEN kinds := array_append(kinds, 'approval.requested'); END IF;
    ELSE
        IF NEW.state IS DISTINCT FROM OLD.state THEN
            IF NEW.state = 'awaiting_approval' THEN kinds := array_append(kinds, 'approval.requested'); END IF;
            IF OLD.state = 'awaiting_approval' THEN kinds := array_append(kinds, 'approval.decided'); END IF;
            IF NEW.state = 'succeeded' THEN kinds := array_append(kinds, 'job.succeeded'); END IF;
            IF NEW.state = 'failed' THEN kinds := array_append(kinds, 'job.failed'); END IF;
        END IF;
        IF NEW.stalled AND NOT OLD.stalled AND NEW.finished_at IS NULL THEN kinds := array_append(kinds, 'job.stalled'); END IF;
    END IF;
    FOREACH k IN ARRAY kinds LOOP
        INSERT INTO notify_events (type, project_id, cluster_name, job_id, payload)
        VALUES (k, NEW.project_id, COALESCE(NEW.cluster_name, ''), NEW.id, jsonb_build_object(
            'jobId', NEW.id, 'kind', NEW.kind, 'state', NEW.state, 'atlasState', NEW.atlas_state,
            'projectId', NEW.project_id, 'clusterName', COALESCE(NEW.cluster_name, ''),
            'pipelineName', COALESCE(NEW.pipeline_name, ''),
            'errorCode', NEW.error_code, 'errorMessage', NEW.error_message,
            'requestedBy', jsonb_build_object('subject', NEW.requested_by_subject, 'email', NEW.requested_by_email, 'name', NEW.requested_by_name),
            'approvedBy', CASE WHEN NEW.approved_by_subject = '' THEN NULL ELSE
                jsonb_build_object('subject', NEW.approved_by_subject, 'email', NEW.approved_by_email, 'name', NEW.approved_by_name) END,
            'approvalExpiresAt', NEW.approval_expires_at,
            'decision', NEW.decision, 'decisionReason', NEW.decision_reason,
            'decidedBy', CASE WHEN NEW.decided_by_subject = '' THEN NULL ELSE
                jsonb_build_object('subject', NEW.decided_by_subject, 'email', NEW.decided_by_email, 'name', NEW.decided_by_name) END,
            'createdAt', NEW.created_at, 'finishedAt', NEW.finished_at));
    END LOOP;
    IF cardinality(kinds) > 0 THEN
        PERFORM pg_notify('snapdesk_notify', '');
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
DROP TABLE notify_conditions;
