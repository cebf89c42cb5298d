-- Accounts: local (email + argon2id password) or mirrored from the host platform's JWT.
CREATE TABLE users (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email            TEXT,
    name             TEXT NOT NULL DEFAULT '',
    password_hash    TEXT,
    external_subject TEXT UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_identity CHECK (password_hash IS NOT NULL OR external_subject IS NOT NULL),
    CONSTRAINT users_email_length CHECK (email IS NULL OR length(email) <= 254),
    CONSTRAINT users_name_length CHECK (length(name) <= 100)
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

-- Opaque refresh tokens, stored as SHA-256. A family is one login's chain of
-- rotations: presenting a rotated token again revokes the whole family.
CREATE TABLE refresh_tokens (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id   UUID NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    rotated_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE audit_events (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID REFERENCES users(id) ON DELETE CASCADE,
    action      TEXT NOT NULL,
    provider    TEXT,
    ip          INET,
    user_agent  TEXT,
    details     JSONB NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_user_time ON audit_events (user_id, created_at DESC);
