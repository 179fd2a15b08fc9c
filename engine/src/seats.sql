-- An agent's seats (SPEC §2, capacity). Per channel, `live` counts the
-- conversations talking now plus the offers waiting for an answer, and
-- `sessions` counts those plus the held ones; agent_states keeps their sums
-- over the channels, the order of two strategies. Every change of a seat
-- goes through these functions, so the sums never drift from the channels.
-- Callers hold the agent's state row locked (the first lock of every
-- transition). Called by engine/src/seats.rs and by the match functions.
-- (PL/pgSQL rather than SQL functions: their plans are prepared once per
-- connection, not at every call.)

-- Changes one channel's seats by (p_live, p_sessions). An increase beyond
-- the channel's capacity changes nothing and answers false.
CREATE OR REPLACE FUNCTION seat(p_agent uuid, p_channel text, p_live integer, p_sessions integer)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE agent_channels c
       SET live = c.live + p_live, sessions = c.sessions + p_sessions
     WHERE c.representative_id = p_agent AND c.channel = p_channel
       AND c.live + p_live <= c.max_live AND c.sessions + p_sessions <= c.max_sessions;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE agent_states s
       SET live_total = s.live_total + p_live, sessions_total = s.sessions_total + p_sessions
     WHERE s.representative_id = p_agent;
    RETURN true;
END
$$;

-- Every seat of the agent empty and switched off: they are leaving.
CREATE OR REPLACE FUNCTION clear_seats(p_agent uuid)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE agent_channels SET live = 0, sessions = 0, ready = false WHERE representative_id = p_agent;
    UPDATE agent_states SET live_total = 0, sessions_total = 0 WHERE representative_id = p_agent;
END
$$;
