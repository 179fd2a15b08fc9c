-- The three transitions that match customers with representatives, as
-- functions: each is one statement from the server, so one round trip and
-- one transaction, and its plans are prepared once per connection. The
-- rules are those of SPEC §4; the lock order is the engine's (agent state,
-- then queue entries, then offers, then help sessions, then agent channels).
-- Each appends its event; the server announces it after the commit.

-- "Next customer" (pull): the head of the pull queues the agent serves, on a
-- channel where the agent has room.
-- outcome: 'taken' (with the customer), 'empty', 'no_agent', 'logged_out',
-- 'wrap_up'.
CREATE FUNCTION take_next_customer(p_agent uuid)
RETURNS TABLE (outcome text, taken_session uuid, taken_queue uuid, taken_channel text,
               customer_name text, reason text, phone text)
LANGUAGE plpgsql AS $$
DECLARE
    agent record;
    head record;
    customer record;
    best uuid;
BEGIN
    -- Locking the agent's row serializes this agent's own concurrent presses.
    SELECT s.state, s.wrap_ups,
           ARRAY(SELECT c.channel FROM agent_channels c
                  WHERE c.representative_id = p_agent
                    AND c.live < c.max_live AND c.sessions < c.max_sessions) AS room,
           ARRAY(SELECT m.queue_id FROM queue_members m
                   JOIN queues q ON q.id = m.queue_id AND q.routing_mode = 'pull'
                  WHERE m.representative_id = p_agent) AS queues
      INTO agent
      FROM agent_states s WHERE s.representative_id = p_agent
       FOR UPDATE;
    IF NOT FOUND THEN outcome := 'no_agent'; RETURN NEXT; RETURN; END IF;
    IF agent.state = 'LOGGED_OUT' THEN outcome := 'logged_out'; RETURN NEXT; RETURN; END IF;
    IF agent.wrap_ups > 0 THEN outcome := 'wrap_up'; RETURN NEXT; RETURN; END IF;
    LOOP
        -- The queue whose head comes first (priority, then time); read
        -- without locks, each queue by its index.
        IF cardinality(agent.queues) = 1 THEN
            best := agent.queues[1];
        ELSE
            SELECT q INTO best
              FROM unnest(agent.queues) AS q
             CROSS JOIN LATERAL (
                   SELECT e.priority, e.enqueued_at, e.help_session_id FROM queue_entries e
                    WHERE e.queue_id = q AND e.offered_to IS NULL AND e.channel = ANY (agent.room)
                    ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id LIMIT 1) AS h
             ORDER BY h.priority DESC, h.enqueued_at, h.help_session_id
             LIMIT 1;
        END IF;
        IF best IS NULL THEN outcome := 'empty'; RETURN NEXT; RETURN; END IF;
        -- Claimed with SKIP LOCKED: someone else's claim is never waited for.
        DELETE FROM queue_entries d
         WHERE d.help_session_id = (
               SELECT e.help_session_id FROM queue_entries e
                WHERE e.queue_id = best AND e.offered_to IS NULL AND e.channel = ANY (agent.room)
                ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id
                LIMIT 1
                  FOR UPDATE SKIP LOCKED)
        RETURNING d.help_session_id, d.queue_id, d.channel INTO head;
        EXIT WHEN FOUND;
        -- Everyone in that queue was being claimed at once: look again.
        IF cardinality(agent.queues) = 1 THEN outcome := 'empty'; RETURN NEXT; RETURN; END IF;
        best := NULL;
    END LOOP;
    WITH answered AS (
             UPDATE help_sessions h SET status = 'active', agent_id = p_agent, answered_at = now()
              WHERE h.id = head.help_session_id
          RETURNING h.customer_name, h.reason, h.phone),
         seat AS (
             UPDATE agent_channels c SET live = c.live + 1, sessions = c.sessions + 1
              WHERE c.representative_id = p_agent AND c.channel = head.channel),
         handled AS (
             UPDATE agent_states a
                SET handled_on_day = CASE WHEN a.handled_day = current_date THEN a.handled_on_day + 1 ELSE 1 END,
                    handled_day = current_date
              WHERE a.representative_id = p_agent),
         logged AS (
             INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail)
             VALUES ('CONNECT', head.help_session_id, head.queue_id, p_agent, '{"mode": "pull"}'))
    SELECT * INTO customer FROM answered;
    outcome := 'taken';
    taken_session := head.help_session_id;
    taken_queue := head.queue_id;
    taken_channel := head.channel;
    customer_name := customer.customer_name;
    reason := customer.reason;
    phone := customer.phone;
    RETURN NEXT;
