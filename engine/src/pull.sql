-- Pull routing (SPEC §4): "Next customer". Called by engine/src/pull.rs.
-- The function does every write of the press (entry, help session, seat,
-- agent, event) and returns the CONNECT event it wrote with the customer.
-- Locks as in every transition: the agent's state row first.

-- The head of the pull queues the agent serves, on a channel where they
-- have room, claimed with SKIP LOCKED and assigned at once. `outcome`:
-- 'taken' (with the customer and the event), 'empty', 'no_agent',
-- 'logged_out', 'wrap_up'; decoded in one place (pull.rs).
CREATE OR REPLACE FUNCTION take_next_customer(p_agent uuid)
RETURNS TABLE (outcome text, taken_name text, taken_reason text, taken_phone text, taken_channel text,
               event_id bigint, event_at timestamptz, event_kind text, event_session uuid,
               event_queue uuid, event_agent uuid, event_detail jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    agent record;
    head record;
    customer record;
    best uuid;
    logged events%ROWTYPE;
BEGIN
    -- Locking the agent's row serializes this agent's own presses.
    SELECT s.state, s.wrap_ups,
           ARRAY(SELECT c.channel FROM agent_channels c
                  WHERE c.representative_id = p_agent
                    AND c.live < c.max_live AND c.sessions < c.max_sessions) AS room,
           ARRAY(SELECT m.queue_id FROM queue_members m
                   JOIN queues q ON q.id = m.queue_id AND q.routing_mode = 'pull'
                  WHERE m.representative_id = p_agent AND queue_open(q.id, now())) AS queues
      INTO agent
      FROM agent_states s WHERE s.representative_id = p_agent
       FOR UPDATE;
    IF NOT FOUND THEN outcome := 'no_agent'; RETURN NEXT; RETURN; END IF;
    IF agent.state = 'LOGGED_OUT' THEN outcome := 'logged_out'; RETURN NEXT; RETURN; END IF;
    IF agent.wrap_ups > 0 THEN outcome := 'wrap_up'; RETURN NEXT; RETURN; END IF;
    LOOP
        -- The queue whose head comes first (priority, then time); read
        -- without locks, each queue by its index.
        SELECT q INTO best
          FROM unnest(agent.queues) AS q
         CROSS JOIN LATERAL (
               SELECT e.priority, e.enqueued_at, e.help_session_id FROM queue_entries e
                WHERE e.queue_id = q AND e.offered_to IS NULL AND e.channel = ANY (agent.room)
                  AND NOT e.away AND (e.not_before IS NULL OR e.not_before <= now())
                ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id LIMIT 1) AS h
         ORDER BY h.priority DESC, h.enqueued_at, h.help_session_id
         LIMIT 1;
        IF best IS NULL THEN outcome := 'empty'; RETURN NEXT; RETURN; END IF;
        -- Claimed with SKIP LOCKED: someone else's claim is never waited for.
        DELETE FROM queue_entries d
         WHERE d.help_session_id = (
               SELECT e.help_session_id FROM queue_entries e
                WHERE e.queue_id = best AND e.offered_to IS NULL AND e.channel = ANY (agent.room)
                  AND NOT e.away AND (e.not_before IS NULL OR e.not_before <= now())
                ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id
                LIMIT 1
                  FOR UPDATE SKIP LOCKED)
        RETURNING d.help_session_id, d.queue_id, d.channel INTO head;
        EXIT WHEN FOUND;
        -- Everyone waiting there is being claimed by others right now: the
        -- other queues' heads.
        agent.queues := array_remove(agent.queues, best);
    END LOOP;
    PERFORM seat(p_agent, head.channel, 1, 1);
    logged := connect_customer(p_agent, head.help_session_id, head.queue_id, 'pull');
    SELECT h.customer_name, h.reason, h.phone INTO customer FROM help_sessions h WHERE h.id = head.help_session_id;
    outcome := 'taken';
    taken_name := customer.customer_name;
    taken_reason := customer.reason;
    taken_phone := customer.phone;
    taken_channel := head.channel;
    event_id := logged.id;
    event_at := logged.at;
    event_kind := logged.kind;
    event_session := logged.help_session_id;
    event_queue := logged.queue_id;
    event_agent := logged.representative_id;
    event_detail := logged.detail;
    RETURN NEXT;
END
$$;
