DROP TABLE IF EXISTS import_errors;
DROP TABLE IF EXISTS import_jobs;
DROP TABLE IF EXISTS export_jobs;
DROP TABLE IF EXISTS export_schedules;
