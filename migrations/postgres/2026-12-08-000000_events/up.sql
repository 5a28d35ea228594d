-- The event outbox. A row is written in the transaction of the change it reports; `pk` is its
-- insertion key. `id` is the public, delivery-ordered id, given after the commit by the
-- sequencer (`store/events.rs`) to rows whose transaction (`xid`) is older than every
-- transaction still running, so no row can later appear below an id already handed out.
CREATE TABLE events (
    pk            BIGSERIAL PRIMARY KEY,
    id            BIGINT UNIQUE,
    xid           XID8 NOT NULL DEFAULT pg_current_xact_id(),
    topic         TEXT NOT NULL,
    device_id     TEXT,
    enrollment_id TEXT,
    body          TEXT NOT NULL,
    payload       BYTEA,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX events_unsequenced ON events (pk) WHERE id IS NULL;
CREATE INDEX events_device ON events (device_id, id);
CREATE INDEX events_created ON events (created_at);

-- The sequencer's state: the last id handed out and the highest id retention has removed.
CREATE TABLE event_sequence (
    one            INTEGER PRIMARY KEY CHECK (one = 1),
    last_id        BIGINT NOT NULL,
    pruned_through BIGINT NOT NULL
);
INSERT INTO event_sequence (one, last_id, pruned_through) VALUES (1, 0, 0);

-- Webhooks. `cursor`: every event with an id up to it has been delivered or dead-lettered.
-- A replica delivers a webhook only while it holds the lease. `attempts` counts the failed
-- attempts at the webhook's current head event; `next_attempt_at` is when to try again.
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    url             TEXT NOT NULL,
    topics          TEXT NOT NULL,
    format          TEXT NOT NULL,
    secret          BYTEA,
    enabled         BOOLEAN NOT NULL,
    cursor          BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_error      TEXT,
    last_success_at TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

-- Every delivery attempt: outcome, HTTP status, latency, the answer's first bytes.
CREATE TABLE webhook_deliveries (
    id         BIGSERIAL PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id   BIGINT NOT NULL,
    attempt    INTEGER NOT NULL,
    outcome    TEXT NOT NULL,
    status     INTEGER,
    latency_ms INTEGER NOT NULL,
    answer     TEXT,
    at         TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Events a webhook gave up on, kept for replay.
CREATE TABLE webhook_dead_letters (
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id   BIGINT NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT,
    dead_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (webhook_id, event_id)
);

-- Events to deliver again (a replay), before the webhook's live stream.
CREATE TABLE webhook_replays (
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id   BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, event_id)
);
