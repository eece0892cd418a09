-- +goose Up
-- How an export that needed approval was decided, so its page can say it
-- in words: approved, rejected (by whom, and why: a reason is required),
-- withdrawn by its requester, or lapsed. Until now a rejection kept no
-- reason and a withdrawal was told apart only by its message.
ALTER TABLE jobs
    ADD COLUMN decision          text NOT NULL DEFAULT '',
    ADD COLUMN decided_by_subject text NOT NULL DEFAULT '',
    ADD COLUMN decided_by_email   text NOT NULL DEFAULT '',
    ADD COLUMN decided_by_name    text NOT NULL DEFAULT '',
    ADD COLUMN decision_reason    text NOT NULL DEFAULT '',
    ADD CONSTRAINT jobs_decision_check CHECK (decision IN ('', 'approved', 'rejected', 'withdrawn', 'lapsed')),
    ADD CONSTRAINT jobs_rejection_has_reason CHECK (decision <> 'rejected' OR decision_reason <> '');

UPDATE jobs SET decision = 'approved', decided_by_subject = approved_by_subject,
        decided_by_email = approved_by_email, decided_by_name = approved_by_name
    WHERE approved_by_subject <> '';
UPDATE jobs SET decision = 'withdrawn', decided_by_subject = requested_by_subject,
        decided_by_email = requested_by_email, decided_by_name = requested_by_name, error_message = ''
    WHERE state = 'cancelled' AND approval_expires_at IS NOT NULL AND error_message LIKE 'withdrawn by %';
UPDATE jobs SET decision = 'rejected', decision_reason = 'no reason was asked for at the time', error_message = ''
    WHERE state = 'cancelled' AND approval_expires_at IS NOT NULL AND error_message LIKE 'rejected by %';
UPDATE jobs SET decision = 'lapsed', error_message = ''
    WHERE state = 'cancelled' AND approval_expires_at IS NOT NULL AND decision = '';

-- +goose Down
ALTER TABLE jobs
    DROP CONSTRAINT jobs_rejection_has_reason,
    DROP CONSTRAINT jobs_decision_check,
    DROP COLUMN decision_reason,
    DROP COLUMN decided_by_name,
    DROP COLUMN decided_by_email,
    DROP COLUMN decided_by_subject,
    DROP COLUMN decision;
