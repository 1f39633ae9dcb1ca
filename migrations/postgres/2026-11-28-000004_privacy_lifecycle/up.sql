-- Privacy and data lifecycle: deleted accounts are marked (their personal fields are
-- overwritten, the row stays because applications and the audit log refer to its id),
-- e-mail change links carry the address they confirm, and indexes for the purge and the
-- key rotation.

ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;

-- change_email only: the address the link confirms.
ALTER TABLE tokens ADD COLUMN new_email TEXT;
ALTER TABLE tokens DROP CONSTRAINT tokens_purpose_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_purpose_check
    CHECK (purpose IN ('confirm_email', 'reset_password', 'invite', 'setup', 'change_email'));

CREATE INDEX applications_decided_at ON applications (decided_at);
CREATE INDEX documents_key ON documents (key_id);
