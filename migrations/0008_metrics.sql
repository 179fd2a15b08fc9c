-- Metrics: rollups of the event log. The log stays the source; these tables
-- are what a server's roller has made of it so far, kept in step with it in
-- the roller's own transactions (see app/src/metrics/roll.rs).

-- The roller reads the log in (at, id) order.
DROP INDEX events_at_idx;
CREATE INDEX events_at_id_idx ON events (at, id);

-- How far the log has been rolled up: every event at or before (at, id).
-- One row; a roller locks it, so one server at a time rolls.
CREATE TABLE metric_roll (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    rolled_at timestamptz NOT NULL DEFAULT '1970-01-01 00:00+00',
    rolled_id bigint NOT NULL DEFAULT 0
);
INSERT INTO metric_roll DEFAULT VALUES;

-- Fifteen minutes of figures for one queue and one representative. A queue
-- figure with no representative (offered, abandoned) uses the nil uuid as
-- representative; a representative's time (handling, READY idle) uses the
-- nil uuid as queue. Session figures are in the bucket in which the session
-- entered the queue (or was transferred into it); time figures are cut at
-- bucket edges.
CREATE TABLE metric_buckets (
    bucket             timestamptz NOT NULL,
    queue_id           uuid NOT NULL,
    representative_id  uuid NOT NULL,
    offered            integer NOT NULL DEFAULT 0,
    answered           integer NOT NULL DEFAULT 0,
    answered_in_sl     integer NOT NULL DEFAULT 0,
    wait_seconds       double precision NOT NULL DEFAULT 0,
    abandoned          integer NOT NULL DEFAULT 0,
    abandoned_after_sl integer NOT NULL DEFAULT 0,
    short_abandoned    integer NOT NULL DEFAULT 0,
    expired            integer NOT NULL DEFAULT 0,
    rona               integer NOT NULL DEFAULT 0,
    handled            integer NOT NULL DEFAULT 0,
    handle_seconds     double precision NOT NULL DEFAULT 0,
    ratings            integer NOT NULL DEFAULT 0,
    rating_sum         integer NOT NULL DEFAULT 0,
    handling_seconds   double precision NOT NULL DEFAULT 0,
    ready_idle_seconds double precision NOT NULL DEFAULT 0,
    not_ready_seconds  double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, queue_id, representative_id)
);

-- The roller's memory of each help session's current queue visit and the
-- representative handling it. Rows of sessions finished long ago are pruned.
CREATE TABLE metric_sessions (
    help_session_id uuid PRIMARY KEY,
    queue_id        uuid NOT NULL,
    -- When this visit to the queue began (entered, or transferred in).
    visit_at        timestamptz NOT NULL,
    answered        boolean NOT NULL DEFAULT false,
    agent_id        uuid,
    -- When the agent's part began (CONNECT); NULL when nobody handles it.
    segment_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX metric_sessions_finished_idx ON metric_sessions (finished_at) WHERE finished_at IS NOT NULL;

-- The roller's memory of each representative: their state, how many
-- sessions they are handling (talking, on hold or wrapping up), and up to
-- when their time has been counted.
CREATE TABLE metric_agents (
    representative_id uuid PRIMARY KEY,
    state             text NOT NULL DEFAULT 'LOGGED_OUT',
    open_sessions     integer NOT NULL DEFAULT 0,
    counted_to        timestamptz NOT NULL
);

-- Running totals per queue since the beginning, for /metrics' counters.
CREATE TABLE metric_totals (
    queue_id  uuid PRIMARY KEY,
    offered   bigint NOT NULL DEFAULT 0,
    answered  bigint NOT NULL DEFAULT 0,
    abandoned bigint NOT NULL DEFAULT 0,
    rona      bigint NOT NULL DEFAULT 0
);
