-- The claim counts deliveries in flight per webhook: index just the leased rows (few at
-- any time; settling clears lease_owner) instead of scanning every pending delivery.
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (webhook_id) WHERE lease_owner IS NOT NULL;
-- The claim looks up each webhook's oldest due deliveries.
CREATE INDEX webhook_deliveries_webhook_due ON webhook_deliveries (webhook_id, next_attempt_at) WHERE status = 'pending';
