ALTER TABLE oauth_states DROP COLUMN IF EXISTS return_to;
