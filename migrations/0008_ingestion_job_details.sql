-- Each ingestion run records what it cost and how long it took, beside its counts (stats) and error:
-- credits_used is what the provider charged this run (sum of x-requests-last), credits_remaining the quota
-- left after it (x-requests-remaining), so the budget can be checked from the table alone. `skipped` is a run
-- that decided not to call the provider (over budget, nothing in the polling window, not configured);
-- `trigger` says whether a Cron Trigger or an admin started it.
ALTER TABLE ingestion_jobs
  ADD COLUMN trigger           text NOT NULL DEFAULT 'cron' CHECK (trigger IN ('cron', 'manual')),
  ADD COLUMN credits_used      integer NOT NULL DEFAULT 0 CHECK (credits_used >= 0),
  ADD COLUMN credits_remaining integer,
  ADD COLUMN duration_ms       integer CHECK (duration_ms >= 0);

ALTER TABLE ingestion_jobs DROP CONSTRAINT ingestion_jobs_status_check;
ALTER TABLE ingestion_jobs ADD CONSTRAINT ingestion_jobs_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'skipped'));

-- The budget check sums this month's credits of one provider; the admin list pages by start time.
CREATE INDEX ingestion_jobs_provider_started_idx ON ingestion_jobs (provider, started_at);
CREATE INDEX ingestion_jobs_started_idx ON ingestion_jobs (started_at DESC, id DESC);
