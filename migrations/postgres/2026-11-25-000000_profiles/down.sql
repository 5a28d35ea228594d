DROP TABLE device_profiles;
DROP TABLE profile_assignments;
DROP TABLE group_members;
DROP TABLE device_groups;
DROP TABLE profile_versions;
DROP TABLE profiles;
ALTER TABLE cert_bindings DROP COLUMN cert_der;
