DROP TABLE server_secrets;
DROP TABLE mail_outbox;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE login_throttle;
DROP TABLE tokens;
DROP TABLE sessions;
DROP TABLE users;
