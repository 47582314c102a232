-- Persisted predictions carry what the value finder, settlement and live performance read without joining
-- back to the model run or the match, and a natural key that makes a retried write a no-op.
--
-- No code wrote predictions before this migration, so the table is empty and the NOT NULL columns need no
-- backfill.

ALTER TABLE predictions
  -- The match's kick-off when predicted: the value finder sorts and filters on it, and "the prediction of
  -- record" of a match is its last one with predicted_at < kickoff.
  ADD COLUMN kickoff          timestamptz NOT NULL,
  ADD COLUMN feature_version  text NOT NULL,
  ADD COLUMN margin_method    text NOT NULL CHECK (margin_method IN ('multiplicative', 'shin', 'power')),
  -- The configured fraction of Kelly (e.g. 0.25) and the stake it gave, as the user was shown it.
  ADD COLUMN kelly_multiplier double precision NOT NULL CHECK (kelly_multiplier >= 0 AND kelly_multiplier <= 1),
  ADD COLUMN kelly_stake      double precision,
  -- Settlement: the profit of a 1-unit stake at best_price (price − 1, −1, or 0 for a push), and the
  -- closing line value best_price / closing_price − 1. Both NULL when the row had no best price.
  ADD COLUMN profit           double precision,
  ADD COLUMN clv              double precision;

-- One row per outcome of one prediction. A retried write (waitUntil, queue redelivery) of the same
-- prediction hits this key and inserts nothing. predicted_at is the partition key, which a unique
-- constraint on a partitioned table must include; leading with (match_id, predicted_at) also serves
-- "the latest prediction of a match before an instant". point is NULL for h2h, hence NULLS NOT DISTINCT.
ALTER TABLE predictions
  ADD CONSTRAINT predictions_natural_key
    UNIQUE NULLS NOT DISTINCT (match_id, predicted_at, model_run_id, market, outcome, point);

-- The value finder pages by kick-off (and by EV, which predictions_expected_value_idx covers).
CREATE INDEX predictions_kickoff_idx ON predictions (kickoff, id);
-- The daily settlement looks only at rows not settled yet.
CREATE INDEX predictions_unsettled_idx ON predictions (match_id) WHERE settled_at IS NULL;
