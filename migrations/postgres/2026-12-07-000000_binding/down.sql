ALTER TABLE scep_certs DROP COLUMN renewed_from;
ALTER TABLE devices DROP COLUMN reenroll_until;
