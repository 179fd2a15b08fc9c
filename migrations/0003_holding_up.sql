-- Holding up: customers' tokens that can be revoked, presence that notices
-- pages that never connected, and limits on the queue every install has.

-- A customer's token is random; only its SHA-256 is kept, so reading the
-- database hands out no customer's access (the signing key that used to
-- sit here in clear is gone).
CREATE TABLE customer_tokens (
    token_hash      bytea PRIMARY KEY,
    help_session_id uuid NOT NULL REFERENCES help_sessions
);
CREATE INDEX customer_tokens_session_idx ON customer_tokens (help_session_id);
DROP TABLE server_secrets;

-- When a page of the customer's first connected (NULL: never yet). A
-- session no page ever connected to is given up after a configurable time.
ALTER TABLE help_sessions ADD COLUMN customer_connected_at timestamptz;
-- Sessions made through the API and not queued yet, for the sweeper (the
-- waiting are found through queue_entries, those talking through
-- help_sessions_agent_idx).
CREATE INDEX help_sessions_created_idx ON help_sessions (entered_at) WHERE status = 'created';

-- A sign-in try counts against its account from before its password is
-- checked (so concurrent guesses count against each other); against its
-- address only once it failed (so a busy office signing in at nine is not
-- locked out by its own tries in flight).
ALTER TABLE sign_in_failures ADD COLUMN settled boolean NOT NULL DEFAULT true;

-- "General" ships with a maximum length and wait, unless an admin set them.
UPDATE queues SET max_length = 200, max_wait_seconds = 3600
 WHERE name = 'General' AND max_length IS NULL AND max_wait_seconds IS NULL;
