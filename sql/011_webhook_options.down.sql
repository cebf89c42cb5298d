ALTER TABLE webhooks
    DROP COLUMN IF EXISTS payload_format,
    DROP COLUMN IF EXISTS include_fields,
    DROP COLUMN IF EXISTS exclude_fields,
    DROP COLUMN IF EXISTS custom_headers,
    DROP COLUMN IF EXISTS allowed_ips,
    DROP COLUMN IF EXISTS disable_after_failures,
    DROP COLUMN IF EXISTS disable_after_days,
    DROP COLUMN IF EXISTS consecutive_failures;
ALTER TABLE api_keys DROP COLUMN IF EXISTS rate_limit_read_per_hour, DROP COLUMN IF EXISTS rate_limit_write_per_hour;
ALTER TABLE api_clients DROP COLUMN IF EXISTS rate_limit_read_per_hour, DROP COLUMN IF EXISTS rate_limit_write_per_hour;
