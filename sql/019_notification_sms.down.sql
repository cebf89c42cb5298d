UPDATE notification_settings SET channel = 'email' WHERE channel = 'sms';
ALTER TABLE notification_settings DROP CONSTRAINT IF EXISTS notification_settings_sms_needs_number;
ALTER TABLE notification_settings DROP COLUMN IF EXISTS sms_to;
ALTER TABLE notification_settings DROP CONSTRAINT IF EXISTS notification_settings_channel_check;
ALTER TABLE notification_settings ADD CONSTRAINT notification_settings_channel_check
    CHECK (channel IN ('email'));
