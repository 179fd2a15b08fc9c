-- Webhooks (issue 20): every event appended to the log becomes, in the same
-- transaction, one delivery per enabled endpoint that asked for its type
-- (`webhook_type`, written from the Rust map in engine/src/events/webhook.rs).
-- So an event is never lost between the log and the outbox, and a change
-- rolled back sends nothing. A delivery keeps the event's id; the sender
-- (server/src/webhooks.rs) renders the payload from the event.
CREATE OR REPLACE FUNCTION webhook_fan_out()
RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    hook_type text := webhook_type(NEW.kind);
BEGIN
    IF hook_type IS NOT NULL THEN
        INSERT INTO webhook_deliveries (endpoint_id, event_id, type)
        SELECT e.id, NEW.id, hook_type
          FROM webhook_endpoints e
         WHERE e.enabled AND hook_type = ANY (e.event_types);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER events_webhooks AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION webhook_fan_out();
