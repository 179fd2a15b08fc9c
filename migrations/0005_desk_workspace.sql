-- The desk as a workspace (issue 16): chat messages name who wrote them and
-- in which role, and a customer's earlier help sessions are found by phone.

-- Who wrote a message (NULL: the customer) and their role in the
-- conversation when they wrote it.
ALTER TABLE messages
    ADD COLUMN representative_id uuid REFERENCES representatives,
    ADD COLUMN role text NOT NULL DEFAULT 'customer'
        CHECK (role IN ('customer', 'agent', 'conference', 'consult'));
UPDATE messages m SET role = 'agent', representative_id = h.agent_id
  FROM help_sessions h WHERE h.id = m.help_session_id AND m.from_agent;
-- Said now by representative_id.
ALTER TABLE messages DROP COLUMN from_agent;

-- "Earlier help sessions" of the customer on the desk.
CREATE INDEX help_sessions_phone_idx ON help_sessions (phone, entered_at DESC) WHERE phone IS NOT NULL;

-- The roller's memory of the colleagues taking part in a session besides
-- its owner (conference and consult parts): representative id -> when
-- their part began (unix seconds), so each part counts as handled.
ALTER TABLE metric_sessions ADD COLUMN colleagues jsonb NOT NULL DEFAULT '{}';
