-- Webhooks (issue 20): every event appended to the log becomes, in the same
-- transaction, one delivery per enabled endpoint that asked for its type
-- (webhook_types maps the log's kinds to the types receivers see). So an
-- event is never lost between the log and the outbox, and a change rolled
-- back sends nothing. The workers (server/src/webhooks.rs) send them.
--
-- The payload is {type, timestamp, data}: data holds the event's own
-- fields, its id, the help session, queue and representative it is about,
-- and `sequence`, the event's place among its help session's events (1 =
-- first), for receivers to put them in order.
CREATE OR REPLACE FUNCTION webhook_fan_out()
RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    hook_type text;
    place bigint;
BEGIN
    SELECT type INTO hook_type FROM webhook_types WHERE kind = NEW.kind;
    IF hook_type IS NULL
       OR NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND hook_type = ANY (event_types)) THEN
        RETURN NULL;
    END IF;
    IF NEW.help_session_id IS NOT NULL THEN
        SELECT count(*) INTO place FROM events WHERE help_session_id = NEW.help_session_id AND id <= NEW.id;
    END IF;
    INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload)
    SELECT e.id, NEW.id, hook_type,
           jsonb_build_object(
               'type', hook_type,
               'timestamp', to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'data', NEW.detail || jsonb_strip_nulls(jsonb_build_object(
                   'event_id', NEW.id,
                   'help_session_id', NEW.help_session_id,
                   'queue_id', NEW.queue_id,
                   'agent_id', NEW.representative_id,
                   'sequence', place)))
      FROM webhook_endpoints e
     WHERE e.enabled AND hook_type = ANY (e.event_types);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER events_webhooks AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION webhook_fan_out();
