-- The notices about memberships have no place in the older table and go.
DROP INDEX desk_notices_membership;
DELETE FROM desk_notices WHERE membership_id IS NOT NULL;
ALTER TABLE desk_notices DROP CONSTRAINT desk_notices_membership_check;
ALTER TABLE desk_notices DROP COLUMN membership_id;
ALTER TABLE desk_notices DROP CONSTRAINT desk_notices_kind_check;
ALTER TABLE desk_notices ADD CONSTRAINT desk_notices_kind_check
    CHECK (kind IN ('approved', 'rejected', 'info_requested'));
