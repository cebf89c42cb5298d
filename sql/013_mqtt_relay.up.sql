-- The Remote Lab relay (issue 18): single-use tickets a browser presents (?ticket=) when
-- it opens the MQTT WebSocket at /api/v1/users/me/integrations/mqtt/ws. Only the
-- SHA-256 of a ticket is stored; it lives 30 s and is consumed once (used_at).
CREATE TABLE mqtt_relay_tickets (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticket_hash TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX mqtt_relay_tickets_expires_at ON mqtt_relay_tickets (expires_at);

-- The relay's sessions, per user: what GET /users/me/integrations/mqtt shows as
-- relay {sessions, last_seen_at, refused}. The relay writes them and closes its own
-- (relay_id) when it stops or starts again; closed rows are kept a day.
CREATE TABLE mqtt_relay_sessions (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    relay_id     TEXT NOT NULL,
    opened_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at    TIMESTAMPTZ,
    refused      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mqtt_relay_sessions_user ON mqtt_relay_sessions (user_id);
