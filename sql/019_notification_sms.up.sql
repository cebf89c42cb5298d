-- Notifications by SMS (issue 16): the channel may be 'sms', sent to the user's phone
-- number (E.164) through their Twilio connector, else their AWS SNS one.
ALTER TABLE notification_settings DROP CONSTRAINT IF EXISTS notification_settings_channel_check;
ALTER TABLE notification_settings ADD CONSTRAINT notification_settings_channel_check
    CHECK (channel IN ('email', 'sms'));
ALTER TABLE notification_settings ADD COLUMN sms_to VARCHAR(16)
    CHECK (sms_to ~ '^\+[1-9][0-9]{6,14}$');
ALTER TABLE notification_settings ADD CONSTRAINT notification_settings_sms_needs_number
    CHECK (channel <> 'sms' OR sms_to IS NOT NULL);
