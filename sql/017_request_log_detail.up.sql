-- What the request log keeps of a request (issue 12, spec 002's api_request_logs):
-- its query parameters as a JSON object and its body, both with secrets replaced by
-- "[REDACTED]" and the body capped at 4 KiB (lib/core/redact.h). The lists of
-- GET /api-keys/{id}/logs and /oauth/clients/{id}/logs use the (key|client, created_at)
-- indexes of 004.
ALTER TABLE api_request_logs
    ADD COLUMN query_params JSONB CHECK (query_params IS NULL OR jsonb_typeof(query_params) = 'object'),
    ADD COLUMN request_body TEXT CHECK (octet_length(request_body) <= 4096),
    ADD COLUMN request_body_truncated BOOLEAN NOT NULL DEFAULT false;
