-- Devices, enrollments (device and user channels), certificate bindings, command queue.
CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    serial_number   TEXT,
    model           TEXT,
    model_name      TEXT,
    product_name    TEXT,
    os_version      TEXT,
    build_version   TEXT,
    device_name     TEXT,
    imei            TEXT,
    meid            TEXT,
    bootstrap_token BLOB,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE cert_bindings (
    cert_hash  TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    issuer     TEXT NOT NULL,
    not_after  TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cert_bindings_device ON cert_bindings(device_id);

CREATE TABLE enrollments (
    id                     TEXT PRIMARY KEY,
    device_id              TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    channel                TEXT NOT NULL,
    enrollment_type        TEXT NOT NULL,
    user_id                TEXT,
    user_short_name        TEXT,
    user_long_name         TEXT,
    topic                  TEXT NOT NULL,
    push_magic             TEXT,
    token                  BLOB,
    unlock_token           BLOB,
    enabled                BOOLEAN NOT NULL,
    awaiting_configuration BOOLEAN NOT NULL,
    token_update_count     BIGINT NOT NULL,
    authenticated_at       TIMESTAMP,
    last_seen_at           TIMESTAMP,
    unenrolled_at          TIMESTAMP,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX enrollments_device ON enrollments(device_id);

CREATE TABLE commands (
    uuid         TEXT PRIMARY KEY,
    request_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE enrollment_queue (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id     TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    command_uuid      TEXT NOT NULL REFERENCES commands(uuid) ON DELETE CASCADE,
    status            TEXT NOT NULL,
    priority          INTEGER NOT NULL,
    not_now_count     INTEGER NOT NULL,
    deliveries        INTEGER NOT NULL,
    last_delivered_at TIMESTAMP,
    done_at           TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    UNIQUE (enrollment_id, command_uuid)
);
CREATE INDEX enrollment_queue_active ON enrollment_queue(enrollment_id, priority DESC, id)
    WHERE status IN ('queued', 'not_now');
CREATE INDEX enrollment_queue_command ON enrollment_queue(command_uuid);

CREATE TABLE command_results (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    command_uuid  TEXT NOT NULL,
    status        TEXT NOT NULL,
    body          BLOB NOT NULL,
    received_at   TIMESTAMP NOT NULL
);
CREATE INDEX command_results_enrollment ON command_results(enrollment_id, id);
CREATE INDEX command_results_command ON command_results(command_uuid);

CREATE TABLE declarative_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    endpoint      TEXT NOT NULL,
    data          BLOB,
    received_at   TIMESTAMP NOT NULL
);
CREATE INDEX declarative_messages_enrollment ON declarative_messages(enrollment_id, id);
