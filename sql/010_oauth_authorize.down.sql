DROP TABLE IF EXISTS oauth_user_grants;
DROP TABLE IF EXISTS oauth_authorization_codes;
DROP TABLE IF EXISTS oauth_consent_requests;
DROP INDEX IF EXISTS oauth_refresh_tokens_delegated;
DROP INDEX IF EXISTS oauth_access_tokens_delegated;
ALTER TABLE oauth_refresh_tokens DROP COLUMN IF EXISTS delegated;
ALTER TABLE oauth_access_tokens DROP COLUMN IF EXISTS delegated;
-- Public clients have no secret: they cannot survive the NOT NULL.
DELETE FROM api_clients WHERE client_type = 'public';
ALTER TABLE api_clients DROP CONSTRAINT IF EXISTS api_clients_secret_by_type,
    ALTER COLUMN client_secret_hash SET NOT NULL,
    DROP COLUMN IF EXISTS client_type;
