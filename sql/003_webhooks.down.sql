DROP TABLE IF EXISTS webhook_attempts;
DROP TABLE IF EXISTS webhook_deliveries;
DROP TABLE IF EXISTS event_types;
DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS webhooks;
