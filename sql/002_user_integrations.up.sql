-- One row per (user, provider): spec 001's table plus health monitoring.
-- Secrets inside config and the tokens are sealed (AES-256-GCM) by the application.
CREATE TABLE user_integrations (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider         VARCHAR(50) NOT NULL,
    enabled          BOOLEAN NOT NULL DEFAULT true,
    config           JSONB NOT NULL DEFAULT '{}',
    access_token     TEXT,
    refresh_token    TEXT,
    token_expires_at TIMESTAMPTZ,
    metadata         JSONB NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('active', 'inactive', 'error', 'pending', 'expired',
                                       'connected', 'disconnected')),
    last_error       TEXT,
    last_checked_at  TIMESTAMPTZ,
    connected_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, provider)
);
CREATE INDEX idx_user_integrations_provider ON user_integrations (provider);
-- The worker's refresh scan: tokens expiring soon.
CREATE INDEX idx_user_integrations_expiry ON user_integrations (token_expires_at)
    WHERE token_expires_at IS NOT NULL;
COMMENT ON TABLE user_integrations IS 'Stores user integrations with external services';
COMMENT ON COLUMN user_integrations.provider IS 'Integration type: mqtt, github, arduino_cloud, google, blynk, or an OAuth2 provider from the providers file';
COMMENT ON COLUMN user_integrations.config IS 'Provider-specific configuration as JSON; secrets sealed';
