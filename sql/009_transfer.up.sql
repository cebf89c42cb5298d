-- Data transfer (spec 002 §4): export jobs run by the worker, scheduled exports, and
-- CSV imports with their row errors. Columns of spec 002's export_jobs / import_jobs,
-- plus what leases, progress, expiry and idempotency need.
CREATE TABLE export_schedules (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    entity_type     TEXT NOT NULL,
    format          TEXT NOT NULL DEFAULT 'csv' CHECK (format IN ('csv', 'xlsx')),
    filters         JSONB NOT NULL DEFAULT '{}',   -- per-entity filters (no from/to)
    columns         TEXT[],
    bom             BOOLEAN NOT NULL DEFAULT false,
    window_seconds  BIGINT CHECK (window_seconds IS NULL OR window_seconds > 0), -- rows of the last N seconds
    interval_kind   TEXT NOT NULL CHECK (interval_kind IN ('daily', 'weekly', 'cron')),
    cron            TEXT,                          -- 5 fields, when interval_kind = 'cron'
    time_zone       TEXT NOT NULL DEFAULT 'UTC',
    next_run_at     TIMESTAMPTZ NOT NULL,
    last_run_at     TIMESTAMPTZ,
    last_job_id     UUID,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX export_schedules_user ON export_schedules (user_id, created_at DESC);
CREATE INDEX export_schedules_due ON export_schedules (next_run_at);

CREATE TABLE export_jobs (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    export_type      TEXT NOT NULL DEFAULT 'manual' CHECK (export_type IN ('manual', 'scheduled')),
    entity_type      TEXT NOT NULL,
    filters          JSONB NOT NULL DEFAULT '{}',  -- from/to resolved to absolute times
    columns          TEXT[],
    format           TEXT NOT NULL DEFAULT 'csv' CHECK (format IN ('csv', 'xlsx')),
    bom              BOOLEAN NOT NULL DEFAULT false,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'completed', 'failed', 'expired')),
    file_url         TEXT,                         -- the download route once completed
    file_name        TEXT,                         -- under SB_TRANSFER_DIR
    file_size        BIGINT,
    file_etag        TEXT,
    record_count     BIGINT,
    rows_written     BIGINT NOT NULL DEFAULT 0,    -- progress
    started_at       TIMESTAMPTZ,
    completed_at     TIMESTAMPTZ,
    expires_at       TIMESTAMPTZ,
    error_message    TEXT,
    schedule_id      UUID REFERENCES export_schedules(id) ON DELETE SET NULL,
    attempts         INT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    created_by       UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX export_jobs_user ON export_jobs (user_id, created_at DESC);
CREATE INDEX export_jobs_claim ON export_jobs (created_at) WHERE status IN ('pending', 'running');
CREATE INDEX export_jobs_expiry ON export_jobs (expires_at) WHERE status = 'completed';

CREATE TABLE import_jobs (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    import_type       TEXT NOT NULL CHECK (import_type IN ('all_or_nothing', 'valid_rows', 'dry_run')),
    entity_type       TEXT NOT NULL,
    file_url          TEXT NOT NULL,               -- "upload:<sha256 of the body>"
    original_filename TEXT,
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    total_rows        INT NOT NULL DEFAULT 0,
    processed_rows    INT NOT NULL DEFAULT 0,
    success_count     INT NOT NULL DEFAULT 0,
    error_count       INT NOT NULL DEFAULT 0,
    error_details     JSONB NOT NULL DEFAULT '[]', -- the first 100 {row, column, code, message}
    error_message     TEXT,
    idempotency_key   TEXT,
    started_at        TIMESTAMPTZ,
    completed_at      TIMESTAMPTZ,
    created_by        UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX import_jobs_user ON import_jobs (user_id, created_at DESC);
CREATE UNIQUE INDEX import_jobs_idempotency ON import_jobs (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Every failing row, with its cells as uploaded, for GET /import/{id}/errors.
CREATE TABLE import_errors (
    import_id   UUID NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    row_number  INT NOT NULL,
    cells       TEXT[] NOT NULL,
    errors      TEXT NOT NULL,                      -- "column: message; ..."
    PRIMARY KEY (import_id, row_number)
);
