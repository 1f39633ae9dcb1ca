DROP INDEX documents_key;
DROP INDEX applications_decided_at;

DELETE FROM tokens WHERE purpose = 'change_email';
ALTER TABLE tokens DROP CONSTRAINT tokens_purpose_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_purpose_check
    CHECK (purpose IN ('confirm_email', 'reset_password', 'invite', 'setup'));
ALTER TABLE tokens DROP COLUMN new_email;

ALTER TABLE users DROP COLUMN deleted_at;
