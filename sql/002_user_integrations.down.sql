DROP TABLE IF EXISTS user_integrations;