END
$$;

-- One offer (push): the first waiting customer of the queue that some
-- eligible agent can take, to the agent the queue's strategy picks. No row
-- when there is none to make.
CREATE FUNCTION offer_next_customer(p_queue uuid)
RETURNS TABLE (offered_session uuid, offered_agent uuid)
LANGUAGE plpgsql AS $$
DECLARE
    queue record;
    open_channels text[];
    head record;
    chosen uuid;
BEGIN
    SELECT q.strategy, q.rona_seconds INTO queue FROM queues q WHERE q.id = p_queue AND q.routing_mode = 'push';
    IF NOT FOUND THEN RETURN; END IF;
    -- The channels on which some member could take someone now: for each,
    -- the first open seat (by its partial index) whose agent serves here.
    SELECT array_agg(wanted.kind) INTO open_channels
      FROM unnest(ARRAY['video', 'audio', 'chat', 'callback']) AS wanted (kind)
     WHERE EXISTS (
           SELECT 1 FROM agent_channels c
             JOIN agent_states s ON s.representative_id = c.representative_id
             JOIN queue_members m ON m.representative_id = c.representative_id AND m.queue_id = p_queue
            WHERE c.channel = wanted.kind
              AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions
              AND s.state = 'READY' AND s.wrap_ups = 0);
    IF open_channels IS NULL THEN RETURN; END IF;
    -- The head among customers on those channels (by the queue's index); one
    -- who was declined needs an eligible agent who has not declined them.
    SELECT e.help_session_id, e.channel, e.declined_by INTO head
      FROM queue_entries e
     WHERE e.queue_id = p_queue AND e.offered_to IS NULL AND e.channel = ANY (open_channels)
       AND (cardinality(e.declined_by) = 0 OR EXISTS (
             SELECT 1 FROM queue_members m
               JOIN agent_states s ON s.representative_id = m.representative_id
               JOIN agent_channels c ON c.representative_id = m.representative_id AND c.channel = e.channel
              WHERE m.queue_id = e.queue_id
                AND s.state = 'READY' AND s.wrap_ups = 0
                AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions
                AND NOT (m.representative_id = ANY (e.declined_by))))
     ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id
     LIMIT 1
       FOR UPDATE OF e SKIP LOCKED;
    IF NOT FOUND THEN RETURN; END IF;
    -- The agent, by strategy. Their channel and state rows are locked: a
    -- concurrent change to either makes PostgreSQL re-check the conditions
    -- on the newest version, and a row another offer holds is skipped.
    SELECT c.representative_id INTO chosen
      FROM queue_members m
      JOIN agent_states s ON s.representative_id = m.representative_id
      JOIN agent_channels c ON c.representative_id = m.representative_id AND c.channel = head.channel
     WHERE m.queue_id = p_queue
       AND s.state = 'READY' AND s.wrap_ups = 0
       AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions
       AND NOT (m.representative_id = ANY (head.declined_by))
     ORDER BY
       CASE WHEN queue.strategy = 'least_connections'
            THEN (SELECT sum(a.live) FROM agent_channels a WHERE a.representative_id = s.representative_id) END,
       CASE WHEN queue.strategy = 'fewest_handled_today'
            THEN CASE WHEN s.handled_day = current_date THEN s.handled_on_day ELSE 0 END END,
       CASE WHEN queue.strategy = 'round_robin' THEN s.last_offered_at END NULLS FIRST,
       CASE WHEN queue.strategy = 'longest_idle'
            THEN (SELECT sum(a.sessions) FROM agent_channels a WHERE a.representative_id = s.representative_id) END,
       s.idle_since,
       s.representative_id
     LIMIT 1
       FOR UPDATE OF c, s SKIP LOCKED;
    -- Every eligible agent is being offered someone else right now; those
    -- transactions dispatch again when they finish.
    IF NOT FOUND THEN RETURN; END IF;
    WITH reserved AS (
             UPDATE queue_entries SET offered_to = chosen WHERE help_session_id = head.help_session_id),
         new_offer AS (
             INSERT INTO offers (help_session_id, representative_id, queue_id, channel, expires_at)
             VALUES (head.help_session_id, chosen, p_queue, head.channel,
                     now() + make_interval(secs => queue.rona_seconds))),
         offered AS (
             UPDATE help_sessions SET status = 'offered' WHERE id = head.help_session_id),
         seat AS (
             UPDATE agent_channels SET live = live + 1, sessions = sessions + 1
              WHERE representative_id = chosen AND channel = head.channel),
         last_offer AS (
             UPDATE agent_states SET last_offered_at = now() WHERE representative_id = chosen)
    INSERT INTO events (kind, help_session_id, queue_id, representative_id)
    VALUES ('OFFER', head.help_session_id, p_queue, chosen);
    offered_session := head.help_session_id;
    offered_agent := chosen;
    RETURN NEXT;
END
$$;

-- The agent takes the customer offered to them.
-- outcome: 'connected' (with the queue), 'gone' (the offer has ended), 'no_agent'.
CREATE FUNCTION accept_offer(p_agent uuid, p_session uuid)
RETURNS TABLE (outcome text, offered_queue uuid)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM agent_states s WHERE s.representative_id = p_agent FOR UPDATE;
    IF NOT FOUND THEN outcome := 'no_agent'; RETURN NEXT; RETURN; END IF;
    DELETE FROM queue_entries e WHERE e.help_session_id = p_session AND e.offered_to = p_agent;
    IF NOT FOUND THEN outcome := 'gone'; RETURN NEXT; RETURN; END IF;
    DELETE FROM offers o WHERE o.help_session_id = p_session AND o.representative_id = p_agent
    RETURNING o.queue_id INTO offered_queue;
    IF NOT FOUND THEN
        -- An entry offered to an agent always has its offer; never commit
        -- the half of a broken pair.
        RAISE EXCEPTION 'offer of % to % is missing', p_session, p_agent;
    END IF;
    WITH answered AS (
             UPDATE help_sessions h SET status = 'active', agent_id = p_agent, answered_at = now()
              WHERE h.id = p_session),
         handled AS (
             UPDATE agent_states a
                SET handled_on_day = CASE WHEN a.handled_day = current_date THEN a.handled_on_day + 1 ELSE 1 END,
                    handled_day = current_date
              WHERE a.representative_id = p_agent)
    INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail)
    VALUES ('CONNECT', p_session, offered_queue, p_agent, '{"mode": "push"}');
    outcome := 'connected';
    RETURN NEXT;
END
$$;

-- Who can take a customer now, found without reading everyone: the channel
-- seats that are open, and the agents who are READY and not in wrap-up.
-- (The routing queries repeat these conditions, so PostgreSQL uses them.)
CREATE INDEX agent_channels_open_idx ON agent_channels (channel, representative_id)
    WHERE ready AND live < max_live AND sessions < max_sessions;
CREATE INDEX agent_states_available_idx ON agent_states (representative_id)
    WHERE state = 'READY' AND wrap_ups = 0;
