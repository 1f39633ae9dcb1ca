-- Membership changes for residents without a confirmed e-mail address: suspension,
-- reinstatement, revocation and the renewal reminders become desk notices too, like the
-- review's decisions (src/services/notices.rs). A membership's notice names it, so the list
-- links to it and shows its number; a decision on an application names none.
ALTER TABLE desk_notices DROP CONSTRAINT desk_notices_kind_check;
ALTER TABLE desk_notices ADD CONSTRAINT desk_notices_kind_check
    CHECK (kind IN ('approved', 'rejected', 'info_requested', 'suspended', 'reinstated', 'revoked', 'renewal_due'));
ALTER TABLE desk_notices ADD COLUMN membership_id TEXT REFERENCES memberships (id);
ALTER TABLE desk_notices ADD CONSTRAINT desk_notices_membership_check
    CHECK ((membership_id IS NULL) = (kind IN ('approved', 'rejected', 'info_requested')));
-- The renewal reminder looks for an untold notice of the membership before adding one.
CREATE INDEX desk_notices_membership ON desk_notices (membership_id) WHERE membership_id IS NOT NULL;
