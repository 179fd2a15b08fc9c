-- Several people in one conversation: a help session's representatives are
-- its participants, each part with a role, a join and a leave time, and its
-- own wrap-up; transfers move a customer to another queue or person.

-- A representative's part in a help session. The customer is not a row:
-- they take part from the first CONNECT (answered_at) to the end
-- (ended_at). Roles: `agent`, the owner (help_sessions.agent_id, at most one
-- live at a time); `conference`, a second representative; supervision adds
-- `monitor`, `whisper` and `barge`. A part that has left is in wrap-up
-- until wrapped_at (monitors have none: they are wrapped when they leave).
CREATE TABLE participants (
    id                bigserial PRIMARY KEY,
    help_session_id   uuid NOT NULL REFERENCES help_sessions,
    representative_id uuid NOT NULL REFERENCES representatives,
    role              text NOT NULL CHECK (role IN ('agent', 'conference', 'consult', 'monitor', 'whisper', 'barge')),
    -- The queue the part was taken in: its wrap-up time applies.
    queue_id          uuid NOT NULL REFERENCES queues,
    joined_at         timestamptz NOT NULL DEFAULT now(),
    left_at           timestamptz,
    wrapped_at        timestamptz,
    disposition       text,
    note              text,
    -- This part asked for a transfer or for a colleague to join: its desk
    -- shows what became of it.
    asked             boolean NOT NULL DEFAULT false,
    CHECK (wrapped_at IS NULL OR left_at IS NOT NULL)
);
-- One live part per representative and session.
CREATE UNIQUE INDEX participants_live_key ON participants (help_session_id, representative_id) WHERE left_at IS NULL;
-- A representative's parts not wrapped up yet (their desk), and done ones
-- (their record).
CREATE INDEX participants_open_idx ON participants (representative_id) WHERE wrapped_at IS NULL;
-- Parts in wrap-up, by when they ended (the sweeper ends those past time).
CREATE INDEX participants_wrapping_idx ON participants (left_at) WHERE wrapped_at IS NULL AND left_at IS NOT NULL;
CREATE INDEX participants_done_idx ON participants (representative_id, wrapped_at DESC) WHERE wrapped_at IS NOT NULL;
CREATE INDEX participants_session_idx ON participants (help_session_id);

-- The parts so far, as the single representative of each session had them.
INSERT INTO participants (help_session_id, representative_id, role, queue_id, joined_at, left_at, wrapped_at, disposition, note)
SELECT id, agent_id, 'agent', queue_id, coalesce(answered_at, entered_at),
       CASE WHEN status IN ('wrap_up', 'completed') THEN coalesce(ended_at, now()) END,
       CASE WHEN status = 'completed' THEN coalesce(completed_at, ended_at, now()) END,
       disposition, note
  FROM help_sessions
 WHERE agent_id IS NOT NULL AND status IN ('active', 'on_hold', 'wrap_up', 'completed');

-- Transfers: how many this customer has had (capped), the note for the
-- next representative, and who asked (for the customer's page and the
-- next desk); and how many representatives' parts it has had (the desk
-- lists the others only when there were any).
ALTER TABLE help_sessions
    ADD COLUMN parts         integer NOT NULL DEFAULT 0,
    ADD COLUMN transfers     integer NOT NULL DEFAULT 0,
    ADD COLUMN transfer_note text CHECK (length(transfer_note) <= 500),
    ADD COLUMN transferred_by uuid REFERENCES representatives;

-- An offer made by a transfer to a named representative: who asked. When it
-- is declined or missed the customer waits in the line again and the asker
-- is told.
UPDATE help_sessions h SET parts = (SELECT count(*) FROM participants p WHERE p.help_session_id = h.id)
 WHERE agent_id IS NOT NULL;

ALTER TABLE offers ADD COLUMN transfer_from uuid REFERENCES representatives;
-- An offer to join a conversation in progress ("Add a colleague"): the role
-- the representative takes on accepting (NULL: an offer of a customer from
-- the line, who has a queue entry). `transfer_from` is who asked.
ALTER TABLE offers ADD COLUMN joins text CHECK (joins IN ('conference', 'consult'));

-- When this wait in the line began: a customer given back or transferred
-- keeps their place by their first entry (enqueued_at), but the queue's
-- maximum wait counts from here.
ALTER TABLE queue_entries ADD COLUMN waiting_since timestamptz NOT NULL DEFAULT now();
UPDATE queue_entries SET waiting_since = enqueued_at;

-- Signaling is addressed from one participant to another (`customer`, or a
-- representative's id): a conversation's media is a mesh of pairs. The
-- table only ever holds the last minute's messages.
TRUNCATE signals;
ALTER TABLE signals
    DROP COLUMN to_agent,
    ADD COLUMN from_party text NOT NULL,
    ADD COLUMN to_party text NOT NULL;
CREATE INDEX signals_to_party_idx ON signals (help_session_id, to_party, id);
