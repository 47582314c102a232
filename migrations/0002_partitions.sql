-- Monthly range partitions. Inserts into a month with no partition fail loudly (there is deliberately
-- no DEFAULT partition: rows parked there would block creating the real partition later), so every
-- writer calls ensure_month_partitions() for the months it touches and the daily job creates the months ahead.

-- Creates the partition of `parent` that holds the calendar month containing `month_start` (any day of the
-- month is accepted), if it does not exist yet. Returns the partition's name. Idempotent and safe to call
-- concurrently: a concurrent creator wins and the loser sees the existing table.
CREATE OR REPLACE FUNCTION ensure_month_partition(parent regclass, month_start date)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
  -- Bounds are UTC midnights whatever the session's TimeZone, so a partition always holds one UTC month.
  lower_bound date := make_date(extract(year FROM month_start)::int, extract(month FROM month_start)::int, 1);
  upper_bound date := (lower_bound + interval '1 month')::date;
  parent_name text := (SELECT c.relname FROM pg_class c WHERE c.oid = parent);
  partition_name text := format('%s_y%sm%s', parent_name, to_char(lower_bound, 'YYYY'), to_char(lower_bound, 'MM'));
BEGIN
  IF to_regclass(partition_name) IS NULL THEN
    BEGIN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
        partition_name, parent, lower_bound::timestamp AT TIME ZONE 'UTC', upper_bound::timestamp AT TIME ZONE 'UTC'
      );
    EXCEPTION WHEN duplicate_table THEN
      NULL;
    END;
  END IF;
  RETURN partition_name;
END;
$$;

-- Every month from `from_month` to `to_month` inclusive, for one partitioned table.
CREATE OR REPLACE FUNCTION ensure_month_partitions(parent regclass, from_month date, to_month date)
RETURNS SETOF text
LANGUAGE sql
AS $$
  SELECT ensure_month_partition(parent, m::date)
  FROM generate_series(date_trunc('month', from_month::timestamp), date_trunc('month', to_month::timestamp), interval '1 month') AS m;
$$;

-- The current month and the next three, so live writers start with somewhere to go.
SELECT ensure_month_partitions('odds_snapshots', current_date, (current_date + interval '3 months')::date);
SELECT ensure_month_partitions('predictions', current_date, (current_date + interval '3 months')::date);
