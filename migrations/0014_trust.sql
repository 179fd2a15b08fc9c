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

-- An API client sees and changes only what it made (issue 30), unless an
-- admin grants it `help_sessions:all` or `webhooks:all`.
ALTER TABLE api_clients
    DROP CONSTRAINT api_clients_scopes_check,
    ADD CONSTRAINT api_clients_scopes_check
        CHECK (scopes <@ ARRAY['help_sessions:write', 'help_sessions:read', 'help_sessions:all', 'callbacks:write',
                               'queues:read', 'agents:read', 'agents:write', 'webhooks:manage', 'webhooks:all']);
CREATE INDEX help_sessions_api_client_idx ON help_sessions (api_client_id) WHERE api_client_id IS NOT NULL;
-- The API client that registered a webhook endpoint (NULL: an admin).
ALTER TABLE webhook_endpoints ADD COLUMN api_client_id uuid REFERENCES api_clients ON DELETE CASCADE;

-- Keep-my-place email leaves through an outbox sent by its own worker
-- (issue 30): a slow mail server delays nothing else, and an address gets
-- at most one email an hour.
CREATE TABLE mail_outbox (
    id              bigserial PRIMARY KEY,
    help_session_id uuid NOT NULL REFERENCES help_sessions ON DELETE CASCADE,
    address         text NOT NULL CHECK (length(address) <= 254),
    queued_at       timestamptz NOT NULL DEFAULT now(),
    -- Taken by a sender (at most once: a failure is not tried again).
    taken_at        timestamptz,
    sent_at         timestamptz,
    error           text
);
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (id) WHERE taken_at IS NULL;
CREATE INDEX mail_outbox_address_idx ON mail_outbox (lower(address), queued_at);

-- An identify token is spent when it asks for help: its jti once per
-- widget, remembered until it expires (issue 30).
CREATE TABLE widget_token_ids (
    widget_id  uuid NOT NULL REFERENCES widgets ON DELETE CASCADE,
    jti        text NOT NULL CHECK (length(jti) BETWEEN 1 AND 200),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (widget_id, jti)
);
