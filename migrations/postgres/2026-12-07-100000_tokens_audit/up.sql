-- Admin API tokens: a name, a role (admin, helpdesk, read-only, posture, kiosk), for kiosk the one
-- device it may act for; only the SHA-256 of the value is kept.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    device_id    TEXT,
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP,
    last_used_at TIMESTAMP
);

-- Every admin change: who (token name and role), what (method and path), when, from where
-- (client address) and the outcome (HTTP status).
CREATE TABLE audit_log (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMP NOT NULL,
    actor     TEXT NOT NULL,
    token_id  TEXT,
    role      TEXT NOT NULL,
    client    TEXT NOT NULL,
    method    TEXT NOT NULL,
    path      TEXT NOT NULL,
    status    INTEGER NOT NULL,
    detail    TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
