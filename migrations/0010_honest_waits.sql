-- Honest waits (issue 19). The estimate reads, per queue and channel, what
-- the last hours measured (app/src/customer/view.rs, `numbers`); these
-- indexes keep those reads short however long the history grows.
CREATE INDEX help_sessions_queue_answered_idx ON help_sessions (queue_id, channel, answered_at)
    WHERE answered_at IS NOT NULL;
CREATE INDEX help_sessions_queue_left_idx ON help_sessions (queue_id, channel, ended_at)
    WHERE answered_at IS NULL AND ended_at IS NOT NULL;
CREATE INDEX help_sessions_queue_live_idx ON help_sessions (queue_id, channel)
    WHERE status IN ('active', 'on_hold', 'wrap_up');

-- The first range a waiting customer was shown (seconds) and when: the
-- dashboard's "Estimate accuracy" scores it against the wait they had.
ALTER TABLE help_sessions
    ADD COLUMN estimate_low real,
    ADD COLUMN estimate_high real,
    ADD COLUMN estimated_at timestamptz,
    ADD CONSTRAINT help_sessions_estimate_check CHECK (estimate_high >= estimate_low AND estimate_low >= 0);
CREATE INDEX help_sessions_estimated_idx ON help_sessions (estimated_at) WHERE estimated_at IS NOT NULL;
