-- "Next customer" for a lot of presses, set by set. The presses of agents
-- who serve one pull queue and have the same channels with room are one
-- group: the group claims as many heads of that queue as it has presses (one
-- SKIP LOCKED statement), pairs them with its agents in order, and all the
-- lot's pairs are written by one statement. What one press at a time would
-- do, without a statement per press: the same locks, claim, writes and
-- event. Presses outside any group (an agent serving several pull queues,
-- an agent pressing twice in the lot, an agent unknown, logged out or in
-- wrap-up) are run one by one afterwards, as in 0004.
CREATE OR REPLACE FUNCTION take_next_customers(p_agents uuid[])
RETURNS TABLE (n integer, outcome text, taken_session uuid, taken_queue uuid, taken_channel text,
               customer_name text, reason text, phone text)
LANGUAGE plpgsql
-- Its statements are planned once per connection, not at every call: every
-- plan looks rows up by key (planning anew was a third of a lot's time).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    grp record;
    claimed record;
    grouped integer[] := '{}';
    t_n integer[] := '{}';
    t_agent uuid[] := '{}';
    t_session uuid[] := '{}';
    t_queue uuid[] := '{}';
    t_channel text[] := '{}';
    empty_n integer[] := '{}';
BEGIN
    -- Every agent of the lot is locked first, in the order of their ids
    -- (the caller sorts the lot so; a lone press locks its agent first too).
    PERFORM 1 FROM agent_states s
      WHERE s.representative_id = ANY (p_agents)
      ORDER BY s.representative_id
        FOR UPDATE;
    FOR grp IN
        SELECT a.queues[1] AS queue, a.room, array_agg(a.i ORDER BY a.i) AS presses,
               array_agg(a.agent ORDER BY a.i) AS agents
          FROM (SELECT p.ord::integer AS i, p.agent,
                       ARRAY(SELECT c.channel FROM agent_channels c
                              WHERE c.representative_id = p.agent
                                AND c.live < c.max_live AND c.sessions < c.max_sessions
                              ORDER BY c.channel) AS room,
                       ARRAY(SELECT m.queue_id FROM queue_members m
                               JOIN queues q ON q.id = m.queue_id AND q.routing_mode = 'pull'
                              WHERE m.representative_id = p.agent) AS queues
                  FROM unnest(p_agents) WITH ORDINALITY AS p (agent, ord)
                  JOIN agent_states s ON s.representative_id = p.agent
                 WHERE s.state <> 'LOGGED_OUT' AND s.wrap_ups = 0
                   AND (SELECT count(*) FROM unnest(p_agents) AS o (agent) WHERE o.agent = p.agent) = 1) AS a
         WHERE cardinality(a.queues) = 1
         GROUP BY a.queues[1], a.room
    LOOP
        grouped := grouped || grp.presses;
        IF cardinality(grp.room) = 0 THEN
            empty_n := empty_n || grp.presses;
            CONTINUE;
        END IF;
        -- The group's heads, first come first, claimed with SKIP LOCKED:
        -- someone else's claim is never waited for.
        SELECT array_agg(h.help_session_id ORDER BY h.priority DESC, h.enqueued_at, h.help_session_id) AS sessions,
               array_agg(h.channel ORDER BY h.priority DESC, h.enqueued_at, h.help_session_id) AS channels
          INTO claimed
          FROM (SELECT e.help_session_id, e.channel, e.priority, e.enqueued_at FROM queue_entries e
                 WHERE e.queue_id = grp.queue AND e.offered_to IS NULL AND e.channel = ANY (grp.room)
                 ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id
                 LIMIT cardinality(grp.presses)
                   FOR UPDATE SKIP LOCKED) AS h;
        DELETE FROM queue_entries d WHERE d.help_session_id = ANY (claimed.sessions);
        -- The i-th press of the group takes the i-th head; presses beyond
        -- the heads found an empty queue.
        FOR i IN 1 .. cardinality(grp.presses) LOOP
            IF i <= coalesce(cardinality(claimed.sessions), 0) THEN
                t_n := t_n || grp.presses[i];
                t_agent := t_agent || grp.agents[i];
                t_session := t_session || claimed.sessions[i];
                t_queue := t_queue || grp.queue;
                t_channel := t_channel || claimed.channels[i];
            ELSE
                empty_n := empty_n || grp.presses[i];
            END IF;
        END LOOP;
    END LOOP;
    -- The writes look each row up by its key (= ANY), whatever the planner
    -- guesses of the arrays' length. The agents here are each in the lot
    -- once, so an agent's position in t_agent finds their pair.
    RETURN QUERY
    WITH answered AS (
             UPDATE help_sessions h
                SET status = 'active', agent_id = t_agent[array_position(t_session, h.id)], answered_at = now()
              WHERE h.id = ANY (t_session)
          RETURNING h.id AS hid, h.customer_name AS hname, h.reason AS hreason, h.phone AS hphone),
         seat AS (
             UPDATE agent_channels c SET live = c.live + 1, sessions = c.sessions + 1
              WHERE c.representative_id = ANY (t_agent)
                AND c.channel = t_channel[array_position(t_agent, c.representative_id)]),
         handled AS (
             UPDATE agent_states a
                SET handled_on_day = CASE WHEN a.handled_day = current_date THEN a.handled_on_day + 1 ELSE 1 END,
                    handled_day = current_date
              WHERE a.representative_id = ANY (t_agent)),
         logged AS (
             INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail)
             SELECT 'CONNECT', p.psession, p.pqueue, p.pagent, '{"mode": "pull"}'
               FROM unnest(t_n, t_agent, t_session, t_queue) AS p (pn, pagent, psession, pqueue)
              ORDER BY p.pn)
    SELECT t_n[k], 'taken'::text, t_session[k], t_queue[k], t_channel[k], a.hname, a.hreason, a.hphone
      FROM answered a, array_position(t_session, a.hid) AS k;
    RETURN QUERY SELECT e.i, 'empty'::text, NULL::uuid, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text
                   FROM unnest(empty_n) AS e (i);
    FOR i IN 1 .. coalesce(cardinality(p_agents), 0) LOOP
        CONTINUE WHEN i = ANY (grouped);
        RETURN QUERY SELECT i, t.* FROM take_next_customer(p_agents[i]) AS t;
    END LOOP;
