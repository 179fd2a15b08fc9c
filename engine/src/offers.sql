-- Push routing (SPEC §4): the offer of a waiting customer to one agent, and
-- the agent's accept. Called by engine/src/offers.rs; `connect_customer`
-- is the pull's too (pull.sql). Each function does every write of its
-- transition (entry, offer, help session, seats, agent, events) and returns
-- the events it wrote, which the server announces after the commit.
--
-- Locks, as in every transition: the agent's state row, then queue entries,
-- then offers, then help sessions, then the agent's channel rows. An offer
-- takes customers and agents with SKIP LOCKED, so it never waits for them.

-- Whether anybody at all has an open seat on a channel: one index step.
CREATE INDEX IF NOT EXISTS agent_channels_open_idx ON agent_channels (channel, representative_id)
    WHERE ready AND live < max_live AND sessions < max_sessions;
-- The available agents (READY, not in wrap-up) in the order of each
-- strategy that has a fixed order: an offer walks its strategy's index and
-- stops at the first agent who can take the customer. The queries below
-- state these conditions word for word, so PostgreSQL uses them.
CREATE INDEX IF NOT EXISTS agent_states_longest_idle_idx ON agent_states (sessions_total, idle_since, representative_id)
    WHERE state = 'READY' AND wrap_ups = 0;
CREATE INDEX IF NOT EXISTS agent_states_least_connections_idx ON agent_states (live_total, idle_since, representative_id)
    WHERE state = 'READY' AND wrap_ups = 0;
CREATE INDEX IF NOT EXISTS agent_states_round_robin_idx ON agent_states (last_offered_at NULLS FIRST, idle_since, representative_id)
    WHERE state = 'READY' AND wrap_ups = 0;

-- The agent the queue's strategy picks for a customer on `p_channel`: the
-- first available agent in the strategy's order who serves the queue, has
-- the channel READY with room on it, and is not in `p_passed` (who declined
-- the customer, or were found full). Their state row is locked, skipping one
-- another transaction holds; NULL when there is none. One query per
-- order, conditions written out: a single query ordered by a CASE could use
-- none of the indexes, and the conditions as a SQL function are not
-- inlined (the walk then costs ten times as much).
CREATE OR REPLACE FUNCTION pick_agent(p_queue uuid, p_strategy text, p_channel text, p_passed uuid[])
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    chosen uuid;
BEGIN
    IF p_strategy = 'longest_idle' THEN
        SELECT s.representative_id INTO chosen FROM agent_states s
         WHERE s.state = 'READY' AND s.wrap_ups = 0
           AND NOT (s.representative_id = ANY (p_passed))
           AND EXISTS (SELECT 1 FROM queue_members m WHERE m.queue_id = p_queue AND m.representative_id = s.representative_id)
           AND EXISTS (SELECT 1 FROM agent_channels c
                        WHERE c.representative_id = s.representative_id AND c.channel = p_channel
                          AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions)
         ORDER BY s.sessions_total, s.idle_since, s.representative_id
         LIMIT 1
           FOR UPDATE OF s SKIP LOCKED;
    ELSIF p_strategy = 'least_connections' THEN
        SELECT s.representative_id INTO chosen FROM agent_states s
         WHERE s.state = 'READY' AND s.wrap_ups = 0
           AND NOT (s.representative_id = ANY (p_passed))
           AND EXISTS (SELECT 1 FROM queue_members m WHERE m.queue_id = p_queue AND m.representative_id = s.representative_id)
           AND EXISTS (SELECT 1 FROM agent_channels c
                        WHERE c.representative_id = s.representative_id AND c.channel = p_channel
                          AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions)
         ORDER BY s.live_total, s.idle_since, s.representative_id
         LIMIT 1
           FOR UPDATE OF s SKIP LOCKED;
    ELSIF p_strategy = 'round_robin' THEN
        SELECT s.representative_id INTO chosen FROM agent_states s
         WHERE s.state = 'READY' AND s.wrap_ups = 0
           AND NOT (s.representative_id = ANY (p_passed))
           AND EXISTS (SELECT 1 FROM queue_members m WHERE m.queue_id = p_queue AND m.representative_id = s.representative_id)
           AND EXISTS (SELECT 1 FROM agent_channels c
                        WHERE c.representative_id = s.representative_id AND c.channel = p_channel
                          AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions)
         ORDER BY s.last_offered_at NULLS FIRST, s.idle_since, s.representative_id
         LIMIT 1
           FOR UPDATE OF s SKIP LOCKED;
    ELSE
        -- fewest_handled_today: "today" moves, so no index keeps this
        -- order; the queue's available members are sorted.
        SELECT s.representative_id INTO chosen FROM agent_states s
         WHERE s.state = 'READY' AND s.wrap_ups = 0
           AND NOT (s.representative_id = ANY (p_passed))
           AND EXISTS (SELECT 1 FROM queue_members m WHERE m.queue_id = p_queue AND m.representative_id = s.representative_id)
           AND EXISTS (SELECT 1 FROM agent_channels c
                        WHERE c.representative_id = s.representative_id AND c.channel = p_channel
                          AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions)
         ORDER BY CASE WHEN s.handled_day = current_date THEN s.handled_on_day ELSE 0 END,
                  s.idle_since, s.representative_id
         LIMIT 1
           FOR UPDATE OF s SKIP LOCKED;
    END IF;
    RETURN chosen;
