-- Notifications (issue 16): what a user wants to be told, through which connector, and
-- the messages the worker sends, one per (user, source event), leased while sending.
CREATE TABLE notification_settings (
    user_id     UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    enabled     BOOLEAN NOT NULL DEFAULT true,
    channel     VARCHAR(16) NOT NULL DEFAULT 'email' CHECK (channel IN ('email')),
    email_to    VARCHAR(254),            -- NULL: the account's email address
    events      TEXT[] NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),  -- events before this are never notified
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON COLUMN notification_settings.events IS
    'integration.health_error, integration.health_expired, webhook.disabled, export.completed';

CREATE TABLE notifications (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_id        UUID NOT NULL,       -- events.id of the cause (events may be purged first)
    kind            VARCHAR(40) NOT NULL,
    status          VARCHAR(16) NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts        INT NOT NULL DEFAULT 0,
    lease_until     TIMESTAMPTZ,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    sent_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, event_id)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status IN ('pending', 'sending');
