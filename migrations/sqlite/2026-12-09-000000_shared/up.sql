-- Shared devices: pools of devices handed from user to user, each with its staging user (who
-- the device is while nobody holds it) and its check-out / check-in workflows (JSON).
CREATE TABLE shared_pools (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    staging_user TEXT NOT NULL,
    settings     TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

-- What is in a pool: devices (by id) and device groups (by name). A device or a group is in
-- one pool at most; a device's own membership wins over its groups'.
CREATE TABLE shared_pool_members (
    target_kind TEXT NOT NULL,
    target      TEXT NOT NULL,
    pool        TEXT NOT NULL REFERENCES shared_pools(name) ON DELETE CASCADE,
    PRIMARY KEY (target_kind, target)
);
CREATE INDEX shared_pool_members_pool ON shared_pool_members (pool);

-- Sessions: a check-out by a user until its check-in. At most one open session per device.
CREATE TABLE shared_sessions (
    id              TEXT PRIMARY KEY,
    device_id       TEXT NOT NULL,
    pool            TEXT NOT NULL,
    username        TEXT NOT NULL,
    email           TEXT,
    full_name       TEXT,
    open            BOOLEAN NOT NULL,
    checked_out_at  TIMESTAMP NOT NULL,
    checked_out_by  TEXT NOT NULL,
    checked_out_via TEXT NOT NULL,
    checked_in_at   TIMESTAMP,
    checked_in_by   TEXT,
    checked_in_via  TEXT,
    checkin_reason  TEXT
);
CREATE UNIQUE INDEX shared_sessions_open ON shared_sessions (device_id) WHERE open;
CREATE INDEX shared_sessions_device ON shared_sessions (device_id, checked_out_at);
CREATE INDEX shared_sessions_user ON shared_sessions (username, checked_out_at);

-- Every workflow action of a session, in order, with its outcome.
CREATE TABLE shared_actions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   TEXT NOT NULL REFERENCES shared_sessions(id) ON DELETE CASCADE,
    phase        TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT,
    status       TEXT NOT NULL,
    detail       TEXT,
    command_uuid TEXT,
    call_id      TEXT,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX shared_actions_session ON shared_actions (session_id, phase, seq);
CREATE INDEX shared_actions_command ON shared_actions (command_uuid) WHERE command_uuid IS NOT NULL;
CREATE INDEX shared_actions_call ON shared_actions (call_id) WHERE call_id IS NOT NULL;

-- Per-device kiosk tokens the server makes for the locker app (delivered as {KioskToken}).
-- Only the current one keeps its value, sealed; a rotated one keeps its hash so that using it
-- is recognised (403) rather than unknown.
CREATE TABLE kiosk_tokens (
    id         TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    sealed     BLOB,
    issued_at  TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP
);
CREATE UNIQUE INDEX kiosk_tokens_current ON kiosk_tokens (device_id) WHERE rotated_at IS NULL;

-- Connectors: outbound calls to other systems (a web logout, Epic's DisassociateMobileDevice).
-- `settings` is JSON without secrets; `secret` holds the secrets, sealed.
CREATE TABLE connectors (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    settings   TEXT NOT NULL,
    secret     BLOB,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Automations: when an event of `topic` (matching `condition`) is stored, call a connector.
-- `cursor`: the last event id looked at.
CREATE TABLE automations (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    condition    TEXT NOT NULL,
    connector_id TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    enabled      BOOLEAN NOT NULL,
    cursor       BIGINT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

-- The durable queue of connector calls: due time, attempts, a lease, the last outcome.
-- `vars` are the template values fixed when the call was queued. One call per automation and
-- event, whichever replica queued it.
CREATE TABLE connector_calls (
    id              TEXT PRIMARY KEY,
    connector_id    TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL,
    session_id      TEXT,
    automation_id   TEXT,
    event_id        BIGINT,
    device_id       TEXT,
    vars            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    last_status     INTEGER,
    last_error      TEXT,
    latency_ms      INTEGER,
    answer          TEXT,
    created_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);
CREATE INDEX connector_calls_due ON connector_calls (next_attempt_at) WHERE status = 'pending';
CREATE INDEX connector_calls_connector ON connector_calls (connector_id, created_at);
CREATE UNIQUE INDEX connector_calls_automation ON connector_calls (automation_id, event_id);

-- The key connectors sign client assertions with (Epic backend OAuth2), sealed; its public
-- half is published as a JWK Set.
CREATE TABLE connector_keys (
    kid         TEXT PRIMARY KEY,
    private_key BLOB NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
