DROP INDEX IF EXISTS webhook_deliveries_webhook_due;
DROP INDEX IF EXISTS webhook_deliveries_leased;
