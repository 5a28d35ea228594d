-- Managed apps: the catalogue (with its AppConfig as typed JSON), assignments, per-enrollment
-- install state, what devices report as installed, app events, and admin-defined secrets
-- (sealed with the secrets key) that AppConfig values reference by name.
CREATE TABLE apps (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    bundle_id               TEXT NOT NULL UNIQUE,
    itunes_store_id         BIGINT,
    manifest_url            TEXT,
    management_flags        INTEGER NOT NULL,
    attributes              TEXT,
    config                  TEXT,
    preset                  TEXT,
    required                BOOLEAN NOT NULL,
    config_version          INTEGER NOT NULL,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL
);

-- target_kind: device | group.
CREATE TABLE app_assignments (
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    target_kind TEXT NOT NULL,
    target      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (app_id, target_kind, target)
);
CREATE INDEX app_assignments_target ON app_assignments(target_kind, target);

-- status: pending | installed | failed | removing. No foreign key to apps: the removal of a
-- deleted app is still tracked here. checked_at: when a ManagedApplicationList was last queued
-- by the periodic app audit (replicas claim enrollments by moving it).
CREATE TABLE device_apps (
    enrollment_id  TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    app_id         TEXT NOT NULL,
    bundle_id      TEXT NOT NULL,
    status         TEXT NOT NULL,
    command_uuid   TEXT,
    detail         TEXT,
    config_version INTEGER NOT NULL,
    reinstalls     INTEGER NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    checked_at     TIMESTAMP,
    PRIMARY KEY (enrollment_id, app_id)
);
CREATE INDEX device_apps_command ON device_apps(command_uuid);
CREATE INDEX device_apps_app ON device_apps(app_id);

-- The apps a device last reported (InstalledApplicationList / ManagedApplicationList).
CREATE TABLE app_inventory (
    enrollment_id  TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    bundle_id      TEXT NOT NULL,
    name           TEXT,
    version        TEXT,
    managed_status TEXT,
    reported_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (enrollment_id, bundle_id)
);

CREATE TABLE app_events (
    id            BIGSERIAL PRIMARY KEY,
    enrollment_id TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    app_id        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    detail        TEXT,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX app_events_enrollment ON app_events(enrollment_id, id);

-- hint: the last characters of the value, to tell secrets apart without showing them.
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    sealed     BYTEA NOT NULL,
    hint       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Custom attributes, used in AppConfig values as {Attribute.NAME}: per device or per group (the
-- device's own value wins; among its groups, the first by name).
CREATE TABLE custom_attributes (
    scope_kind TEXT NOT NULL,
    scope      TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope_kind, scope, name)
);
