-- Market-only predictions (issue 19): a match of a sport without a trained model (basketball, today) is served
-- the live market's margin-free prices with best price, EV and Kelly, and persisted like a model's prediction so
-- it can be settled and reported. It has no model run and was made from no features, so both are NULL on its
-- rows. On the partitioned parent: Postgres applies each change to every partition.
ALTER TABLE predictions
  ALTER COLUMN model_run_id DROP NOT NULL,
  ALTER COLUMN feature_version DROP NOT NULL,
  -- Either both (a model's prediction) or neither (market-only): a row with a run but no feature version, or
  -- the reverse, would be neither kind.
  ADD CONSTRAINT predictions_model_or_market_only CHECK ((model_run_id IS NULL) = (feature_version IS NULL));
-- predictions_natural_key is UNIQUE NULLS NOT DISTINCT (0009), so a redelivered market-only write (NULL run)
-- still hits it and inserts nothing.
