-- The API platform (spec 002 §2): API keys, OAuth 2.0 clients and their tokens, the
-- request log of keyed requests, and the rate-limit counters. Secrets are stored only
-- as SHA-256 hex; scopes are text arrays of the names in lib/scope.c.
CREATE TABLE api_keys (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description         TEXT CHECK (length(description) <= 500),
    key_hash            TEXT NOT NULL UNIQUE,
    key_prefix          TEXT NOT NULL,
    scopes              TEXT[] NOT NULL DEFAULT '{read}',
    rate_limit_per_hour INT NOT NULL DEFAULT 1000 CHECK (rate_limit_per_hour BETWEEN 1 AND 1000000),
    last_used_at        TIMESTAMPTZ,
    expires_at          TIMESTAMPTZ,
    revoked_at          TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at DESC);

CREATE TABLE api_clients (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id           TEXT NOT NULL UNIQUE,
    client_secret_hash  TEXT NOT NULL,
    user_id             UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description         TEXT CHECK (length(description) <= 500),
    redirect_uris       TEXT[] NOT NULL DEFAULT '{}',
    scopes              TEXT[] NOT NULL DEFAULT '{read}',
    rate_limit_per_hour INT NOT NULL DEFAULT 1000 CHECK (rate_limit_per_hour BETWEEN 1 AND 1000000),
    revoked_at          TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_clients_user ON api_clients (user_id, created_at DESC);

-- A grant is one client_credentials issuance and every rotation that follows it: reuse
-- of a rotated refresh token revokes every token of the grant.
CREATE TABLE oauth_access_tokens (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash  TEXT NOT NULL UNIQUE,
    client_id   UUID NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    grant_id    UUID NOT NULL,
    scopes      TEXT[] NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX oauth_access_tokens_grant ON oauth_access_tokens (grant_id);
CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens (client_id);

CREATE TABLE oauth_refresh_tokens (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash      TEXT NOT NULL UNIQUE,
    client_id       UUID NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    grant_id        UUID NOT NULL,
    access_token_id UUID REFERENCES oauth_access_tokens(id) ON DELETE SET NULL,
    scopes          TEXT[] NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    rotated_at      TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

-- Written after the response; no foreign keys, so a log insert never waits on a lock of
-- the key or client row and logs outlive what they describe until pruned.
CREATE TABLE api_request_logs (
    id               BIGSERIAL PRIMARY KEY,
    api_key_id       UUID,
    client_id        UUID,
    user_id          UUID,
    method           TEXT NOT NULL,
    path             TEXT NOT NULL,
    route            TEXT,
    response_status  INT,
    response_time_ms DOUBLE PRECISION,
    ip_address       INET,
    user_agent       TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_request_logs_key ON api_request_logs (api_key_id, created_at) WHERE api_key_id IS NOT NULL;
CREATE INDEX api_request_logs_client ON api_request_logs (client_id, created_at) WHERE client_id IS NOT NULL;
CREATE INDEX api_request_logs_created ON api_request_logs (created_at);

-- One row per (key or client and budget, fixed window); see lib/ratelimit.h.
-- UNLOGGED: a commit that touched only this table needs no WAL flush, which keeps the
-- per-request upsert cheap. The price: after a database crash (or on a promoted standby)
-- the counters start empty, i.e. every budget gets one fresh window. Acceptable for a
-- rate limit; nothing else may live in this table.
CREATE UNLOGGED TABLE rate_limit_counters (
    identifier    TEXT NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    request_count INT NOT NULL DEFAULT 0,
    PRIMARY KEY (identifier, window_start)
);
CREATE INDEX rate_limit_counters_window ON rate_limit_counters (window_start);
