-- The contact center's schema: queues, help sessions, the line, offers,
-- agents' states and seats, the event log, presence, the conversation, and
-- the metrics' rollups. Tables and their indexes only: the SQL functions
-- the engine runs have their one current definition next to the Rust that
-- calls them (app/src/engine/*.sql) and are applied at every start-up.
--
-- Before the first release the migrations written so far were squashed into
-- this baseline; a database made by an earlier build must be made anew
-- (`make clean-data`).

-- A line of customers for one kind of help. Settings as in SPEC §2.
CREATE TABLE queues (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    -- Which channels customers may choose in this queue.
    channels              text[] NOT NULL DEFAULT ARRAY['video', 'audio', 'chat', 'callback']
                          CHECK (cardinality(channels) > 0
                                 AND channels <@ ARRAY['video', 'audio', 'chat', 'callback']),
    -- push: the server offers the head to one agent; pull: agents press "Next customer".
    routing_mode          text NOT NULL DEFAULT 'push' CHECK (routing_mode IN ('push', 'pull')),
    strategy              text NOT NULL DEFAULT 'longest_idle'
                          CHECK (strategy IN ('longest_idle', 'least_connections', 'round_robin', 'fewest_handled_today')),
    rona_seconds          integer NOT NULL DEFAULT 15 CHECK (rona_seconds BETWEEN 5 AND 300),
    wrap_up_seconds       integer NOT NULL DEFAULT 60 CHECK (wrap_up_seconds BETWEEN 0 AND 3600),
    service_level_seconds integer NOT NULL DEFAULT 20 CHECK (service_level_seconds BETWEEN 1 AND 3600),
    -- NULL: no limit.
    max_length            integer CHECK (max_length > 0),
    max_wait_seconds      integer CHECK (max_wait_seconds > 0),
    -- With nobody logged in: refuse new customers (with the message and a
    -- callback offer), or accept them into the line anyway.
    when_nobody           text NOT NULL DEFAULT 'refuse' CHECK (when_nobody IN ('refuse', 'accept')),
    nobody_message        text NOT NULL DEFAULT 'Nobody is available right now. Leave your number and we will call you back.'
                          CHECK (length(nobody_message) BETWEEN 1 AND 500),
    -- New representatives become members of this queue automatically.
    auto_join             boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX queues_name_key ON queues (lower(name));

-- The product works out of the box: one queue every representative serves.
INSERT INTO queues (name, routing_mode, auto_join) VALUES ('General', 'push', true);

CREATE TABLE queue_members (
    queue_id          uuid NOT NULL REFERENCES queues ON DELETE CASCADE,
    representative_id uuid NOT NULL REFERENCES representatives ON DELETE CASCADE,
    PRIMARY KEY (queue_id, representative_id)
);
CREATE INDEX queue_members_rep_idx ON queue_members (representative_id);

-- One customer request, kept forever.
CREATE TABLE help_sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    queue_id        uuid NOT NULL REFERENCES queues,
    customer_name   text NOT NULL CHECK (length(customer_name) BETWEEN 1 AND 80),
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    channel         text NOT NULL CHECK (channel IN ('video', 'audio', 'chat', 'callback')),
    phone           text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    priority        integer NOT NULL DEFAULT 0,
    -- created: made through the API, not in the queue yet.
    status          text NOT NULL DEFAULT 'waiting'
                    CHECK (status IN ('created', 'waiting', 'offered', 'active', 'on_hold', 'wrap_up',
                                      'completed', 'cancelled', 'abandoned', 'expired')),
    entered_at      timestamptz NOT NULL DEFAULT now(),
    answered_at     timestamptz,
    ended_at        timestamptz,
    completed_at    timestamptz,
    agent_id        uuid REFERENCES representatives,
    disposition     text,
    note            text,
    -- When the customer's last open page went away (NULL while one is open,
    -- and for sessions made through the API, which have no page).
    customer_lost_at timestamptz,
    -- The customer's 1-5 stars after the conversation, once.
    rating          smallint CHECK (rating BETWEEN 1 AND 5),
    rating_comment  text CHECK (length(rating_comment) <= 1000),
    rated_at        timestamptz
);
CREATE INDEX help_sessions_agent_idx ON help_sessions (agent_id) WHERE status IN ('active', 'on_hold', 'wrap_up');
CREATE INDEX help_sessions_lost_idx ON help_sessions (customer_lost_at) WHERE customer_lost_at IS NOT NULL;
CREATE INDEX help_sessions_queue_done_idx ON help_sessions (queue_id, channel, completed_at) WHERE status = 'completed';
-- The desk's "recent conversations" of one representative.
CREATE INDEX help_sessions_agent_done_idx ON help_sessions (agent_id, completed_at DESC) WHERE status = 'completed';

-- The hot waiting slots: a row while the customer waits or is being offered.
-- Ordered by priority (high first), then by the time they entered; a customer
-- given back (decline, missed offer, agent lost) keeps that time, and so
-- their place at the front.
CREATE TABLE queue_entries (
    help_session_id uuid PRIMARY KEY REFERENCES help_sessions,
    queue_id        uuid NOT NULL REFERENCES queues,
    channel         text NOT NULL,
    priority        integer NOT NULL,
    enqueued_at     timestamptz NOT NULL,
    -- The agent it is offered to right now; NULL while waiting.
    offered_to      uuid REFERENCES representatives,
    -- Agents who declined this customer: not offered them again.
    declined_by     uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX queue_entries_order_idx ON queue_entries (queue_id, priority DESC, enqueued_at, help_session_id);
-- The customers waiting and not being offered, in order: the head of a
-- queue is found without walking past those whose offer awaits an answer.
CREATE INDEX queue_entries_waiting_idx ON queue_entries (queue_id, priority DESC, enqueued_at, help_session_id)
    WHERE offered_to IS NULL;

-- A help session reserved for one agent until accept, decline or the RONA
-- deadline. The deadline is stored, so timers survive restarts.
CREATE TABLE offers (
    help_session_id   uuid PRIMARY KEY REFERENCES help_sessions,
    representative_id uuid NOT NULL REFERENCES representatives,
    queue_id          uuid NOT NULL REFERENCES queues,
    channel           text NOT NULL,
    offered_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL
);
CREATE INDEX offers_rep_idx ON offers (representative_id);
CREATE INDEX offers_expiry_idx ON offers (expires_at);

-- Each representative's state. A row exists for everyone (LOGGED_OUT until
-- they open their desk).
CREATE TABLE agent_states (
    representative_id uuid PRIMARY KEY REFERENCES representatives ON DELETE CASCADE,
    state             text NOT NULL DEFAULT 'LOGGED_OUT' CHECK (state IN ('READY', 'NOT_READY', 'LOGGED_OUT')),
    reason            text,
    state_since       timestamptz NOT NULL DEFAULT now(),
    -- Since when this agent has had nothing to do (for longest_idle).
    idle_since        timestamptz NOT NULL DEFAULT now(),
    last_offered_at   timestamptz,
    handled_day       date,
    handled_on_day    integer NOT NULL DEFAULT 0,
    -- Sessions in wrap-up now: an agent in wrap-up gets no offers.
    wrap_ups          integer NOT NULL DEFAULT 0 CHECK (wrap_ups >= 0),
    -- The agent's seats in use summed over their channels (see
    -- agent_channels), the order of the longest_idle and least_connections
    -- strategies. Written only with the channels, by the functions of
    -- app/src/engine/seats.sql.
    live_total        integer NOT NULL DEFAULT 0 CHECK (live_total >= 0),
    sessions_total    integer NOT NULL DEFAULT 0 CHECK (sessions_total >= 0),
    -- When the agent's last open desk went away (NULL while one is open).
    lost_at           timestamptz
);

-- Per channel: the switch, the capacity, and what is in use. `live` counts
-- sessions talking now plus offers waiting for an answer; `sessions` counts
-- those plus sessions on hold. Kept in step by every transition, and locked
-- when offering, so two servers can never fill one seat twice.
CREATE TABLE agent_channels (
    representative_id uuid NOT NULL REFERENCES representatives ON DELETE CASCADE,
    channel           text NOT NULL CHECK (channel IN ('video', 'audio', 'chat', 'callback')),
    ready             boolean NOT NULL DEFAULT false,
    max_live          integer NOT NULL CHECK (max_live BETWEEN 1 AND 10),
    max_sessions      integer NOT NULL CHECK (max_sessions BETWEEN 1 AND 10),
    live              integer NOT NULL DEFAULT 0 CHECK (live >= 0),
    sessions          integer NOT NULL DEFAULT 0 CHECK (sessions >= 0),
    PRIMARY KEY (representative_id, channel)
);

-- The append-only event log, like a PBX queue log. Metrics are computed from it.
CREATE TABLE events (
    id                bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind              text NOT NULL,
    help_session_id   uuid,
    queue_id          uuid,
    representative_id uuid,
    detail            jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_session_idx ON events (help_session_id);
-- The metrics roller reads the log in (at, id) order.
CREATE INDEX events_at_id_idx ON events (at, id);

-- Presence. Every running server registers itself and beats; every open
-- page (a WebSocket) is a row under its server. A server that stops beating
-- is presumed dead and its pages gone, so presence survives crashes.
CREATE TABLE instances (
    id         uuid PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE connections (
    id                uuid PRIMARY KEY,
    instance_id       uuid NOT NULL REFERENCES instances ON DELETE CASCADE,
    help_session_id   uuid REFERENCES help_sessions,
    representative_id uuid REFERENCES representatives ON DELETE CASCADE,
    opened_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((help_session_id IS NULL) <> (representative_id IS NULL))
);
CREATE INDEX connections_session_idx ON connections (help_session_id);
CREATE INDEX connections_rep_idx ON connections (representative_id);

-- Secrets the servers share (the customer-token key when none is configured).
CREATE TABLE server_secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

-- The conversation: chat messages and the WebRTC signaling relay.

-- Chat, in the order sent. Kept with the help session's record.
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    help_session_id uuid NOT NULL REFERENCES help_sessions,
    -- true: the representative wrote it; false: the customer.
    from_agent      boolean NOT NULL,
    author          text NOT NULL,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    -- An earlier message of the same conversation this one answers.
    reply_to        bigint REFERENCES messages,
    sent_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_session_idx ON messages (help_session_id, id);

-- Signaling between the two browsers of one help session (offers, answers,
-- ICE candidates), relayed through whichever servers their pages are on.
-- Short-lived: a page reads what arrives while it is open, and the sweeper
-- deletes rows older than a minute. Unlogged: after a crash the calls
-- renegotiate anyway.
CREATE UNLOGGED TABLE signals (
    id              bigserial PRIMARY KEY,
    help_session_id uuid NOT NULL,
    to_agent        boolean NOT NULL,
    body            text NOT NULL CHECK (length(body) <= 65536),
    sent_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signals_to_idx ON signals (help_session_id, to_agent, id);
CREATE INDEX signals_at_idx ON signals (sent_at);

-- Metrics: rollups of the event log. The log stays the source; these tables
-- are what a server's roller has made of it so far, kept in step with it in
-- the roller's own transactions (see app/src/metrics/roll.rs).

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
