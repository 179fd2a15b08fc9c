-- The conversation: chat messages, the WebRTC signaling relay, and the
-- customer's rating.

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

ALTER TABLE help_sessions
    ADD COLUMN rating         smallint CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN rating_comment text CHECK (length(rating_comment) <= 1000),
    ADD COLUMN rated_at       timestamptz;

-- The desk's "recent conversations" of one representative.
CREATE INDEX help_sessions_agent_done_idx ON help_sessions (agent_id, completed_at DESC) WHERE status = 'completed';
