-- Profile library: profiles with their versions, device groups, assignments, and per-enrollment
-- install state. Device certificates are kept with their binding so profiles can be encrypted
-- to them.
ALTER TABLE cert_bindings ADD COLUMN cert_der BYTEA;

CREATE TABLE profiles (
    id         TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- body: the unsigned profile as an XML plist, variables not yet filled in.
CREATE TABLE profile_versions (
    profile_id   TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    payload_uuid TEXT NOT NULL,
    body         BYTEA NOT NULL,
    source       TEXT NOT NULL,
    signer       TEXT,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (profile_id, version)
);

CREATE TABLE device_groups (
    name        TEXT PRIMARY KEY,
    description TEXT,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES device_groups(name) ON DELETE CASCADE,
    device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (group_name, device_id)
);
CREATE INDEX group_members_device ON group_members(device_id);

-- target_kind: device | group.
CREATE TABLE profile_assignments (
    profile_id  TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    target_kind TEXT NOT NULL,
    target      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (profile_id, target_kind, target)
);
CREATE INDEX profile_assignments_target ON profile_assignments(target_kind, target);

-- status: pending | installed | verified | failed | removing. No foreign key to profiles: the
-- removal of a deleted profile is still tracked here. checked_at: when a ProfileList check was
-- last queued for the enrollment (the periodic audit claims rows by moving it).
CREATE TABLE device_profiles (
    enrollment_id TEXT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    profile_id    TEXT NOT NULL,
    identifier    TEXT NOT NULL,
    version       INTEGER NOT NULL,
    payload_uuid  TEXT NOT NULL,
    status        TEXT NOT NULL,
    command_uuid  TEXT,
    detail        TEXT,
    reinstalls    INTEGER NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    checked_at    TIMESTAMP,
    PRIMARY KEY (enrollment_id, profile_id)
);
CREATE INDEX device_profiles_command ON device_profiles(command_uuid);
CREATE INDEX device_profiles_profile ON device_profiles(profile_id);
