DROP TABLE IF EXISTS outbound_cache;
DROP TABLE IF EXISTS outbound_quota;
