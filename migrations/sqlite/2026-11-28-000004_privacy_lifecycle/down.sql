DROP INDEX documents_key;
DROP INDEX applications_decided_at;

CREATE TABLE tokens_old (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password', 'invite', 'setup')),
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
INSERT INTO tokens_old (id, purpose, user_id, created_at, expires_at, used_at)
    SELECT id, purpose, user_id, created_at, expires_at, used_at FROM tokens WHERE purpose <> 'change_email';
DROP TABLE tokens;
ALTER TABLE tokens_old RENAME TO tokens;
CREATE INDEX tokens_user ON tokens (user_id, purpose);
CREATE INDEX tokens_expires ON tokens (expires_at);

ALTER TABLE users DROP COLUMN deleted_at;