END
$$;

-- Offers for a push queue, each of the first waiting customer that someone
-- eligible can take, to the agent the strategy picks, until the customers
-- or the eligible agents run out or `p_max` are made. When nobody can take
-- the head's channel now, that channel is closed for the rest of the call
-- and the customers on other channels behind go on. Returns the OFFER
-- events.
CREATE OR REPLACE FUNCTION offer_customers(p_queue uuid, p_max integer)
RETURNS SETOF events
LANGUAGE plpgsql AS $$
DECLARE
    queue record;
    closed text[] := '{}';
    head record;
    chosen uuid;
    passed uuid[];
    made integer := 0;
    logged events%ROWTYPE;
BEGIN
    SELECT q.strategy, q.rona_seconds INTO queue FROM queues q WHERE q.id = p_queue AND q.routing_mode = 'push';
    IF NOT FOUND THEN RETURN; END IF;
    -- Closed: nobody is offered, callbacks included.
    IF NOT queue_open(p_queue, now()) THEN RETURN; END IF;
    WHILE made < p_max LOOP
        -- The head among customers on the channels still open; one who was
        -- declined needs an eligible agent who has not declined them.
        -- Passed over: a callback before its time, and a customer keeping
        -- their place while away.
        SELECT e.help_session_id, e.channel, e.declined_by INTO head
          FROM queue_entries e
         WHERE e.queue_id = p_queue AND e.offered_to IS NULL AND NOT (e.channel = ANY (closed))
           AND NOT e.away AND (e.not_before IS NULL OR e.not_before <= now())
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
        chosen := NULL;
        -- Without an open seat on the channel anywhere, nobody can take
        -- this customer: no walk.
        IF EXISTS (SELECT 1 FROM agent_channels c
                    WHERE c.channel = head.channel
                      AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions) THEN
            passed := head.declined_by;
            LOOP
                chosen := pick_agent(p_queue, queue.strategy, head.channel, passed);
                EXIT WHEN chosen IS NULL;
                -- Every change to an agent's channels is made under the
                -- lock of their state row, now held: the channel row is
                -- locked and its room checked on its newest version.
                PERFORM 1 FROM agent_channels c
                  WHERE c.representative_id = chosen AND c.channel = head.channel
                    AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions
                    FOR UPDATE;
                EXIT WHEN FOUND;
                passed := passed || chosen;
            END LOOP;
        END IF;
        -- Nobody can take this customer now (no seat on their channel, the
        -- last one went to an earlier offer of this call, every eligible
        -- agent is being offered someone by another transaction, or those
        -- with room declined them): their channel is closed for this call,
        -- and the caller looks again after the commit.
        IF chosen IS NULL THEN
            closed := closed || head.channel;
            CONTINUE;
        END IF;
        UPDATE queue_entries SET offered_to = chosen WHERE help_session_id = head.help_session_id;
        INSERT INTO offers (help_session_id, representative_id, queue_id, channel, expires_at)
        VALUES (head.help_session_id, chosen, p_queue, head.channel, now() + make_interval(secs => queue.rona_seconds));
        UPDATE help_sessions SET status = 'offered' WHERE id = head.help_session_id;
        PERFORM seat(chosen, head.channel, 1, 1);
        UPDATE agent_states SET last_offered_at = now() WHERE representative_id = chosen;
        INSERT INTO events (kind, help_session_id, queue_id, representative_id)
        VALUES ('OFFER', head.help_session_id, p_queue, chosen)
        RETURNING * INTO logged;
        RETURN NEXT logged;
        made := made + 1;
    END LOOP;
