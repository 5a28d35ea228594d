-- When the device last sent a TokenUpdate: a 410 from APNs whose timestamp is older than this
-- does not make the (re-registered) token stale.
ALTER TABLE push_state ADD COLUMN token_updated_at TIMESTAMP;
