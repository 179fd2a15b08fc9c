-- Opening hours (SPEC §7): whether a queue is open at a moment, when it
-- next opens and when it closes, in the queue's time zone. A local time becomes a moment by
-- PostgreSQL's zone rules, so daylight saving is the database's to get
-- right. A queue with no hours is always open; a closed date closes the
-- whole local day. Called by the offers (offers.sql, pull.sql) and by
-- engine/src/hours.rs.

-- Whether the queue is open at p_at.
CREATE OR REPLACE FUNCTION queue_open(p_queue uuid, p_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q record;
    local timestamp;
BEGIN
    SELECT time_zone, closed_dates INTO q FROM queues WHERE id = p_queue;
    IF NOT FOUND THEN RETURN false; END IF;
    local := p_at AT TIME ZONE q.time_zone;
    IF local::date = ANY (q.closed_dates) THEN RETURN false; END IF;
    IF NOT EXISTS (SELECT 1 FROM queue_hours WHERE queue_id = p_queue) THEN RETURN true; END IF;
    RETURN EXISTS (SELECT 1 FROM queue_hours h
                    WHERE h.queue_id = p_queue AND h.weekday = extract(isodow FROM local)
                      AND local::time >= h.opens AND local::time < h.closes);
END
$$;

-- The first moment at or after p_at when the queue is open (p_at itself
-- when it is open then), looking eight days ahead; NULL when it opens on
-- none of them.
CREATE OR REPLACE FUNCTION queue_next_open(p_queue uuid, p_at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q record;
    day date;
    hours record;
    candidate timestamptz;
BEGIN
    IF queue_open(p_queue, p_at) THEN RETURN p_at; END IF;
    SELECT time_zone, closed_dates, NOT EXISTS (SELECT 1 FROM queue_hours WHERE queue_id = p_queue) AS always
      INTO q FROM queues WHERE id = p_queue;
    IF NOT FOUND THEN RETURN NULL; END IF;
    FOR i IN 0..8 LOOP
        day := (p_at AT TIME ZONE q.time_zone)::date + i;
        CONTINUE WHEN day = ANY (q.closed_dates);
        IF q.always THEN
            candidate := day::timestamp AT TIME ZONE q.time_zone;
        ELSE
            SELECT opens INTO hours FROM queue_hours WHERE queue_id = p_queue AND weekday = extract(isodow FROM day);
            CONTINUE WHEN NOT FOUND;
            candidate := (day + hours.opens) AT TIME ZONE q.time_zone;
        END IF;
        IF candidate > p_at THEN RETURN candidate; END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- When the queue, open at p_at, closes: the end of that day's hours (a
-- closed date ahead does not count); NULL when it is closed at p_at or
-- has no hours (always open).
CREATE OR REPLACE FUNCTION queue_closes(p_queue uuid, p_at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    zone text;
    local timestamp;
    closing time;
BEGIN
    IF NOT queue_open(p_queue, p_at) THEN RETURN NULL; END IF;
    SELECT time_zone INTO zone FROM queues WHERE id = p_queue;
    local := p_at AT TIME ZONE zone;
    SELECT h.closes INTO closing FROM queue_hours h
     WHERE h.queue_id = p_queue AND h.weekday = extract(isodow FROM local)
       AND local::time >= h.opens AND local::time < h.closes;
    IF NOT FOUND THEN RETURN NULL; END IF;
    RETURN (local::date + closing) AT TIME ZONE zone;
END
$$;
