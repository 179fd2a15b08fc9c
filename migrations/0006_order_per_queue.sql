-- Each queue keeps its own order of available agents. Until now an offer
-- walked one order of every available agent and passed, one by one, those
-- who serve other queues: with several teams, most of a walk. Now each
-- membership row carries its agent's availability and the columns the
-- strategies order by, copied from the agent's state in the same statement
-- that changes them, and each strategy's index starts with the queue.
ALTER TABLE queue_members
    -- READY and not in wrap-up.
    ADD COLUMN available       boolean NOT NULL DEFAULT false,
    ADD COLUMN sessions_total  integer NOT NULL DEFAULT 0,
    ADD COLUMN live_total      integer NOT NULL DEFAULT 0,
    ADD COLUMN idle_since      timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_offered_at timestamptz;

UPDATE queue_members m
   SET available = (s.state = 'READY' AND s.wrap_ups = 0),
       sessions_total = s.sessions_total, live_total = s.live_total,
       idle_since = s.idle_since, last_offered_at = s.last_offered_at
  FROM agent_states s
 WHERE s.representative_id = m.representative_id;

-- The copy is kept while the agent is available and when they become or
-- stop being available; an unavailable agent is in no order, so the
-- changes of an agent who is not READY (a "Next customer" press, for one)
-- write nothing more.
CREATE FUNCTION agent_order_to_members() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queue_members m
       SET available = (NEW.state = 'READY' AND NEW.wrap_ups = 0),
           sessions_total = NEW.sessions_total, live_total = NEW.live_total,
           idle_since = NEW.idle_since, last_offered_at = NEW.last_offered_at
     WHERE m.representative_id = NEW.representative_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER agent_order_changed AFTER UPDATE ON agent_states
    FOR EACH ROW
    WHEN (((OLD.state = 'READY' AND OLD.wrap_ups = 0) OR (NEW.state = 'READY' AND NEW.wrap_ups = 0))
          AND (OLD.state, OLD.wrap_ups, OLD.sessions_total, OLD.live_total, OLD.idle_since, OLD.last_offered_at)
              IS DISTINCT FROM (NEW.state, NEW.wrap_ups, NEW.sessions_total, NEW.live_total, NEW.idle_since, NEW.last_offered_at))
    EXECUTE FUNCTION agent_order_to_members();
CREATE TRIGGER agent_order_added AFTER INSERT ON agent_states
    FOR EACH ROW WHEN (NEW.state = 'READY' AND NEW.wrap_ups = 0)
    EXECUTE FUNCTION agent_order_to_members();

-- A new membership starts from the agent's state, read under a share lock:
-- a change to the agent that is being committed is waited for, so the copy
-- can't miss it. (Agent first, as everywhere: callers adding several
-- members add them in the order of their ids.)
CREATE FUNCTION member_order_from_agent() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    agent record;
BEGIN
    SELECT s.state = 'READY' AND s.wrap_ups = 0 AS available, s.sessions_total, s.live_total,
           s.idle_since, s.last_offered_at
      INTO agent
      FROM agent_states s WHERE s.representative_id = NEW.representative_id
       FOR SHARE;
    IF FOUND THEN
        NEW.available := agent.available;
        NEW.sessions_total := agent.sessions_total;
        NEW.live_total := agent.live_total;
        NEW.idle_since := agent.idle_since;
        NEW.last_offered_at := agent.last_offered_at;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER member_order_added BEFORE INSERT ON queue_members
    FOR EACH ROW EXECUTE FUNCTION member_order_from_agent();

-- The strategies' orders, per queue.
CREATE INDEX queue_members_longest_idle_idx ON queue_members (queue_id, sessions_total, idle_since, representative_id)
    WHERE available;
CREATE INDEX queue_members_least_connections_idx ON queue_members (queue_id, live_total, idle_since, representative_id)
    WHERE available;
CREATE INDEX queue_members_round_robin_idx ON queue_members (queue_id, last_offered_at NULLS FIRST, idle_since, representative_id)
    WHERE available;
-- The orders of every agent are no longer read; without them, most
-- changes to an agent's state are written in place (HOT).
DROP INDEX agent_states_longest_idle_idx;
DROP INDEX agent_states_least_connections_idx;
DROP INDEX agent_states_round_robin_idx;

-- Whether the agent has the channel READY with room left on it.
CREATE FUNCTION seat_open(p_agent uuid, p_channel text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM agent_channels c
                    WHERE c.representative_id = p_agent AND c.channel = p_channel
                      AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions)
$$;

