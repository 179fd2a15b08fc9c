-- Matching in bulk. An offer pass makes many offers in one transaction, and
-- the "Next customer" presses and accepts that arrive at the same moment are
-- run together, one statement and one commit for the lot. Each is still the
-- transition of 0003, with its locks, its SKIP LOCKED claim and its event.

-- Offers (push) for the queue until one of the customers or the eligible
-- agents runs out, or `p_max` are made. Stops at the first customer nobody
-- can take at this moment (every eligible agent is being offered someone
-- else by another transaction, which offers again when it has finished).
DROP FUNCTION offer_next_customer(uuid);
CREATE FUNCTION offer_customers(p_queue uuid, p_max integer)
RETURNS TABLE (offered_session uuid, offered_agent uuid)
LANGUAGE plpgsql AS $$
DECLARE
    queue record;
    open_channels text[];
    head record;
    chosen uuid;
    made integer := 0;
BEGIN
    SELECT q.strategy, q.rona_seconds INTO queue FROM queues q WHERE q.id = p_queue AND q.routing_mode = 'push';
    IF NOT FOUND THEN RETURN; END IF;
    -- The channels on which some member could take someone now: for each,
    -- the first open seat (by its partial index) whose agent is available
    -- and serves here. The agent and membership checks are scalar
    -- subqueries so that they stay lookups of one row each, made seat by
    -- seat until one fits: as joins, the planner may choose (on statistics
    -- that lag behind a burst) to read every open seat and every agent.
    SELECT array_agg(wanted.kind) INTO open_channels
      FROM unnest(ARRAY['video', 'audio', 'chat', 'callback']) AS wanted (kind)
     CROSS JOIN LATERAL (
           SELECT 1 FROM agent_channels c
            WHERE c.channel = wanted.kind
              AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions
              AND (SELECT s.state = 'READY' AND s.wrap_ups = 0 FROM agent_states s
                    WHERE s.representative_id = c.representative_id)
              AND (SELECT true FROM queue_members m
                    WHERE m.queue_id = p_queue AND m.representative_id = c.representative_id)
            LIMIT 1) AS seat;
    WHILE made < p_max AND open_channels IS NOT NULL LOOP
        -- The head among customers on those channels (by the queue's
        -- index); one who was declined needs an eligible agent who has not
        -- declined them.
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
        EXIT WHEN NOT FOUND;
        -- The agent, by strategy. Their channel and state rows are locked:
        -- a concurrent change to either makes PostgreSQL re-check the
        -- conditions on the newest version, and a row another offer holds is
        -- skipped.
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
        -- Nobody can take this customer now (the last seat on their channel
        -- went to an earlier offer of this pass, or every eligible agent is
        -- being offered someone by another transaction): the caller looks
        -- again after this commits.
        EXIT WHEN NOT FOUND;
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
        made := made + 1;
        offered_session := head.help_session_id;
        offered_agent := chosen;
        RETURN NEXT;
    END LOOP;
END
$$;

-- "Next customer" for several agents in one transaction, in the order given
-- (the server sorts them, so two such statements take agents' locks in the
-- same order). One row per press, numbered from 1 as given.
CREATE FUNCTION take_next_customers(p_agents uuid[])
RETURNS TABLE (n integer, outcome text, taken_session uuid, taken_queue uuid, taken_channel text,
               customer_name text, reason text, phone text)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_agents), 0) LOOP
        RETURN QUERY SELECT i, t.* FROM take_next_customer(p_agents[i]) AS t;
    END LOOP;
END
$$;

-- Accepts for several agents in one transaction, as above.
CREATE FUNCTION accept_offers(p_agents uuid[], p_sessions uuid[])
RETURNS TABLE (n integer, outcome text, offered_queue uuid)
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(p_agents) IS DISTINCT FROM cardinality(p_sessions) THEN
        RAISE EXCEPTION 'accept_offers: % agents for % sessions', cardinality(p_agents), cardinality(p_sessions);
    END IF;
    FOR i IN 1 .. coalesce(cardinality(p_agents), 0) LOOP
        RETURN QUERY SELECT i, a.* FROM accept_offer(p_agents[i], p_sessions[i]) AS a;
    END LOOP;
END
$$;
