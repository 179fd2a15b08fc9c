-- Callbacks that keep the customer's place, opening hours, and "keep my
-- place and notify me" (issue 18).

-- Opening hours: one interval per weekday in the queue's time zone (no row
-- for a day: closed that day; no rows at all: always open), and dates it
-- is closed. `queue_open` and `queue_next_open` (app/src/engine/hours.sql)
-- read them.
ALTER TABLE queues
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC',
    ADD COLUMN closed_dates date[] NOT NULL DEFAULT '{}',
    -- A callback not reached is tried again after this long, at most this
    -- many times in all.
    ADD COLUMN callback_retry_seconds integer NOT NULL DEFAULT 600 CHECK (callback_retry_seconds BETWEEN 1 AND 86400),
    ADD COLUMN callback_max_attempts integer NOT NULL DEFAULT 3 CHECK (callback_max_attempts BETWEEN 1 AND 20),
    -- A customer keeping their place is told when they are at most this
    -- far from the front, or this close to their turn.
    ADD COLUMN notify_position integer NOT NULL DEFAULT 2 CHECK (notify_position BETWEEN 1 AND 1000),
    ADD COLUMN notify_seconds integer NOT NULL DEFAULT 120 CHECK (notify_seconds BETWEEN 0 AND 86400),
    -- ... and keeps the front while away for this long after reaching it.
    ADD COLUMN front_hold_seconds integer NOT NULL DEFAULT 180 CHECK (front_hold_seconds BETWEEN 1 AND 86400);

CREATE TABLE queue_hours (
    queue_id uuid NOT NULL REFERENCES queues ON DELETE CASCADE,
    -- ISO: 1 = Monday ... 7 = Sunday.
    weekday  smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens    time NOT NULL,
    closes   time NOT NULL CHECK (closes > opens),
    PRIMARY KEY (queue_id, weekday)
);

ALTER TABLE help_sessions
    DROP CONSTRAINT help_sessions_status_check,
    ADD CONSTRAINT help_sessions_status_check
        CHECK (status IN ('created', 'waiting', 'offered', 'active', 'on_hold', 'wrap_up', 'completed',
                          'cancelled', 'abandoned', 'expired', 'unreachable', 'invalid')),
    -- A callback's preferred window (NULL: as soon as possible).
    ADD COLUMN callback_from  timestamptz,
    ADD COLUMN callback_until timestamptz CHECK (callback_until > callback_from),
    -- Calls made to the customer so far.
    ADD COLUMN attempts       integer NOT NULL DEFAULT 0,
    -- When the representative reached the customer by phone.
    ADD COLUMN reached_at     timestamptz,
    -- "Keep my place and notify me": the place is kept with the page
    -- closed; told by the page (and by email, when given) near the front.
    ADD COLUMN notify         boolean NOT NULL DEFAULT false,
    ADD COLUMN email          text CHECK (length(email) <= 254),
    ADD COLUMN notified_at    timestamptz;
-- One open callback per queue and number: asking again finds it.
CREATE UNIQUE INDEX help_sessions_open_callback_key ON help_sessions (queue_id, phone)
    WHERE channel = 'callback' AND status IN ('created', 'waiting', 'offered', 'active', 'on_hold');

ALTER TABLE queue_entries
    -- Not offered before this (a callback's window, a retry's delay).
    ADD COLUMN not_before timestamptz,
    -- A customer keeping their place whose page is closed: passed over.
    ADD COLUMN away       boolean NOT NULL DEFAULT false,
    -- When such a customer first reached the front while away.
    ADD COLUMN front_at   timestamptz;
-- The lines with someone away, for the sweeper.
CREATE INDEX queue_entries_away_idx ON queue_entries (queue_id) WHERE away;
-- Customers keeping their place in line, for the presence sweep.
CREATE INDEX help_sessions_notify_idx ON help_sessions (id) WHERE notify AND status IN ('waiting', 'offered');

-- Callbacks in the metrics: requested, calls made, reached, and the time
-- from the request to the call that reached the customer; the roller
-- remembers when a visit's callback was requested.
ALTER TABLE metric_buckets
    ADD COLUMN callbacks_requested integer NOT NULL DEFAULT 0,
    ADD COLUMN callback_attempts   integer NOT NULL DEFAULT 0,
    ADD COLUMN callbacks_reached   integer NOT NULL DEFAULT 0,
    ADD COLUMN reach_seconds       double precision NOT NULL DEFAULT 0;
ALTER TABLE metric_sessions ADD COLUMN requested_at timestamptz;
