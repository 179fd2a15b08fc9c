-- The embeddable widget (issue 20): a website puts Switchboard's customer
-- experience on its pages with a small script and a key. A key says which
-- sites may embed it (their origins, checked by the browser through
-- frame-ancestors and by the server on the loader's request), which queues
-- it offers, and how it looks. Its secret checks the tokens the site's
-- backend signs to say who a known customer is, so it is kept as it is
-- (shown to the admin once).
CREATE TABLE widgets (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Public: written in the site's pages.
    key        text NOT NULL UNIQUE CHECK (key ~ '^wk_[A-Za-z0-9_-]{22}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    origins    text[] NOT NULL CHECK (cardinality(origins) BETWEEN 1 AND 20),
    queue_ids  uuid[] NOT NULL CHECK (cardinality(queue_ids) >= 1),
    accent     text NOT NULL DEFAULT '#2457c5' CHECK (accent ~ '^#[0-9a-f]{6}$'),
    greeting   text NOT NULL CHECK (length(greeting) BETWEEN 1 AND 300),
    secret     text NOT NULL,
    enabled    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A help session asked for through a widget, and the email the site's
-- backend vouched for (the name it vouched for is the customer's name).
ALTER TABLE help_sessions
    ADD COLUMN widget_id      uuid REFERENCES widgets ON DELETE SET NULL,
    ADD COLUMN verified_email text CHECK (length(verified_email) BETWEEN 3 AND 254),
    ADD COLUMN identified     boolean NOT NULL DEFAULT false;
