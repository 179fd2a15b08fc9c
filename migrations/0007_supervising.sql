-- Supervisors joining conversations (issue 17): silent monitor, whisper
-- (coach) and barge-in. A supervisor's part is not a representative's part
-- (`participants`): it takes no seat, has no wrap-up and never owns the
-- conversation, so it has a table of its own.

-- Roles a representative's part can have (supervision has its own table).
ALTER TABLE participants DROP CONSTRAINT participants_role_check,
    ADD CONSTRAINT participants_role_check CHECK (role IN ('agent', 'conference', 'consult'));

CREATE TABLE supervisions (
    id                bigserial PRIMARY KEY,
    help_session_id   uuid NOT NULL REFERENCES help_sessions,
    supervisor_id     uuid NOT NULL REFERENCES representatives,
    -- monitor: receives everything, sends nothing; whisper: speaks and
    -- writes to the representatives only; barge: a full participant.
    role              text NOT NULL CHECK (role IN ('monitor', 'whisper', 'barge')),
    joined_at         timestamptz NOT NULL DEFAULT now(),
    left_at           timestamptz,
    -- The last representative left while this supervisor was barged in:
    -- they are asked to take the customer over or return them to the line.
    asked_at          timestamptz
);
-- One live part per supervisor and conversation.
CREATE UNIQUE INDEX supervisions_live_key ON supervisions (help_session_id, supervisor_id) WHERE left_at IS NULL;
-- One supervisor at a time may whisper or barge in; many may monitor.
CREATE UNIQUE INDEX supervisions_speaking_key ON supervisions (help_session_id)
    WHERE left_at IS NULL AND role IN ('whisper', 'barge');
-- Parts asked to take over, by when (the sweeper returns the customer to
-- the line when nobody answers).
CREATE INDEX supervisions_asked_idx ON supervisions (asked_at) WHERE left_at IS NULL AND asked_at IS NOT NULL;
CREATE INDEX supervisions_supervisor_idx ON supervisions (supervisor_id) WHERE left_at IS NULL;

-- Messages a supervisor writes: `whisper` reaches the representatives
-- only (never the customer, in any page, reload or API); `barge` everyone.
ALTER TABLE messages DROP CONSTRAINT messages_role_check,
    ADD CONSTRAINT messages_role_check CHECK (role IN ('customer', 'agent', 'conference', 'consult', 'whisper', 'barge'));

-- The representative's desk says "Supervisor is listening" while a
-- supervisor monitors in silence, unless an admin hides it for the queue.
ALTER TABLE queues ADD COLUMN hide_monitoring boolean NOT NULL DEFAULT false;
