DROP TABLE IF EXISTS github_sync_jobs;
