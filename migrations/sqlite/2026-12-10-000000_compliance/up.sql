-- Compliance: what each device last reported (inventory), the policies that judge devices,
-- each device's judgement with its history, the actions taken, and the profiles those actions
-- hold back or add.

-- One row per device: the last answer to each inventory command, as JSON, with its time.
CREATE TABLE device_inventory (
    device_id        TEXT PRIMARY KEY,
    device_info      TEXT,
    device_info_at   TIMESTAMP,
    security_info    TEXT,
    security_info_at TIMESTAMP,
    certificates     TEXT,
    certificates_at  TIMESTAMP,
    profiles         TEXT,
    profiles_at      TIMESTAMP,
    apps_at          TIMESTAMP,
    requested_at     TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX device_inventory_requested ON device_inventory (requested_at);

CREATE TABLE compliance_policies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    scope       TEXT NOT NULL,
    rules       TEXT NOT NULL,
    actions     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- A device's judgement: status, failed rules (past grace), pending ones (in grace or not
-- judged), per-policy state (JSON), a version for compare-and-set between replicas.
CREATE TABLE device_compliance (
    device_id    TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    reasons      TEXT NOT NULL,
    pending      TEXT NOT NULL,
    policies     TEXT NOT NULL,
    version      BIGINT NOT NULL,
    since        TIMESTAMP NOT NULL,
    evaluated_at TIMESTAMP NOT NULL
);
CREATE INDEX device_compliance_status ON device_compliance (status);

CREATE TABLE compliance_history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    status    TEXT NOT NULL,
    previous  TEXT NOT NULL,
    reasons   TEXT NOT NULL,
    at        TIMESTAMP NOT NULL
);
CREATE INDEX compliance_history_device ON compliance_history (device_id, id);

-- Every action a policy ran on a device, with its outcome.
CREATE TABLE compliance_actions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id    TEXT NOT NULL,
    policy_id    TEXT NOT NULL,
    policy       TEXT NOT NULL,
    action       TEXT NOT NULL,
    direction    TEXT NOT NULL,
    target       TEXT,
    status       TEXT NOT NULL,
    detail       TEXT,
    command_uuid TEXT,
    call_id      TEXT,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX compliance_actions_device ON compliance_actions (device_id, id);
CREATE INDEX compliance_actions_command ON compliance_actions (command_uuid) WHERE command_uuid IS NOT NULL;
CREATE INDEX compliance_actions_call ON compliance_actions (call_id) WHERE call_id IS NOT NULL;

-- Profiles a policy's actions take off a device (withhold) or put on it (add) while it is
-- non-compliant; the profile library's desired state reads these.
CREATE TABLE compliance_profile_holds (
    device_id  TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    policy_id  TEXT NOT NULL,
    PRIMARY KEY (device_id, profile_id, kind, policy_id)
);
CREATE INDEX compliance_profile_holds_profile ON compliance_profile_holds (profile_id);

-- The fleet-wide evaluation: one row; a replica claims a pass by moving started_at.
CREATE TABLE compliance_sweep (
    one          INTEGER PRIMARY KEY,
    requested_at TIMESTAMP,
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP,
    owner        TEXT,
    reason       TEXT,
    evaluated    BIGINT NOT NULL,
    changed      BIGINT NOT NULL
);
INSERT INTO compliance_sweep (one, evaluated, changed) VALUES (1, 0, 0);

-- Posture lookups by serial number and IMEI.
CREATE INDEX devices_serial ON devices (serial_number);
CREATE INDEX devices_imei ON devices (imei);

-- The device-trust factor: the IdP's signing keys (sealed; every published one is in the
-- metadata, the active one signs) and the service providers that use it.
CREATE TABLE saml_keys (
    id           TEXT PRIMARY KEY,
    cert_pem     TEXT NOT NULL,
    key_sealed   BLOB NOT NULL,
    active       BOOLEAN NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    activated_at TIMESTAMP
);

CREATE TABLE saml_providers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    entity_id  TEXT NOT NULL UNIQUE,
    acs_url    TEXT NOT NULL,
    name_id    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
