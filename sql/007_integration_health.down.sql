DROP INDEX IF EXISTS user_integrations_last_checked;
DROP TABLE IF EXISTS integration_health_checks;
