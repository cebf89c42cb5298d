-- Per-webhook delivery options (issue 12): the body's shape (payload_format, a field
-- filter of JSON pointers over data), static headers, the receiver's allowed addresses,
-- and when failing deliveries switch the webhook off (NULL: the operator's default).
ALTER TABLE webhooks
    ADD COLUMN payload_format TEXT NOT NULL DEFAULT 'standard' CHECK (payload_format IN ('standard', 'envelope')),
    ADD COLUMN include_fields JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(include_fields) = 'array'),
    ADD COLUMN exclude_fields JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(exclude_fields) = 'array'),
    ADD COLUMN custom_headers JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom_headers) = 'object'),
    ADD COLUMN allowed_ips JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(allowed_ips) = 'array'),
    ADD COLUMN disable_after_failures INT CHECK (disable_after_failures BETWEEN 0 AND 10000),
    ADD COLUMN disable_after_days INT CHECK (disable_after_days BETWEEN 0 AND 365),
    ADD COLUMN consecutive_failures INT NOT NULL DEFAULT 0;

-- Separate read and write budgets per API key and per OAuth client (issue 12); NULL:
-- rate_limit_per_hour is the budget of both.
ALTER TABLE api_keys
    ADD COLUMN rate_limit_read_per_hour INT CHECK (rate_limit_read_per_hour BETWEEN 1 AND 1000000),
    ADD COLUMN rate_limit_write_per_hour INT CHECK (rate_limit_write_per_hour BETWEEN 1 AND 1000000);
ALTER TABLE api_clients
    ADD COLUMN rate_limit_read_per_hour INT CHECK (rate_limit_read_per_hour BETWEEN 1 AND 1000000),
    ADD COLUMN rate_limit_write_per_hour INT CHECK (rate_limit_write_per_hour BETWEEN 1 AND 1000000);
