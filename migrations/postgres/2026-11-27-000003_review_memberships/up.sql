-- Review and memberships: officers' notification choice, the per-group membership
-- counter, and memberships issued on approval.

ALTER TABLE users ADD COLUMN notify_pref TEXT NOT NULL DEFAULT 'immediate' CHECK (notify_pref IN ('immediate', 'daily', 'off'));
ALTER TABLE users ADD COLUMN last_digest_at TIMESTAMP;
ALTER TABLE groups ADD COLUMN member_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE memberships (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    group_id TEXT NOT NULL REFERENCES groups (id),
    application_id TEXT NOT NULL REFERENCES applications (id),
    number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'suspended', 'revoked', 'ended')),
    valid_from DATE NOT NULL,
    valid_until DATE NOT NULL,
    verification_token TEXT NOT NULL UNIQUE,
    status_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (group_id, number)
);
CREATE INDEX memberships_user ON memberships (user_id, status);
CREATE INDEX memberships_group ON memberships (group_id, status, valid_until);
-- One current membership per person and group.
CREATE UNIQUE INDEX memberships_one_current ON memberships (user_id, group_id)
    WHERE status IN ('active', 'suspended');
