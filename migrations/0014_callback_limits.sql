-- Callbacks cannot fill a queue (issue 30). They are exempt from the live
-- line's abandonment and maximum wait and are taken while a queue is closed
-- or unstaffed, so they get limits of their own: a cap per queue apart from
-- the live line's maximum length, a cap per address, an expiry, and the
-- country prefixes a queue calls (empty: any).
ALTER TABLE queues
    ADD COLUMN callback_cap integer NOT NULL DEFAULT 100 CHECK (callback_cap BETWEEN 1 AND 100000),
    ADD COLUMN callbacks_per_address integer NOT NULL DEFAULT 3 CHECK (callbacks_per_address BETWEEN 1 AND 1000),
    ADD COLUMN callback_expiry_hours integer NOT NULL DEFAULT 24 CHECK (callback_expiry_hours BETWEEN 1 AND 720),
    ADD COLUMN callback_prefixes text[] NOT NULL DEFAULT '{}';

-- The address a customer's request came from (an IPv6 /64 as its network
-- address), for the cap per address; NULL for an API client's.
ALTER TABLE help_sessions ADD COLUMN requested_from text CHECK (length(requested_from) <= 64);
CREATE INDEX help_sessions_open_callback_from_idx ON help_sessions (queue_id, requested_from)
    WHERE channel = 'callback' AND status IN ('created', 'waiting', 'offered', 'active', 'on_hold');
