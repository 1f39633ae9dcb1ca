-- Membership changes for residents without a confirmed e-mail address: suspension,
-- reinstatement, revocation and the renewal reminders become desk notices too, like the
-- review's decisions (src/services/notices.rs). A membership's notice names it, so the list
-- links to it and shows its number; a decision on an application names none.
--
-- SQLite cannot change a CHECK constraint, so the table is rebuilt. No table references it.
CREATE TABLE desk_notices_new (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    group_id TEXT NOT NULL REFERENCES groups (id),
    kind TEXT NOT NULL CHECK (kind IN ('approved', 'rejected', 'info_requested',
                                       'suspended', 'reinstated', 'revoked', 'renewal_due')),
    created_at TIMESTAMP NOT NULL,
    told_at TIMESTAMP,
    told_by TEXT REFERENCES users (id),
    membership_id TEXT REFERENCES memberships (id),
    CHECK ((membership_id IS NULL) = (kind IN ('approved', 'rejected', 'info_requested')))
);
INSERT INTO desk_notices_new (id, application_id, group_id, kind, created_at, told_at, told_by)
    SELECT id, application_id, group_id, kind, created_at, told_at, told_by FROM desk_notices;
DROP TABLE desk_notices;
ALTER TABLE desk_notices_new RENAME TO desk_notices;
CREATE INDEX desk_notices_open ON desk_notices (group_id, created_at) WHERE told_at IS NULL;
CREATE INDEX desk_notices_application ON desk_notices (application_id);
-- The renewal reminder looks for an untold notice of the membership before adding one.
CREATE INDEX desk_notices_membership ON desk_notices (membership_id) WHERE membership_id IS NOT NULL;
