ALTER TABLE api_request_logs
    DROP COLUMN IF EXISTS request_body_truncated,
    DROP COLUMN IF EXISTS request_body,
    DROP COLUMN IF EXISTS query_params;
