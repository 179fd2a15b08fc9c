-- API clients', widgets' and webhook receivers' secrets are stored sealed
-- with the server's key (SWITCHBOARD_SECRET_KEY; app/src/secrets.rs). The
-- columns stay text: a sealed value is `sealed:v1:` and base64, and the
-- values stored before are sealed by the first server that starts.
--
-- One value sealed with the key the database's secrets are sealed with: a
-- server started with another key refuses to start.
CREATE TABLE secret_key_check (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    sealed   text NOT NULL,
    set_at   timestamptz NOT NULL DEFAULT now()
);
