ALTER TABLE devices DROP COLUMN enroll_session_id;
ALTER TABLE devices DROP COLUMN enrolled_user;
ALTER TABLE scep_certs DROP COLUMN challenge_id;
DROP TABLE enroll_sessions;
DROP TABLE blueprints;
DROP TABLE enrollment_tokens;
DROP TABLE users;