END
$$;

-- Each agent's totals follow their channels once per statement rather than
-- once per row: a lot that fills many seats updates every agent's totals in
-- one statement. (Every change to an agent's channels is made under the
-- lock of their state row, so these rows are already held.)
DROP TRIGGER agent_channel_totals_changed ON agent_channels;
DROP TRIGGER agent_channel_totals_added ON agent_channels;
DROP TRIGGER agent_channel_totals_removed ON agent_channels;
DROP FUNCTION agent_channel_totals();

CREATE FUNCTION agent_channel_totals() RETURNS trigger
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    reps uuid[];
    d_live integer[];
    d_sessions integer[];
BEGIN
    -- What changed, per agent, as arrays: the update below then finds each
    -- agent by key, whatever the planner guesses of the transition tables.
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(d.rep), array_agg(d.live), array_agg(d.sessions) INTO reps, d_live, d_sessions
          FROM (SELECT r.rep, sum(r.live)::integer AS live, sum(r.sessions)::integer AS sessions
                  FROM (SELECT c.representative_id AS rep, c.live, c.sessions FROM new_rows c
                        UNION ALL
                        SELECT c.representative_id, -c.live, -c.sessions FROM old_rows c) AS r
                 GROUP BY r.rep) AS d
         WHERE d.live <> 0 OR d.sessions <> 0;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(d.rep), array_agg(d.live), array_agg(d.sessions) INTO reps, d_live, d_sessions
          FROM (SELECT c.representative_id AS rep, sum(c.live)::integer AS live, sum(c.sessions)::integer AS sessions
                  FROM new_rows c GROUP BY c.representative_id) AS d
         WHERE d.live <> 0 OR d.sessions <> 0;
    ELSE
        SELECT array_agg(d.rep), array_agg(-d.live), array_agg(-d.sessions) INTO reps, d_live, d_sessions
          FROM (SELECT c.representative_id AS rep, sum(c.live)::integer AS live, sum(c.sessions)::integer AS sessions
                  FROM old_rows c GROUP BY c.representative_id) AS d
         WHERE d.live <> 0 OR d.sessions <> 0;
    END IF;
    IF reps IS NOT NULL THEN
        UPDATE agent_states s
           SET live_total = s.live_total + d_live[array_position(reps, s.representative_id)],
               sessions_total = s.sessions_total + d_sessions[array_position(reps, s.representative_id)]
         WHERE s.representative_id = ANY (reps);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER agent_channel_totals_changed AFTER UPDATE ON agent_channels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agent_channel_totals();
CREATE TRIGGER agent_channel_totals_added AFTER INSERT ON agent_channels
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agent_channel_totals();
CREATE TRIGGER agent_channel_totals_removed AFTER DELETE ON agent_channels
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agent_channel_totals();

-- The waiting customers of each queue in order, without those being
-- offered: a search for the head no longer walks past every customer whose
-- offer is waiting for an answer.
CREATE INDEX queue_entries_waiting_idx ON queue_entries (queue_id, priority DESC, enqueued_at, help_session_id)
    WHERE offered_to IS NULL;
