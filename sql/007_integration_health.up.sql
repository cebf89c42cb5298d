-- The history of integration health checks (GET .../health and the worker's checks).
CREATE TABLE integration_health_checks (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider    VARCHAR(50) NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'error', 'pending', 'expired')),
    error       TEXT,
    latency_ms  DOUBLE PRECISION,
    checked_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX integration_health_checks_recent ON integration_health_checks (user_id, provider, checked_at DESC);
-- The worker's scan: enabled integrations not checked for a while.
CREATE INDEX user_integrations_last_checked ON user_integrations (last_checked_at NULLS FIRST) WHERE enabled;