-- As in 0004, with each walk over the queue's own order of its members,
-- and without looking for open channels before the heads: the pass takes
-- the head, and when nobody can take its channel now, goes on with the
-- others (at most four times, once per channel). A pass with nobody
-- waiting costs one index probe, and one whose customers wait for busy
-- agents one probe of the open seats per channel.
CREATE OR REPLACE FUNCTION offer_customers(p_queue uuid, p_max integer)
RETURNS TABLE (offered_session uuid, offered_agent uuid)
LANGUAGE plpgsql AS $$
DECLARE
    queue record;
    closed text[] := '{}';
    head record;
    chosen uuid;
    passed uuid[];
    made integer := 0;
BEGIN
    SELECT q.strategy, q.rona_seconds INTO queue FROM queues q WHERE q.id = p_queue AND q.routing_mode = 'push';
    IF NOT FOUND THEN RETURN; END IF;
    WHILE made < p_max LOOP
        -- The head among customers on channels not closed in this pass (by
        -- the queue's index); one who was declined needs an eligible agent
        -- who has not declined them.
        SELECT e.help_session_id, e.channel, e.declined_by INTO head
          FROM queue_entries e
         WHERE e.queue_id = p_queue AND e.offered_to IS NULL AND NOT (e.channel = ANY (closed))
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
        -- Without an open seat on the channel anywhere (by the open-seat
        -- index of 0003), nobody can take this customer: no walk.
        IF NOT EXISTS (SELECT 1 FROM agent_channels c
                        WHERE c.channel = head.channel
                          AND c.ready AND c.live < c.max_live AND c.sessions < c.max_sessions) THEN
            closed := closed || head.channel;
            CONTINUE;
        END IF;
        passed := head.declined_by;
        LOOP
            IF queue.strategy = 'longest_idle' THEN
                SELECT m.representative_id INTO chosen
                  FROM queue_members m JOIN agent_states s ON s.representative_id = m.representative_id
                 WHERE m.queue_id = p_queue AND m.available
                   AND s.state = 'READY' AND s.wrap_ups = 0
                   AND NOT (m.representative_id = ANY (passed))
                   AND seat_open(m.representative_id, head.channel)
                 ORDER BY m.sessions_total, m.idle_since, m.representative_id
                 LIMIT 1
                   FOR UPDATE OF s SKIP LOCKED;
            ELSIF queue.strategy = 'least_connections' THEN
                SELECT m.representative_id INTO chosen
                  FROM queue_members m JOIN agent_states s ON s.representative_id = m.representative_id
                 WHERE m.queue_id = p_queue AND m.available
                   AND s.state = 'READY' AND s.wrap_ups = 0
                   AND NOT (m.representative_id = ANY (passed))
                   AND seat_open(m.representative_id, head.channel)
                 ORDER BY m.live_total, m.idle_since, m.representative_id
                 LIMIT 1
                   FOR UPDATE OF s SKIP LOCKED;
            ELSIF queue.strategy = 'round_robin' THEN
                SELECT m.representative_id INTO chosen
                  FROM queue_members m JOIN agent_states s ON s.representative_id = m.representative_id
                 WHERE m.queue_id = p_queue AND m.available
                   AND s.state = 'READY' AND s.wrap_ups = 0
                   AND NOT (m.representative_id = ANY (passed))
                   AND seat_open(m.representative_id, head.channel)
                 ORDER BY m.last_offered_at NULLS FIRST, m.idle_since, m.representative_id
                 LIMIT 1
                   FOR UPDATE OF s SKIP LOCKED;
            ELSE
                -- fewest_handled_today: "today" moves, so no index keeps
                -- this order; the queue's available members are sorted.
                SELECT m.representative_id INTO chosen
                  FROM queue_members m JOIN agent_states s ON s.representative_id = m.representative_id
                 WHERE m.queue_id = p_queue AND m.available
                   AND s.state = 'READY' AND s.wrap_ups = 0
                   AND NOT (m.representative_id = ANY (passed))
                   AND seat_open(m.representative_id, head.channel)
                 ORDER BY CASE WHEN s.handled_day = current_date THEN s.handled_on_day ELSE 0 END,
                          s.idle_since, m.representative_id
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
        -- went to an earlier offer of this pass, every eligible agent is
        -- being offered someone by another transaction, or those with room
        -- declined them): their channel is closed for the rest of the pass,
        -- and the caller looks again after this commits.
        IF chosen IS NULL THEN
            closed := closed || head.channel;
            CONTINUE;
        END IF;
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

DROP FUNCTION can_take(uuid, uuid, text);
