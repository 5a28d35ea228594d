-- Certificates issued over SCEP (every one recorded) and one-time SCEP challenges (only a hash
-- of each value is kept).
CREATE TABLE scep_certs (
    serial         TEXT PRIMARY KEY,
    subject        TEXT NOT NULL,
    not_before     TIMESTAMP NOT NULL,
    not_after      TIMESTAMP NOT NULL,
    cert_der       BLOB NOT NULL,
    cert_hash      TEXT NOT NULL,
    requester      TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    device_id      TEXT,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX scep_certs_hash ON scep_certs(cert_hash);
CREATE INDEX scep_certs_transaction ON scep_certs(transaction_id);

CREATE TABLE scep_challenges (
    id             TEXT PRIMARY KEY,
    challenge_hash TEXT NOT NULL UNIQUE,
    note           TEXT,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    used_at        TIMESTAMP,
    used_by        TEXT
);
