-- Webhook payloads are rendered from the typed event by the sender, and
-- the map from event kinds to webhook types is a Rust `match` (issue 31;
-- engine/src/events/webhook.rs), which the server writes into the database
-- at start-up as the function `webhook_type`. A delivery keeps the event's
-- id; those queued before keep the payload they were given.
--
-- The old trigger read the table dropped here: it goes too, and the
-- server's start-up, right after its migrations, defines the new one
-- (engine/src/webhooks.sql). Events other servers append in between send
-- no webhooks: upgrade all servers together (README, "Several servers").
DROP TRIGGER IF EXISTS events_webhooks ON events;
DROP FUNCTION IF EXISTS webhook_fan_out();
ALTER TABLE webhook_deliveries ALTER COLUMN payload DROP NOT NULL;
DROP TABLE webhook_types;
