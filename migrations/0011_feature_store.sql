-- The feature store: the team, head-to-head and league states behind the 72 features, kept current as results
-- become known instead of being replayed from the whole history on a request (src/services/feature-store).
--
-- A state is the JSON of src/services/features/state.ts, stored as `json` (not jsonb) so that what is read back
-- is byte for byte what was written: jsonb would reorder keys and re-print numbers.
--
-- The store equals a replay of every result up to its watermark, in the order results become known
-- (resultKnownAt, then kick-off, then id). A result that is not yet applied is marked by
-- matches.features_applied_at IS NULL; one that sorts before the watermark (a late result) or a change to a
-- result already applied (a corrected score, a deleted match) makes the next advance rebuild the store.

CREATE TABLE feature_store_progress (
  feature_version   text PRIMARY KEY,
  -- The order key of the last result applied; NULL while nothing is.
  applied_known_at  timestamptz,
  applied_start_at  timestamptz,
  applied_match_id  bigint,
  applied_results   integer NOT NULL DEFAULT 0,
  -- The earliest instant at which a stored but not yet applied result becomes known: the states stop being
  -- current then. NULL when no such result is stored.
  next_known_at     timestamptz,
  rebuild_required  boolean NOT NULL DEFAULT false,
  advanced_at       timestamptz
);
-- Empty is a correct store of an empty history; on a database with results, every one of them is pending
-- (features_applied_at IS NULL) and the first advance applies them all.
INSERT INTO feature_store_progress (feature_version) VALUES ('v1');

CREATE TABLE feature_team_states (
  feature_version text NOT NULL,
  team_id         integer NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  state           json NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (feature_version, team_id)
);

CREATE TABLE feature_pair_states (
  feature_version text NOT NULL,
  -- The pair, lower team id first (headToHeadKey).
  team_low        integer NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  team_high       integer NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  state           json NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (feature_version, team_low, team_high),
  CHECK (team_low < team_high)
);

CREATE TABLE feature_league_states (
  feature_version text NOT NULL,
  competition_id  integer NOT NULL REFERENCES competitions (id) ON DELETE CASCADE,
  state           json NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (feature_version, competition_id)
);

ALTER TABLE matches ADD COLUMN features_applied_at timestamptz;
-- The advance reads only results not yet applied: this index holds exactly those, so its cost follows the
-- new results, not the history.
CREATE INDEX matches_features_pending_idx ON matches (start_at) WHERE status = 'finished' AND features_applied_at IS NULL;

-- Every writer of results (the live results job, the CSV sync, an admin's SQL) goes through here, so none can
-- change an applied result without the store knowing.
CREATE FUNCTION matches_feature_result_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.features_applied_at IS NOT NULL THEN
      UPDATE feature_store_progress SET rebuild_required = true WHERE NOT rebuild_required;
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.features_applied_at IS NOT NULL
     AND NEW.features_applied_at IS NOT DISTINCT FROM OLD.features_applied_at
     AND (OLD.status, OLD.home_score, OLD.away_score, OLD.stats, OLD.start_at, OLD.start_time_known, OLD.season,
          OLD.competition_id, OLD.home_team_id, OLD.away_team_id)
         IS DISTINCT FROM
         (NEW.status, NEW.home_score, NEW.away_score, NEW.stats, NEW.start_at, NEW.start_time_known, NEW.season,
          NEW.competition_id, NEW.home_team_id, NEW.away_team_id) THEN
    NEW.features_applied_at := NULL;
    UPDATE feature_store_progress SET rebuild_required = true WHERE NOT rebuild_required;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER matches_feature_result_changed
  BEFORE UPDATE OR DELETE ON matches
  FOR EACH ROW EXECUTE FUNCTION matches_feature_result_changed();

-- The vectors predictions were served from, with their feature version: one row per persisted prediction,
-- written with it in one transaction by the prediction writer. The daily partition upkeep deletes rows past
-- SERVED_VECTOR_RETENTION (6 months); the training data lake keeps the history (npm run features:export --lake).
CREATE TABLE served_feature_vectors (
  match_id        bigint NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
  model_run_id    uuid NOT NULL REFERENCES model_runs (id),
  predicted_at    timestamptz NOT NULL,
  feature_version text NOT NULL,
  -- float4 like feature_vectors.values; NaN is a missing feature.
  values          real[] NOT NULL,
  PRIMARY KEY (match_id, model_run_id, predicted_at)
);
CREATE INDEX served_feature_vectors_predicted_at_idx ON served_feature_vectors (predicted_at);
