-- Webhooks (issue 20): events sent to a company's own systems, signed per
-- the Standard Webhooks specification and retried from the database.

-- Which events a receiver can ask for: the event log's kinds and the
-- webhook type each becomes. The one list both the trigger below and the
-- admin's choices read.
CREATE TABLE webhook_types (
    kind text PRIMARY KEY,
    type text NOT NULL
);
INSERT INTO webhook_types (kind, type) VALUES
    ('ENTER_QUEUE', 'help_session.entered'),
    ('OFFER', 'help_session.offered'),
    ('CONNECT', 'help_session.answered'),
    ('END_BY_AGENT', 'help_session.ended'),
    ('END_BY_CUSTOMER', 'help_session.ended'),
    ('WRAP_UP_DONE', 'help_session.wrapped_up'),
    ('CANCEL', 'help_session.cancelled'),
    ('ABANDON', 'help_session.abandoned'),
    ('EXPIRE', 'help_session.expired'),
    ('REQUEUE', 'help_session.requeued'),
    ('TRANSFER', 'help_session.transferred'),
    ('CALLBACK_REQUESTED', 'callback.requested'),
    ('CALLBACK_ATTEMPT', 'callback.attempted'),
    ('AGENT_STATE', 'agent.state_changed'),
    ('RATED', 'rating.given');

-- Where events go. `secret`: `whsec_` and the base64 of the HMAC key.
CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000 AND url ~ '^https?://'),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    event_types     text[] NOT NULL CHECK (cardinality(event_types) > 0),
    secret          text NOT NULL,
    enabled         boolean NOT NULL DEFAULT true,
    -- Why it was disabled by the server (410 Gone, failing for days).
    disabled_reason text,
    -- The first failure since the last success.
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- One event for one endpoint. Its id is the `webhook-id` header, the same
-- on every attempt. `sequence` counts the help session's events, so a
-- receiver can put them in order.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints ON DELETE CASCADE,
    event_id        bigint NOT NULL,
    type            text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    -- When it is next due (pending), or when a worker's claim on it lapses.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);

-- Every attempt, as the admin page shows it.
CREATE TABLE webhook_attempts (
    delivery_id  uuid NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    -- The receiver's status, or NULL when none came (timeout, refused).
    status_code  smallint,
    error        text,
    duration_ms  integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempted_at);

-- The admin's setting: may receivers be on private addresses (10/8,
-- 172.16/12, 192.168/16, fc00::/7, and loopback)? Self-hosted receivers
-- often are. Link-local and cloud metadata addresses never are.
CREATE TABLE webhook_settings (
    only_row      boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    allow_private boolean NOT NULL DEFAULT false
);
INSERT INTO webhook_settings DEFAULT VALUES;
