-- Memberships over time: renewals, expiry reminders (each sent once), and the list of
-- people to take out of the chat group by hand.

ALTER TABLE applications ADD COLUMN renewal_of TEXT REFERENCES memberships (id);
ALTER TABLE memberships ADD COLUMN reminded_30_at TIMESTAMP;
ALTER TABLE memberships ADD COLUMN reminded_7_at TIMESTAMP;
ALTER TABLE memberships ADD COLUMN removed_from_chat_at TIMESTAMP;
ALTER TABLE memberships ADD COLUMN removed_from_chat_by TEXT REFERENCES users (id);
CREATE INDEX memberships_due ON memberships (status, valid_until);
CREATE INDEX memberships_removals ON memberships (group_id, status) WHERE removed_from_chat_at IS NULL;
CREATE INDEX memberships_number ON memberships (number);
