ALTER TABLE push_state DROP COLUMN token_updated_at;
