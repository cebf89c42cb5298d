-- Export delivery to the user's object storage (issue 16): an export job, and each job
-- a schedule makes, may name a destination ({"type": "s3", "prefix": "..."}, using the
-- user's saved s3 integration). The runner uploads the finished file there and records
-- the object key; a failed upload fails the job.
ALTER TABLE export_jobs
    ADD COLUMN destination        JSONB,
    ADD COLUMN destination_key    TEXT,
    ADD COLUMN destination_status TEXT
        CHECK (destination_status IN ('pending', 'delivered', 'failed'));
ALTER TABLE export_schedules
    ADD COLUMN destination JSONB;
