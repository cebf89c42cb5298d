ALTER TABLE export_schedules DROP COLUMN IF EXISTS destination;
ALTER TABLE export_jobs
    DROP COLUMN IF EXISTS destination_status,
    DROP COLUMN IF EXISTS destination_key,
    DROP COLUMN IF EXISTS destination;
