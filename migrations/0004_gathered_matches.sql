-- Matching in bulk. An offer pass makes many offers in one transaction, and
-- the "Next customer" presses and accepts that arrive at the same moment are
-- run together, one statement and one commit for the lot. Each is still the
-- transition of 0003, with its locks, its SKIP LOCKED claim and its event.

-- What each agent has in hand, summed over their channels: the order of
-- the longest_idle and least_connections strategies, kept in step with the
-- channels by a trigger so that it can be indexed.
ALTER TABLE agent_states
    ADD COLUMN live_total integer NOT NULL DEFAULT 0,
    ADD COLUMN sessions_total integer NOT NULL DEFAULT 0;
UPDATE agent_states s SET live_total = t.live, sessions_total = t.sessions
  FROM (SELECT representative_id, sum(live) AS live, sum(sessions) AS sessions
          FROM agent_channels GROUP BY representative_id) AS t
 WHERE t.representative_id = s.representative_id;

CREATE FUNCTION agent_channel_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE agent_states
       SET live_total = live_total + (CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE NEW.live END)
                                   - (CASE WHEN TG_OP = 'INSERT' THEN 0 ELSE OLD.live END),
           sessions_total = sessions_total + (CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE NEW.sessions END)
                                           - (CASE WHEN TG_OP = 'INSERT' THEN 0 ELSE OLD.sessions END)
     WHERE representative_id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.representative_id ELSE NEW.representative_id END);
    RETURN NULL;
END
$$;
CREATE TRIGGER agent_channel_totals_changed AFTER UPDATE OF live, sessions ON agent_channels
    FOR EACH ROW WHEN (OLD.live <> NEW.live OR OLD.sessions <> NEW.sessions)
    EXECUTE FUNCTION agent_channel_totals();
CREATE TRIGGER agent_channel_totals_added AFTER INSERT ON agent_channels
    FOR EACH ROW WHEN (NEW.live <> 0 OR NEW.sessions <> 0)
    EXECUTE FUNCTION agent_channel_totals();
CREATE TRIGGER agent_channel_totals_removed AFTER DELETE ON agent_channels
    FOR EACH ROW WHEN (OLD.live <> 0 OR OLD.sessions <> 0)
    EXECUTE FUNCTION agent_channel_totals();

-- The available agents (READY, not in wrap-up) in the order of each
-- strategy that has a fixed order: an offer walks its strategy's index and
-- stops at the first agent who can take the customer, however many are
-- available. (The queries state these conditions word for word, so
-- PostgreSQL uses them.)
DROP INDEX agent_states_available_idx;
CREATE INDEX agent_states_longest_idle_idx ON agent_states (sessions_total, idle_since, representative_id)
    WHERE state = 'READY' AND wrap_ups = 0;
CREATE INDEX agent_states_least_connections_idx ON agent_states (live_total, idle_since, representative_id)
    WHERE state = 'READY' AND wrap_ups = 0;
CREATE INDEX agent_states_round_robin_idx ON agent_states (last_offered_at NULLS FIRST, idle_since, representative_id)
    WHERE state = 'READY' AND wrap_ups = 0;

-- Whether an available agent can take a customer of this queue on this
-- channel now: a member, with the channel READY and room left on it.
CREATE FUNCTION can_take(p_agent uuid, p_queue uuid, p_channel text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM queue_members m WHERE m.queue_id = p_queue AND m.representative_id = p_agent)
       AND EXISTS (SELECT 1 FROM agent_channels c
                    WHERE c.representative_id = p_agent AND c.channel = p_channel
                      AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions)
$$;

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
    passed uuid[];
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
        -- The agent, by strategy: the first available agent in the order
        -- of the strategy's index who serves here with room on the channel
        -- and has not declined this customer. Their state row is locked,
        -- skipping one another offer holds; PostgreSQL re-checks the state
        -- on its newest version. Every change to an agent's channels
        -- happens under that lock, so once it is held the channel row is
        -- locked too and its room checked on its newest version; without
        -- room (it changed since this statement began), the next agent.
        passed := head.declined_by;
        LOOP
            IF queue.strategy = 'longest_idle' THEN
                SELECT s.representative_id INTO chosen FROM agent_states s
                 WHERE s.state = 'READY' AND s.wrap_ups = 0
                   AND NOT (s.representative_id = ANY (passed))
                   AND can_take(s.representative_id, p_queue, head.channel)
                 ORDER BY s.sessions_total, s.idle_since, s.representative_id
                 LIMIT 1
                   FOR UPDATE OF s SKIP LOCKED;
            ELSIF queue.strategy = 'least_connections' THEN
                SELECT s.representative_id INTO chosen FROM agent_states s
                 WHERE s.state = 'READY' AND s.wrap_ups = 0
                   AND NOT (s.representative_id = ANY (passed))
                   AND can_take(s.representative_id, p_queue, head.channel)
                 ORDER BY s.live_total, s.idle_since, s.representative_id
                 LIMIT 1
                   FOR UPDATE OF s SKIP LOCKED;
            ELSIF queue.strategy = 'round_robin' THEN
                SELECT s.representative_id INTO chosen FROM agent_states s
                 WHERE s.state = 'READY' AND s.wrap_ups = 0
                   AND NOT (s.representative_id = ANY (passed))
                   AND can_take(s.representative_id, p_queue, head.channel)
                 ORDER BY s.last_offered_at NULLS FIRST, s.idle_since, s.representative_id
                 LIMIT 1
                   FOR UPDATE OF s SKIP LOCKED;
            ELSE
                -- fewest_handled_today: "today" moves, so no index keeps
                -- this order; the available agents are sorted.
                SELECT s.representative_id INTO chosen FROM agent_states s
                 WHERE s.state = 'READY' AND s.wrap_ups = 0
                   AND NOT (s.representative_id = ANY (passed))
                   AND can_take(s.representative_id, p_queue, head.channel)
                 ORDER BY CASE WHEN s.handled_day = current_date THEN s.handled_on_day ELSE 0 END,
                          s.idle_since, s.representative_id
                 LIMIT 1
                   FOR UPDATE OF s SKIP LOCKED;
            END IF;
            EXIT WHEN chosen IS NULL;
            PERFORM 1 FROM agent_channels c
              WHERE c.representative_id = chosen AND c.channel = head.channel
                AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions
                FOR UPDATE;
            EXIT WHEN FOUND;
            passed := passed || chosen;
        END LOOP;
        -- Nobody can take this customer now (the last seat on their channel
        -- went to an earlier offer of this pass, or every eligible agent is
        -- being offered someone by another transaction): the caller looks
        -- again after this commits.
        EXIT WHEN chosen IS NULL;
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
