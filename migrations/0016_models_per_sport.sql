-- Models per sport (issue 19). A model run prices the matches of one sport, and each sport may have its own active
-- run: football's and basketball's are activated, gated and retired independently. A sport with no active run is
-- served market-only (`model: null`), whichever sport it is.
--
-- Every run registered before this migration is a football run (feature version v1). The sports rows are seeded
-- after the migrations (scripts/lib/migrate.ts), so on a database that has runs but, somehow, no football row yet,
-- the row is made here and the seed later gives it its data file's name.
INSERT INTO sports (key, name) SELECT 'soccer', 'Soccer' WHERE EXISTS (SELECT 1 FROM model_runs) ON CONFLICT (key) DO NOTHING;
ALTER TABLE model_runs ADD COLUMN sport_id smallint REFERENCES sports (id);
UPDATE model_runs SET sport_id = (SELECT id FROM sports WHERE key = 'soccer');
ALTER TABLE model_runs ALTER COLUMN sport_id SET NOT NULL;
DROP INDEX model_runs_one_active;
CREATE UNIQUE INDEX model_runs_one_active_per_sport ON model_runs (sport_id) WHERE status = 'active';

-- A feature store per sport: each feature version describes the matches of one sport (v1 football, nba-v1
-- basketball), and only that sport's results enter it. `sport` is the sports.key; it is not a foreign key because
-- the sports rows are seeded after the migrations.
ALTER TABLE feature_store_progress ADD COLUMN sport text;
UPDATE feature_store_progress SET sport = 'soccer' WHERE feature_version = 'v1';
ALTER TABLE feature_store_progress ALTER COLUMN sport SET NOT NULL;
CREATE UNIQUE INDEX feature_store_progress_one_per_sport ON feature_store_progress (sport);
-- Every basketball result stored so far (npm run import:nba, the live results job) is pending, so the first advance
-- applies them all.
INSERT INTO feature_store_progress (feature_version, sport) VALUES ('nba-v1', 'basketball');

-- A changed or deleted result makes only its own sport's store rebuild: a corrected NBA score must not make the
-- football store replay its whole history.
CREATE OR REPLACE FUNCTION matches_feature_result_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.features_applied_at IS NOT NULL THEN
      UPDATE feature_store_progress SET rebuild_required = true
        WHERE NOT rebuild_required AND sport = (SELECT key FROM sports WHERE id = OLD.sport_id);
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.features_applied_at IS NOT NULL
     AND NEW.features_applied_at IS NOT DISTINCT FROM OLD.features_applied_at
     AND (OLD.status, OLD.home_score, OLD.away_score, OLD.stats, OLD.start_at, OLD.start_time_known, OLD.season,
          OLD.competition_id, OLD.home_team_id, OLD.away_team_id, OLD.sport_id)
         IS DISTINCT FROM
         (NEW.status, NEW.home_score, NEW.away_score, NEW.stats, NEW.start_at, NEW.start_time_known, NEW.season,
          NEW.competition_id, NEW.home_team_id, NEW.away_team_id, NEW.sport_id) THEN
    NEW.features_applied_at := NULL;
    UPDATE feature_store_progress SET rebuild_required = true
      WHERE NOT rebuild_required AND sport IN (SELECT key FROM sports WHERE id IN (OLD.sport_id, NEW.sport_id));
  END IF;
  RETURN NEW;
END $$;
