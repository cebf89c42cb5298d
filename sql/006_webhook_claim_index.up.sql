-- The claim counts deliveries in flight per webhook: index just the leased rows (few at
-- any time; settling clears lease_owner) instead of scanning every pending delivery.
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (webhook_id) WHERE lease_owner IS NOT NULL;
