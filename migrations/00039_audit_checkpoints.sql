-- +goose Up
-- audit_checkpoints: the audit trail's head (its newest row's id and hash,
-- and how many rows lead to it), recorded every minute and written to the
-- logs and the snapdesk_audit_checkpoint_head_id metric as well. With
-- SNAPDESK_AUDIT_KEY each carries an HMAC under a key the database does
-- not hold. `server audit verify` checks the chain still passes through
-- every checkpoint, so removing the newest records is detected, and,
-- with the key, so is rewriting the chain with recomputed hashes.
CREATE TABLE audit_checkpoints (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    head_id   bigint NOT NULL,
    head_hash bytea NOT NULL,
    rows      bigint NOT NULL,
    mac       bytea NOT NULL DEFAULT ''
);
CREATE INDEX audit_checkpoints_head ON audit_checkpoints (head_id DESC);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE audit_checkpoints;
