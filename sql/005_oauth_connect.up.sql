-- The OAuth connect engine: pending authorization states, sign-in identities, the
-- host platform's projects, and GitHub sync status per repository and project.

-- One row per started authorization. The state itself is never stored, only its
-- SHA-256; the PKCE verifier is sealed (bound to the state hash). Single use: used_at.
CREATE TABLE oauth_states (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    state_hash       TEXT NOT NULL UNIQUE,
    purpose          TEXT NOT NULL CHECK (purpose IN ('connect', 'login')),
    user_id          UUID REFERENCES users(id) ON DELETE CASCADE,
    provider         VARCHAR(50) NOT NULL,
    code_verifier    TEXT,
    redirect_uri     TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at       TIMESTAMPTZ NOT NULL,
    used_at          TIMESTAMPTZ,
    CONSTRAINT oauth_states_connect_user CHECK (purpose = 'login' OR user_id IS NOT NULL)
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

-- "Sign in with <provider>": the provider's account id mapped to our user.
ALTER TABLE users ADD COLUMN oauth_provider TEXT;
ALTER TABLE users DROP CONSTRAINT users_identity;
ALTER TABLE users ADD CONSTRAINT users_identity
    CHECK (password_hash IS NOT NULL OR external_subject IS NOT NULL OR oauth_provider IS NOT NULL);

CREATE TABLE user_identities (
    provider    VARCHAR(50) NOT NULL,
    subject     TEXT NOT NULL,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

-- Projects are written by the host platform; Switchboard reads them to sync/export.
CREATE TABLE IF NOT EXISTS projects (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    content     JSONB NOT NULL DEFAULT '{}',
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS projects_user ON projects (user_id);

-- GitHub sync: per repository (synced, last_sync of the GitHub view) and per project.
CREATE TABLE github_repo_sync (
    user_id          UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    repository_id    BIGINT NOT NULL,
    full_name        TEXT NOT NULL,
    branch           TEXT,
    synced           BOOLEAN NOT NULL DEFAULT false,
    last_sync        TIMESTAMPTZ,
    last_commit_sha  TEXT,
    last_error       TEXT,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, repository_id)
);

CREATE TABLE github_project_sync (
    user_id          UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    repository_id    BIGINT NOT NULL,
    project_id       UUID NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    blob_sha         TEXT,
    result           TEXT NOT NULL CHECK (result IN ('created', 'updated', 'unchanged', 'failed')),
    synced_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, repository_id, project_id)
);
