-- Senzu AI initial schema. Hand-written SQL is the source of truth; src/db/schema.ts mirrors it for
-- drizzle and test/node/schema.test.ts checks that the two agree.

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  password_hash text NOT NULL,
  tier          text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'premium', 'pro')),
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE refresh_tokens (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id  uuid NOT NULL,
  token_hash text NOT NULL UNIQUE,
  issued_at  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  rotated_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE sports (
  id         smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key        text NOT NULL UNIQUE,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE competitions (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sport_id   smallint NOT NULL REFERENCES sports (id),
  key        text NOT NULL UNIQUE,
  name       text NOT NULL,
  country    text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX competitions_sport_idx ON competitions (sport_id);

CREATE TABLE teams (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sport_id   smallint NOT NULL REFERENCES sports (id),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT teams_sport_name_key UNIQUE (sport_id, name)
);

-- Provider spellings ("Man United", "Manchester United FC") mapped to one canonical team.
CREATE TABLE team_aliases (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id    integer NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  provider   text NOT NULL,
  alias      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT team_aliases_provider_alias_key UNIQUE (provider, alias)
);
CREATE INDEX team_aliases_team_idx ON team_aliases (team_id);

CREATE TABLE matches (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sport_id          smallint NOT NULL REFERENCES sports (id),
  competition_id    integer NOT NULL REFERENCES competitions (id),
  season            text,
  home_team_id      integer NOT NULL REFERENCES teams (id),
  away_team_id      integer NOT NULL REFERENCES teams (id),
  start_at          timestamptz NOT NULL,
  status            text NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'live', 'finished', 'postponed', 'cancelled')),
  provider          text NOT NULL,
  external_match_id text NOT NULL,
  home_score        smallint,
  away_score        smallint,
  home_ht_score     smallint,
  away_ht_score     smallint,
  stats             jsonb,
  referee           text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT matches_provider_external_key UNIQUE (provider, external_match_id),
  CONSTRAINT matches_fixture_key UNIQUE (home_team_id, away_team_id, start_at),
  CONSTRAINT matches_distinct_teams CHECK (home_team_id <> away_team_id)
);
CREATE INDEX matches_external_match_id_idx ON matches (external_match_id);
CREATE INDEX matches_start_at_idx ON matches (start_at, id);
CREATE INDEX matches_competition_start_idx ON matches (competition_id, start_at);
CREATE INDEX matches_home_team_idx ON matches (home_team_id, start_at);
CREATE INDEX matches_away_team_idx ON matches (away_team_id, start_at);

-- One row per (bookmaker, outcome, line) price seen at one moment. Partitioned by month on the capture
-- time; partitions come from ensure_month_partition() (0002). `point` is NULL for 1X2, hence
-- NULLS NOT DISTINCT: otherwise every re-import of a 1X2 price would be a new row.
CREATE TABLE odds_snapshots (
  match_id    bigint NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
  provider    text NOT NULL,
  bookmaker   text NOT NULL,
  market      text NOT NULL CHECK (market IN ('h2h', 'totals', 'spreads')),
  outcome     text NOT NULL,
  point       numeric(6, 2),
  price       numeric(10, 3) NOT NULL CHECK (price > 1),
  phase       text NOT NULL CHECK (phase IN ('opening', 'pre_match', 'closing', 'live')),
  captured_at timestamptz NOT NULL,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT odds_snapshots_natural_key
    UNIQUE NULLS NOT DISTINCT (match_id, provider, bookmaker, market, outcome, point, captured_at)
) PARTITION BY RANGE (captured_at);
CREATE INDEX odds_snapshots_match_provider_market_idx ON odds_snapshots (match_id, provider, market, captured_at);

CREATE TABLE feature_vectors (
  match_id        bigint NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
  feature_version text NOT NULL,
  as_of           timestamptz NOT NULL,
  values          real[] NOT NULL,
  computed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (match_id, feature_version)
);

CREATE TABLE model_runs (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name            text NOT NULL,
  market          text NOT NULL CHECK (market IN ('h2h', 'totals', 'spreads')),
  status          text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'active', 'retired')),
  feature_version text NOT NULL,
  artifact_key    text NOT NULL,
  artifact_sha256 text NOT NULL,
  metadata        jsonb NOT NULL DEFAULT '{}',
  trained_from    date,
  trained_to      date,
  created_at      timestamptz NOT NULL DEFAULT now(),
  activated_at    timestamptz,
  retired_at      timestamptz
);
CREATE UNIQUE INDEX model_runs_one_active_per_market ON model_runs (market) WHERE status = 'active';

CREATE TABLE model_evaluations (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model_run_id     uuid NOT NULL REFERENCES model_runs (id) ON DELETE CASCADE,
  split            text NOT NULL,
  match_count      integer NOT NULL,
  metrics          jsonb NOT NULL,
  baseline_metrics jsonb,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_evaluations_run_idx ON model_evaluations (model_run_id);

CREATE TABLE predictions (
  id                 bigint GENERATED ALWAYS AS IDENTITY,
  match_id           bigint NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
  model_run_id       uuid NOT NULL REFERENCES model_runs (id),
  market             text NOT NULL CHECK (market IN ('h2h', 'totals', 'spreads')),
  outcome            text NOT NULL,
  point              numeric(6, 2),
  probability        double precision NOT NULL CHECK (probability >= 0 AND probability <= 1),
  market_probability double precision,
  best_price         numeric(10, 3),
  best_bookmaker     text,
  expected_value     double precision,
  kelly_fraction     double precision,
  predicted_at       timestamptz NOT NULL DEFAULT now(),
  settled_at         timestamptz,
  won                boolean,
  closing_price      numeric(10, 3),
  PRIMARY KEY (id, predicted_at)
) PARTITION BY RANGE (predicted_at);
CREATE INDEX predictions_match_run_market_idx ON predictions (match_id, model_run_id, market);
CREATE INDEX predictions_expected_value_idx ON predictions (expected_value);

CREATE TABLE backtest_results (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model_run_id uuid NOT NULL REFERENCES model_runs (id) ON DELETE CASCADE,
  strategy     text NOT NULL,
  params       jsonb NOT NULL DEFAULT '{}',
  metrics      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX backtest_results_run_idx ON backtest_results (model_run_id);

CREATE TABLE ingestion_jobs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind        text NOT NULL,
  provider    text NOT NULL,
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  stats       jsonb NOT NULL DEFAULT '{}',
  error       text
);
CREATE INDEX ingestion_jobs_kind_started_idx ON ingestion_jobs (kind, started_at);
