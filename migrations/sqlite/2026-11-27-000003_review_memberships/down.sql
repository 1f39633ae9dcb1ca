DROP TABLE memberships;
ALTER TABLE groups DROP COLUMN member_seq;
ALTER TABLE users DROP COLUMN last_digest_at;
ALTER TABLE users DROP COLUMN notify_pref;
