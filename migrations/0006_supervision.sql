-- Supervision (issue 17): who supervises which queue, and the thresholds
-- that turn the wallboard's figures amber and red.

-- A supervisor watches and joins the conversations of the queues they
-- supervise (admins: of every queue).
CREATE TABLE queue_supervisors (
    queue_id          uuid NOT NULL REFERENCES queues ON DELETE CASCADE,
    representative_id uuid NOT NULL REFERENCES representatives ON DELETE CASCADE,
    PRIMARY KEY (queue_id, representative_id)
);
CREATE INDEX queue_supervisors_representative_idx ON queue_supervisors (representative_id);

-- The longest wait now turns amber, then red, past these many seconds; the
-- service level today turns amber, then red, under these percentages.
-- NULL: no threshold.
ALTER TABLE queues
    ADD COLUMN wait_amber_seconds integer CHECK (wait_amber_seconds BETWEEN 1 AND 86400),
    ADD COLUMN wait_red_seconds   integer CHECK (wait_red_seconds BETWEEN 1 AND 86400),
    ADD COLUMN level_amber_percent integer CHECK (level_amber_percent BETWEEN 1 AND 100),
    ADD COLUMN level_red_percent   integer CHECK (level_red_percent BETWEEN 1 AND 100),
    ADD CONSTRAINT queues_wait_thresholds_ordered CHECK (wait_red_seconds >= wait_amber_seconds),
    ADD CONSTRAINT queues_level_thresholds_ordered CHECK (level_red_percent <= level_amber_percent);
