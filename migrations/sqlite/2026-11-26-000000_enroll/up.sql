-- Over-the-air enrollment: local users, enrollment tokens, blueprints, and enrollment sessions
-- (one per enrollment page login, token use or direct profile download). Secrets are stored
-- hashed: argon2 for passwords, SHA-256 for tokens and challenges.
CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    full_name     TEXT,
    email         TEXT,
    group_name    TEXT,
    blueprint     TEXT,
    disabled      BOOLEAN NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

-- max_uses NULL: any number of uses until it expires or is revoked.
CREATE TABLE enrollment_tokens (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    note       TEXT,
    max_uses   INTEGER,
    uses       INTEGER NOT NULL,
    username   TEXT,
    group_name TEXT,
    blueprint  TEXT,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

-- body: the blueprint's actions as JSON.
CREATE TABLE blueprints (
    name       TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- method: ota | direct. phase: 1 profile-service profile served, 2 SCEP profile served,
-- 3 enrollment profile served. challenge_hash: the profile-service Challenge (OTA only).
-- scep_challenge_id / mdm_challenge_id: the one-time SCEP challenges of the phase-2 identity and
-- of the MDM identity; a certificate issued with one leads back to its session.
CREATE TABLE enroll_sessions (
    id               TEXT PRIMARY KEY,
    method           TEXT NOT NULL,
    token_id         TEXT,
    username         TEXT,
    group_name       TEXT,
    blueprint        TEXT,
    challenge_hash   TEXT UNIQUE,
    udid             TEXT,
    attributes       TEXT,
    phase            INTEGER NOT NULL,
    scep_challenge_id TEXT,
    mdm_challenge_id TEXT,
    client           TEXT,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    enrolled_at      TIMESTAMP
);
CREATE INDEX enroll_sessions_scep ON enroll_sessions(scep_challenge_id);
CREATE INDEX enroll_sessions_mdm ON enroll_sessions(mdm_challenge_id);

-- The one-time challenge an issued certificate was requested with.
ALTER TABLE scep_certs ADD COLUMN challenge_id TEXT;
-- Who enrolled the device and through which session (set on its first TokenUpdate).
ALTER TABLE devices ADD COLUMN enrolled_user TEXT;
ALTER TABLE devices ADD COLUMN enroll_session_id TEXT;
