-- The notices about memberships have no place in the older table and go.
CREATE TABLE desk_notices_old (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    group_id TEXT NOT NULL REFERENCES groups (id),
    kind TEXT NOT NULL CHECK (kind IN ('approved', 'rejected', 'info_requested')),
    created_at TIMESTAMP NOT NULL,
    told_at TIMESTAMP,
    told_by TEXT REFERENCES users (id)
);
INSERT INTO desk_notices_old (id, application_id, group_id, kind, created_at, told_at, told_by)
    SELECT id, application_id, group_id, kind, created_at, told_at, told_by FROM desk_notices
    WHERE membership_id IS NULL;
DROP TABLE desk_notices;
ALTER TABLE desk_notices_old RENAME TO desk_notices;
CREATE INDEX desk_notices_open ON desk_notices (group_id, created_at) WHERE told_at IS NULL;
CREATE INDEX desk_notices_application ON desk_notices (application_id);
