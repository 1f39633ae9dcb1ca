DROP INDEX mail_outbox_to;
DROP INDEX application_events_actor;
DROP INDEX documents_unpurged;
DROP INDEX applications_claimed_at;
