-- GitHub sync as a tracked job (issue 11): POST .../github/sync {"async": true} queues
-- one; the worker claims it under a lease (a killed worker's job is taken up again
-- when the lease passes, up to 3 attempts) and records the outcome.
CREATE TABLE github_sync_jobs (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request       JSONB NOT NULL,
    status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_owner   TEXT,
    lease_until   TIMESTAMPTZ,
    result        JSONB,
    commit_sha    TEXT,
    error         TEXT,
    error_code    TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ
);
CREATE INDEX github_sync_jobs_due ON github_sync_jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX github_sync_jobs_user ON github_sync_jobs (user_id, created_at DESC);
