-- +goose Up
-- Notifications (issue 14): who wants to hear about what (subscriptions), what
-- happened (the outbox, written in the same transaction as the job change by
-- the trigger below), and each message to each subscription with its attempts.

CREATE TABLE notify_subscriptions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- project: set up by the project's admins; personal: one person's own
    scope          text NOT NULL CHECK (scope IN ('project', 'personal')),
    project_id     text CHECK (project_id ~ '^[a-f0-9]{24}$'),
    channel        text NOT NULL CHECK (channel IN ('webhook', 'slack', 'email')),
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    events         text[] NOT NULL CHECK (cardinality(events) > 0),
    cluster_name   text NOT NULL DEFAULT '' CHECK (cluster_name = '' OR cluster_name ~ '^[a-zA-Z0-9][a-zA-Z0-9-]*$'),
    -- what pages show of the destination (a host, an address); never a secret
    target_display text NOT NULL,
    -- the webhook or Slack URL and the signing secret, sealed with SNAPDESK_NOTIFY_KEY
    target_sealed  bytea,
    secret_sealed  bytea,
    -- email recipients (not secret)
    email_to       text[] NOT NULL DEFAULT '{}',
    -- the person a personal subscription belongs to, and who created a project one
    owner_subject  text NOT NULL,
    owner_email    text NOT NULL DEFAULT '',
    owner_name     text NOT NULL DEFAULT '',
    owner_groups   text[] NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'project') = (project_id IS NOT NULL)),
    CHECK (channel = 'email' OR target_sealed IS NOT NULL),
    CHECK (channel <> 'webhook' OR secret_sealed IS NOT NULL)
);
CREATE INDEX notify_subscriptions_project ON notify_subscriptions (project_id) WHERE scope = 'project';
CREATE INDEX notify_subscriptions_owner ON notify_subscriptions (owner_subject) WHERE scope = 'personal';

-- The outbox: one row per thing that happened. Dispatch fans each row out
-- into deliveries (and River jobs) in one transaction, then stamps it.
CREATE TABLE notify_events (
    id            bigserial PRIMARY KEY,
    type          text NOT NULL,
    project_id    text NOT NULL DEFAULT '',
    cluster_name  text NOT NULL DEFAULT '',
    job_id        uuid,
    payload       jsonb NOT NULL DEFAULT '{}',
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    dispatched_at timestamptz
);
CREATE INDEX notify_events_pending ON notify_events (id) WHERE dispatched_at IS NULL;

-- One message to one subscription. Its id is the webhook-id: the same
-- across retries and re-sends, so a receiver can de-duplicate.
CREATE TABLE notify_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id        bigint NOT NULL REFERENCES notify_events (id),
    subscription_id uuid NOT NULL REFERENCES notify_subscriptions (id) ON DELETE CASCADE,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    river_job_id    bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (event_id, subscription_id)
);
CREATE INDEX notify_deliveries_subscription ON notify_deliveries (subscription_id, created_at DESC);

-- Every attempt, for the deliveries page.
CREATE TABLE notify_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    http_status integer NOT NULL DEFAULT 0,
    latency_ms  integer NOT NULL,
    -- the receiver's answer or the error, truncated
    answer      text NOT NULL DEFAULT ''
);
CREATE INDEX notify_attempts_delivery ON notify_attempts (delivery_id, id);

-- Per-destination concurrency: a delivery holds one of a destination's
-- slots (a lease, so a worker that dies frees it) while it sends.
CREATE TABLE notify_destination_slots (
    destination text NOT NULL,
    slot        integer NOT NULL,
    held_by     uuid,
    held_until  timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (destination, slot)
);

-- The job events people hear about, written in the job change's own
-- transaction: whichever code path changes a job, the event cannot be lost
-- and no caller has to remember it. Only whitelisted columns go into the
-- payload (nothing secret: no params, no Atlas answers).
-- +goose StatementBegin
CREATE FUNCTION jobs_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER jobs_notify_outbox AFTER INSERT OR UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_notify_outbox();

-- +goose Down
DROP TRIGGER jobs_notify_outbox ON jobs;
DROP FUNCTION jobs_notify_outbox();
DROP TABLE notify_destination_slots;
DROP TABLE notify_attempts;
DROP TABLE notify_deliveries;
DROP TABLE notify_events;
DROP TABLE notify_subscriptions;
