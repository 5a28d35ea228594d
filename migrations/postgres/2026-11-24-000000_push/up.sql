-- APNs push certificates (private keys sealed with the server's secrets key) and the push
-- schedule: one row per enrollment with its next re-push, attempts and last outcome.
CREATE TABLE push_certs (
    topic          TEXT PRIMARY KEY,
    subject        TEXT NOT NULL,
    cert_chain_pem TEXT NOT NULL,
    key_sealed     BYTEA NOT NULL,
    not_before     TIMESTAMP NOT NULL,
    not_after      TIMESTAMP NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE push_state (
    enrollment_id  TEXT PRIMARY KEY REFERENCES enrollments(id) ON DELETE CASCADE,
    next_push_at   TIMESTAMP,
    attempts       INTEGER NOT NULL,
    last_push_at   TIMESTAMP,
    last_result    TEXT,
    last_error     TEXT,
    token_stale_at TIMESTAMP,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX push_state_due ON push_state(next_push_at) WHERE next_push_at IS NOT NULL;

INSERT INTO push_state (enrollment_id, next_push_at, attempts, updated_at)
    SELECT id, NULL, 0, updated_at FROM enrollments;
