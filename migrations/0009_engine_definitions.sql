-- The engine's SQL definitions as last applied (app/src/engine/definitions.rs):
-- a server starting with the same files changes nothing, so it takes no
-- lock on the tables the other servers are working on.
CREATE TABLE engine_definitions (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    applied text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
