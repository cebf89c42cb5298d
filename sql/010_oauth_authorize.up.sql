-- The authorization-code flow of our OAuth2 provider (RFC 6749 §4.1, PKCE RFC 7636):
-- public clients (no secret, PKCE required), the consent requests GET /oauth/authorize
-- opens for the console's consent page, the single-use codes (SHA-256 at rest, 60 s),
-- the apps a user has authorized, and which tokens a user delegated (as opposed to the
-- client_credentials tokens a client gets for its own owner).
ALTER TABLE api_clients
    ADD COLUMN client_type TEXT NOT NULL DEFAULT 'confidential' CHECK (client_type IN ('confidential', 'public')),
    ALTER COLUMN client_secret_hash DROP NOT NULL,
    ADD CONSTRAINT api_clients_secret_by_type
        CHECK ((client_type = 'public') = (client_secret_hash IS NULL));

ALTER TABLE oauth_access_tokens ADD COLUMN delegated BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE oauth_refresh_tokens ADD COLUMN delegated BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX oauth_access_tokens_delegated ON oauth_access_tokens (user_id, client_id) WHERE delegated;
CREATE INDEX oauth_refresh_tokens_delegated ON oauth_refresh_tokens (user_id, client_id) WHERE delegated;

-- One validated authorization request waiting for the user's decision (10 minutes).
CREATE TABLE oauth_consent_requests (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id          UUID NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
    redirect_uri       TEXT NOT NULL,
    redirect_uri_given BOOLEAN NOT NULL,
    scopes             TEXT[] NOT NULL,
    state              TEXT,
    code_challenge     TEXT,
    expires_at         TIMESTAMPTZ NOT NULL,
    decided_at         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX oauth_consent_requests_expires ON oauth_consent_requests (expires_at);

CREATE TABLE oauth_authorization_codes (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    code_hash          TEXT NOT NULL UNIQUE,
    client_id          UUID NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
    user_id            UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri       TEXT NOT NULL,
    redirect_uri_given BOOLEAN NOT NULL,
    scopes             TEXT[] NOT NULL,
    code_challenge     TEXT,
    expires_at         TIMESTAMPTZ NOT NULL,
    used_at            TIMESTAMPTZ,
    grant_id           UUID,  -- the tokens issued from it: revoked when the code comes back
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX oauth_authorization_codes_expires ON oauth_authorization_codes (expires_at);

-- The apps a user has authorized (remembered grants), with the scopes last granted.
CREATE TABLE oauth_user_grants (
    user_id    UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  UUID NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
    scopes     TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_id)
);
