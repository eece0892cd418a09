-- +goose Up
-- Exports the policy marks as needing a second person's approval wait in
-- awaiting_approval, without an Atlas call, until another operator approves
-- (the job goes on to requested) or rejects it, or the approval lapses (cancelled).
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check CHECK (state IN (
    'awaiting_approval', 'requested', 'submitted', 'queued', 'running',
    'succeeded', 'failed', 'cancelled', 'unknown'));
ALTER TABLE jobs
    ADD COLUMN approval_expires_at timestamptz,
    ADD COLUMN approved_by_subject text NOT NULL DEFAULT '',
    ADD COLUMN approved_by_email   text NOT NULL DEFAULT '',
    ADD COLUMN approved_by_name    text NOT NULL DEFAULT '',
    ADD COLUMN approved_at         timestamptz,
    ADD CONSTRAINT jobs_awaiting_approval_expires CHECK (state <> 'awaiting_approval' OR approval_expires_at IS NOT NULL),
    ADD CONSTRAINT jobs_approval_only_for_exports CHECK (approval_expires_at IS NULL OR kind = 'export'),
    ADD CONSTRAINT jobs_no_self_approval CHECK (approved_by_subject = '' OR approved_by_subject <> requested_by_subject);
CREATE INDEX jobs_awaiting_approval ON jobs (approval_expires_at) WHERE state = 'awaiting_approval';

-- +goose Down
DROP INDEX jobs_awaiting_approval;
ALTER TABLE jobs
    DROP CONSTRAINT jobs_no_self_approval,
    DROP CONSTRAINT jobs_approval_only_for_exports,
    DROP CONSTRAINT jobs_awaiting_approval_expires,
    DROP COLUMN approved_at,
    DROP COLUMN approved_by_name,
    DROP COLUMN approved_by_email,
    DROP COLUMN approved_by_subject,
    DROP COLUMN approval_expires_at;
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check CHECK (state IN (
    'requested', 'submitted', 'queued', 'running',
    'succeeded', 'failed', 'cancelled', 'unknown'));
