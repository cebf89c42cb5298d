-- Webhooks and the transactional outbox: an event, its deliveries and the change that
-- caused it commit together; the worker delivers what is due.
CREATE TABLE webhooks (
    id                      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                 UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    url                     TEXT NOT NULL CHECK (length(url) <= 2048),
    events                  TEXT[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 50),
    secret                  TEXT NOT NULL,          -- sealed "whsec_..."
    previous_secret         TEXT,                   -- sealed; signs too until previous_secret_expires_at
    previous_secret_expires_at TIMESTAMPTZ,
    retry_count             INT NOT NULL DEFAULT 3 CHECK (retry_count BETWEEN 0 AND 10),
    timeout_seconds         INT NOT NULL DEFAULT 30 CHECK (timeout_seconds BETWEEN 1 AND 60),
    is_active               BOOLEAN NOT NULL DEFAULT true,
    disabled_reason         TEXT,
    failing_since           TIMESTAMPTZ,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_user ON webhooks (user_id, created_at DESC);

CREATE TABLE events (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id      TEXT NOT NULL UNIQUE,   -- "msg_...": webhook-id of every delivery of it
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    data            JSONB NOT NULL DEFAULT '{}',
    idempotency_key TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX events_idempotency ON events (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_user_time ON events (user_id, created_at DESC);

-- Types published through /events, per account, for the catalog.
CREATE TABLE event_types (
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, name)
);

CREATE TABLE webhook_deliveries (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id       UUID NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id         UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id          UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempt_count    INT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    last_status_code INT,
    last_error       TEXT,
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The worker's claim: due pending deliveries.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at DESC);

CREATE TABLE webhook_attempts (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    delivery_id      UUID NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt_number   INT NOT NULL,
    request_headers  JSONB NOT NULL DEFAULT '{}',
    response_status  INT,
    response_body    TEXT,                   -- first 4 KiB
    response_time_ms DOUBLE PRECISION,
    error            TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt_number);
