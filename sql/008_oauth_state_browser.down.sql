ALTER TABLE oauth_states DROP COLUMN IF EXISTS browser_hash;
