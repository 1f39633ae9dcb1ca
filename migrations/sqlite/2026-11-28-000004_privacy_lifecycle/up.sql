-- Privacy and data lifecycle: deleted accounts are marked (their personal fields are
-- overwritten, the row stays because applications and the audit log refer to its id),
-- e-mail change links carry the address they confirm, and indexes for the purge and the
-- key rotation.

ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;

-- SQLite cannot change a CHECK constraint, so the tokens table is rebuilt with the new
-- purpose. No other table references it.
CREATE TABLE tokens_new (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password', 'invite', 'setup', 'change_email')),
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    -- change_email only: the address the link confirms.
    new_email TEXT
);
INSERT INTO tokens_new (id, purpose, user_id, created_at, expires_at, used_at)
    SELECT id, purpose, user_id, created_at, expires_at, used_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_user ON tokens (user_id, purpose);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE INDEX applications_decided_at ON applications (decided_at);
CREATE INDEX documents_key ON documents (key_id);
