-- football-data.co.uk publishes kick-off times only from 2019/20. Older matches are stored at 00:00 UTC of
-- the match day with start_time_known = false, so nothing downstream mistakes that midnight for a kick-off.
ALTER TABLE matches ADD COLUMN start_time_known boolean NOT NULL DEFAULT true;
