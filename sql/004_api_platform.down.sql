DROP TABLE IF EXISTS rate_limit_counters;
DROP TABLE IF EXISTS api_request_logs;
DROP TABLE IF EXISTS oauth_refresh_tokens;
DROP TABLE IF EXISTS oauth_access_tokens;
DROP TABLE IF EXISTS api_clients;
DROP TABLE IF EXISTS api_keys;
