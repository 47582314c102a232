-- The capture-time range of each match's odds. odds_snapshots is partitioned by capture month, and a query
-- by match id alone cannot prune partitions: with ten seasons of history Postgres spends ~30 ms planning a
-- scan of every partition for a query that executes in ~4 ms. Bounding the query by this range (constants,
-- so pruned at plan time) brings planning to ~2 ms. Every writer of odds_snapshots widens the range.
ALTER TABLE matches ADD COLUMN odds_captured_from timestamptz;
ALTER TABLE matches ADD COLUMN odds_captured_to timestamptz;

UPDATE matches m
SET odds_captured_from = r.first_capture, odds_captured_to = r.last_capture
FROM (SELECT match_id, min(captured_at) AS first_capture, max(captured_at) AS last_capture FROM odds_snapshots GROUP BY match_id) r
WHERE m.id = r.match_id;
