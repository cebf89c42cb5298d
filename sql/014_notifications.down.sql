DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS notification_settings;
