DROP INDEX memberships_number;
DROP INDEX memberships_removals;
DROP INDEX memberships_due;
ALTER TABLE memberships DROP COLUMN removed_from_chat_by;
ALTER TABLE memberships DROP COLUMN removed_from_chat_at;
ALTER TABLE memberships DROP COLUMN reminded_7_at;
ALTER TABLE memberships DROP COLUMN reminded_30_at;
ALTER TABLE applications DROP COLUMN renewal_of;
