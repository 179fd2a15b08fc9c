-- API clients (issue 20): website backends and integrations calling
-- /api/v1. Each signs its own short-lived bearer token (a JWT, RFC 7523's
-- client assertion) with its secret; the server checks it with the same
-- secret, so the secret is kept as it is (shown to the admin once, never
-- sent again). During a rotation the previous secret stays valid until
-- `previous_until`.
CREATE TABLE api_clients (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scopes          text[] NOT NULL CHECK (scopes <@ ARRAY['help_sessions:write', 'help_sessions:read', 'callbacks:write',
                                                           'queues:read', 'agents:read', 'agents:write', 'webhooks:manage']),
    -- Fixed at registration: a token's own header never chooses it.
    algorithm       text NOT NULL DEFAULT 'HS256' CHECK (algorithm = 'HS256'),
    secret          text NOT NULL,
    previous_secret text,
    previous_until  timestamptz,
    created_by      uuid REFERENCES representatives ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    rotated_at      timestamptz,
    disabled_at     timestamptz,
    last_used_at    timestamptz
);

-- Token ids seen, so that a token is accepted once: kept until the token
-- has expired (with the clock skew allowed), then swept.
CREATE TABLE api_token_ids (
    client_id  uuid NOT NULL REFERENCES api_clients ON DELETE CASCADE,
    jti        text NOT NULL CHECK (length(jti) BETWEEN 1 AND 200),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX api_token_ids_expires_idx ON api_token_ids (expires_at);

-- Answers to requests made with an `Idempotency-Key`: the same key and body
-- from the same client get the same answer for a day. A row without an
-- answer is a request still being worked on.
CREATE TABLE api_idempotency (
    client_id    uuid NOT NULL REFERENCES api_clients ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash text NOT NULL,
    status       smallint,
    answer       jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);
CREATE INDEX api_idempotency_created_idx ON api_idempotency (created_at);

-- Help sessions made by an API client, and the reference the client gave
-- (its CRM's ticket, say).
ALTER TABLE help_sessions
    ADD COLUMN api_client_id      uuid REFERENCES api_clients ON DELETE SET NULL,
    ADD COLUMN external_reference text CHECK (length(external_reference) BETWEEN 1 AND 200);

-- The API lists help sessions newest first, by queue and status.
CREATE INDEX help_sessions_entered_idx ON help_sessions (entered_at DESC, id DESC);
