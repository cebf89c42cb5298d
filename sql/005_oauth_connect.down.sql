DROP TABLE IF EXISTS github_project_sync;
DROP TABLE IF EXISTS github_repo_sync;
DROP TABLE IF EXISTS projects;
DROP TABLE IF EXISTS user_identities;
DELETE FROM users WHERE password_hash IS NULL AND external_subject IS NULL;
ALTER TABLE users DROP CONSTRAINT users_identity;
ALTER TABLE users ADD CONSTRAINT users_identity CHECK (password_hash IS NOT NULL OR external_subject IS NOT NULL);
ALTER TABLE users DROP COLUMN oauth_provider;
DROP TABLE IF EXISTS oauth_states;
