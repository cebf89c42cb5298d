DROP TABLE IF EXISTS mqtt_relay_sessions;
DROP TABLE IF EXISTS mqtt_relay_tickets;
