-- Until when an admin allows the device to enroll again with a new certificate (one use).
ALTER TABLE devices ADD COLUMN reenroll_until TIMESTAMP;
-- The certificate (SHA-256, hex) whose signature a SCEP renewal was requested with.
ALTER TABLE scep_certs ADD COLUMN renewed_from TEXT;
