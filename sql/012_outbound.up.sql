-- Outside APIs used the way their owners ask (spec 004, issue 11): per service host and
-- caller (a hash of the credential the call carries, so per user; '*' for the whole
-- host) a client-side call window and the time the service asked us to wait until; and
-- the ETag cache of list endpoints, per caller, with a short lifetime.
CREATE TABLE outbound_quota (
    host          TEXT NOT NULL,
    caller        TEXT NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL DEFAULT now(),
    calls         INTEGER NOT NULL DEFAULT 0,
    blocked_until TIMESTAMPTZ,
    PRIMARY KEY (host, caller)
);

CREATE TABLE outbound_cache (
    host         TEXT NOT NULL,
    caller       TEXT NOT NULL,
    url_hash     TEXT NOT NULL,
    etag         TEXT NOT NULL,
    content_type TEXT,
    body         TEXT NOT NULL,
    stored_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (host, caller, url_hash)
);
CREATE INDEX outbound_cache_stored_at ON outbound_cache (stored_at);