END
$$;

-- The customer is the agent's now (push accept or pull): talking, the
-- agent their owner (a participant), counted among the agent's handled
-- today, and CONNECT logged (the owner's join). The agent's state row is
-- locked and their seat taken already. A customer answered before (given
-- back, or transferred) keeps their first answer time.
CREATE OR REPLACE FUNCTION connect_customer(p_agent uuid, p_session uuid, p_queue uuid, p_mode text)
RETURNS events
LANGUAGE plpgsql AS $$
DECLARE
    logged events%ROWTYPE;
BEGIN
    UPDATE help_sessions
       SET status = 'active', agent_id = p_agent, answered_at = coalesce(answered_at, now()), parts = parts + 1
     WHERE id = p_session;
    INSERT INTO participants (help_session_id, representative_id, role, queue_id)
    VALUES (p_session, p_agent, 'agent', p_queue);
    UPDATE agent_states
       SET handled_on_day = CASE WHEN handled_day = current_date THEN handled_on_day + 1 ELSE 1 END,
           handled_day = current_date
     WHERE representative_id = p_agent;
    INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail)
    VALUES ('CONNECT', p_session, p_queue, p_agent, jsonb_build_object('mode', p_mode))
    RETURNING * INTO logged;
    RETURN logged;
END
$$;

-- The agent takes the customer offered to them. Returns the CONNECT event
-- (and, for a transfer to them by name, the TRANSFER accepted about who
-- asked), or nothing when the offer has ended (answered, expired, or the
-- customer left).
CREATE OR REPLACE FUNCTION accept_offer(p_agent uuid, p_session uuid)
RETURNS SETOF events
LANGUAGE plpgsql AS $$
DECLARE
    offer record;
    logged events%ROWTYPE;
BEGIN
    PERFORM 1 FROM agent_states s WHERE s.representative_id = p_agent FOR UPDATE;
    -- Past its time the offer is the sweeper's (RONA), even if the sweeper
    -- has not got to it yet.
    PERFORM 1 FROM offers o WHERE o.help_session_id = p_session AND o.representative_id = p_agent AND o.expires_at > now();
    IF NOT FOUND THEN RETURN; END IF;
    DELETE FROM queue_entries e WHERE e.help_session_id = p_session AND e.offered_to = p_agent;
    IF NOT FOUND THEN RETURN; END IF;
    DELETE FROM offers o WHERE o.help_session_id = p_session AND o.representative_id = p_agent
    RETURNING o.queue_id, o.transfer_from INTO offer;
    IF NOT FOUND THEN
        -- An entry offered to an agent always has its offer; never commit
        -- the half of a broken pair.
        RAISE EXCEPTION 'offer of % to % is missing', p_session, p_agent;
    END IF;
    RETURN NEXT connect_customer(p_agent, p_session, offer.queue_id, 'push');
    IF offer.transfer_from IS NOT NULL THEN
        INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail)
        VALUES ('TRANSFER', p_session, offer.queue_id, offer.transfer_from,
                jsonb_build_object('stage', 'accepted', 'to_queue', offer.queue_id, 'to_agent', p_agent))
        RETURNING * INTO logged;
        RETURN NEXT logged;
    END IF;
END
$$;
