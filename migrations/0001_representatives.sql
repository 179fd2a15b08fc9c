-- Representatives are the people who sign in: agents who take customers,
-- supervisors who watch and step in, and admins who run the service.
-- Customers never get a row here; they hold a signed token for their own help
-- session instead.
CREATE TABLE representatives (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stored as typed so the person sees their address as they wrote it; the
    -- unique index below makes two spellings of one address impossible.
    email           text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    -- An Argon2id hash in the PHC string format (algorithm, parameters and salt
    -- travel with the hash, so parameters can change without a migration).
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    disabled        boolean NOT NULL DEFAULT false,
    -- Bumped whenever the password is reset or the account is disabled: a
    -- session remembers the generation it was signed in with and stops
    -- counting once the two differ, so a reset signs the person out everywhere.
    session_generation integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz
);

CREATE UNIQUE INDEX representatives_email_key ON representatives (lower(email));

-- Failed sign-ins, kept just long enough to rate limit guessing. Rows are
-- recorded for any email typed, whether or not an account has it, so the
-- answer never tells an attacker which addresses exist.
CREATE TABLE sign_in_failures (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL,          -- lower-cased as typed
    client_addr text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sign_in_failures_email_idx ON sign_in_failures (email, failed_at);
CREATE INDEX sign_in_failures_addr_idx ON sign_in_failures (client_addr, failed_at);

-- The one-time links that create the first admin. Only a SHA-256 of the token
-- is kept, so reading the database does not hand out admin rights.
CREATE TABLE setup_tokens (
    token_hash  text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- Sign-in sessions, in the shape tower-sessions' PostgreSQL store reads and
-- writes. Created here so that one migration run makes the whole schema.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id          text PRIMARY KEY NOT NULL,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);
