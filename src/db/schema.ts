// The drizzle view of the tables created by migrations/*.sql. The SQL files are the source of truth
// (drizzle-kit cannot express range partitioning or NULLS NOT DISTINCT on a partitioned table); a
// test compares every table and column declared here with the migrated database, so the two cannot drift.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  json,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

export const TIERS = ['free', 'premium', 'pro'] as const;
export const ROLES = ['user', 'admin'] as const;
/** What an API key may do (docs/security.md). Admin routes refuse keys whatever their scopes. */
export const API_KEY_SCOPES = ['read', 'predictions', 'account'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
export const MATCH_STATUSES = ['scheduled', 'live', 'finished', 'postponed', 'cancelled'] as const;
export const MARKETS = ['h2h', 'totals', 'spreads'] as const;
export const ODDS_PHASES = ['opening', 'pre_match', 'closing', 'live'] as const;
export const MODEL_RUN_STATUSES = ['candidate', 'active', 'retired'] as const;
export const JOB_STATUSES = ['running', 'succeeded', 'failed', 'skipped'] as const;
export const JOB_TRIGGERS = ['cron', 'manual'] as const;

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    tier: text('tier', { enum: TIERS }).notNull().default('free'),
    role: text('role', { enum: ROLES }).notNull().default('user'),
    tokenEpoch: integer('token_epoch').notNull().default(0),
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`)],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    issuedAt: timestamp('issued_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    parentId: uuid('parent_id'),
    sessionStartedAt: timestamp('session_started_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('refresh_tokens_family_idx').on(t.familyId), index('refresh_tokens_user_idx').on(t.userId)],
);

export const emailVerificationTokens = pgTable(
  'email_verification_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('email_verification_tokens_user_idx').on(t.userId)],
);

export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    createdAt: timestamps.createdAt,
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }),
  },
  // A registration at a taken address looks up its owner's recent notices (see migrations/0013).
  (t) => [index('email_outbox_user_idx').on(t.userId, t.createdAt)],
);

export const adminActions = pgTable(
  'admin_actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    action: text('action').notNull(),
    target: text('target').notNull(),
    details: jsonb('details').notNull().default({}),
    createdAt: timestamps.createdAt,
  },
  (t) => [index('admin_actions_target_idx').on(t.target, t.createdAt)],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    createdAt: timestamps.createdAt,
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    scopes: text('scopes', { enum: API_KEY_SCOPES }).array().notNull().default(['read', 'predictions']),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('api_keys_user_idx').on(t.userId)],
);

export const sports = pgTable('sports', {
  id: smallint('id').primaryKey().generatedAlwaysAsIdentity(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  ...timestamps,
});

export const competitions = pgTable(
  'competitions',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    sportId: smallint('sport_id')
      .notNull()
      .references(() => sports.id),
    key: text('key').notNull().unique(),
    name: text('name').notNull(),
    country: text('country'),
    ...timestamps,
  },
  (t) => [index('competitions_sport_idx').on(t.sportId)],
);

export const teams = pgTable(
  'teams',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    sportId: smallint('sport_id')
      .notNull()
      .references(() => sports.id),
    name: text('name').notNull(),
    ...timestamps,
    /** The stable key of a team declared in a sport's data file (data/sports/*.json, migration 0013); NULL otherwise. */
    key: text('key'),
  },
  (t) => [unique('teams_sport_name_key').on(t.sportId, t.name), unique('teams_sport_key_key').on(t.sportId, t.key)],
);

export const teamAliases = pgTable(
  'team_aliases',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    alias: text('alias').notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [unique('team_aliases_provider_alias_key').on(t.provider, t.alias), index('team_aliases_team_idx').on(t.teamId)],
);

/** Per-side match statistics, as football-data.co.uk and most providers report them. */
export interface SideStats {
  shots?: number | null;
  shotsOnTarget?: number | null;
  corners?: number | null;
  fouls?: number | null;
  yellowCards?: number | null;
  redCards?: number | null;
}
export interface MatchStats {
  home: SideStats;
  away: SideStats;
}

export const matches = pgTable(
  'matches',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sportId: smallint('sport_id')
      .notNull()
      .references(() => sports.id),
    competitionId: integer('competition_id')
      .notNull()
      .references(() => competitions.id),
    season: text('season'),
    homeTeamId: integer('home_team_id')
      .notNull()
      .references(() => teams.id),
    awayTeamId: integer('away_team_id')
      .notNull()
      .references(() => teams.id),
    startAt: timestamp('start_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** False when the provider gave only a date: start_at is then 00:00 UTC of the match day. */
    startTimeKnown: boolean('start_time_known').notNull().default(true),
    status: text('status', { enum: MATCH_STATUSES }).notNull().default('scheduled'),
    provider: text('provider').notNull(),
    externalMatchId: text('external_match_id').notNull(),
    homeScore: smallint('home_score'),
    awayScore: smallint('away_score'),
    homeHalfTimeScore: smallint('home_ht_score'),
    awayHalfTimeScore: smallint('away_ht_score'),
    stats: jsonb('stats').$type<MatchStats>(),
    referee: text('referee'),
    /** The capture-time range of this match's odds_snapshots, widened by every writer (migration 0005). */
    oddsCapturedFrom: timestamp('odds_captured_from', { withTimezone: true, mode: 'date' }),
    oddsCapturedTo: timestamp('odds_captured_to', { withTimezone: true, mode: 'date' }),
    /** When the feature store learnt this result; NULL while it has not (migration 0011). */
    featuresAppliedAt: timestamp('features_applied_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    unique('matches_provider_external_key').on(t.provider, t.externalMatchId),
    unique('matches_fixture_key').on(t.homeTeamId, t.awayTeamId, t.startAt),
    index('matches_external_match_id_idx').on(t.externalMatchId),
    index('matches_start_at_idx').on(t.startAt, t.id),
    index('matches_competition_start_idx').on(t.competitionId, t.startAt),
    index('matches_home_team_idx').on(t.homeTeamId, t.startAt),
    index('matches_away_team_idx').on(t.awayTeamId, t.startAt),
    check('matches_distinct_teams', sql`${t.homeTeamId} <> ${t.awayTeamId}`),
  ],
);

/** Partitioned by month on captured_at (see migrations/0002_partitions.sql). */
export const oddsSnapshots = pgTable(
  'odds_snapshots',
  {
    matchId: bigint('match_id', { mode: 'number' })
      .notNull()
      .references(() => matches.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    bookmaker: text('bookmaker').notNull(),
    market: text('market', { enum: MARKETS }).notNull(),
    outcome: text('outcome').notNull(),
    point: numeric('point', { precision: 6, scale: 2, mode: 'number' }),
    price: numeric('price', { precision: 10, scale: 3, mode: 'number' }).notNull(),
    phase: text('phase', { enum: ODDS_PHASES }).notNull(),
    capturedAt: timestamp('captured_at', { withTimezone: true, mode: 'date' }).notNull(),
    ingestedAt: timestamp('ingested_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('odds_snapshots_natural_key')
      .on(t.matchId, t.provider, t.bookmaker, t.market, t.outcome, t.point, t.capturedAt)
      .nullsNotDistinct(),
    index('odds_snapshots_match_provider_market_idx').on(t.matchId, t.provider, t.market, t.capturedAt),
  ],
);

// The feature store (migration 0011, src/services/feature-store): the states behind the features, kept
// current as results become known. `state` is `json`, not jsonb, so it reads back byte for byte as written.
export const featureStoreProgress = pgTable(
  'feature_store_progress',
  {
    featureVersion: text('feature_version').primaryKey(),
    /** The sports.key whose results this version's store learns (migration 0016): one store per sport. */
    sport: text('sport').notNull(),
    appliedKnownAt: timestamp('applied_known_at', { withTimezone: true, mode: 'date' }),
    appliedStartAt: timestamp('applied_start_at', { withTimezone: true, mode: 'date' }),
    appliedMatchId: bigint('applied_match_id', { mode: 'number' }),
    appliedResults: integer('applied_results').notNull().default(0),
    nextKnownAt: timestamp('next_known_at', { withTimezone: true, mode: 'date' }),
    rebuildRequired: boolean('rebuild_required').notNull().default(false),
    advancedAt: timestamp('advanced_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('feature_store_progress_one_per_sport').on(t.sport)],
);

export const featureTeamStates = pgTable(
  'feature_team_states',
  {
    featureVersion: text('feature_version').notNull(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    state: json('state').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.featureVersion, t.teamId] })],
);

export const featurePairStates = pgTable(
  'feature_pair_states',
  {
    featureVersion: text('feature_version').notNull(),
    teamLow: integer('team_low')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    teamHigh: integer('team_high')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    state: json('state').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.featureVersion, t.teamLow, t.teamHigh] })],
);

export const featureLeagueStates = pgTable(
  'feature_league_states',
  {
    featureVersion: text('feature_version').notNull(),
    competitionId: integer('competition_id')
      .notNull()
      .references(() => competitions.id, { onDelete: 'cascade' }),
    state: json('state').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.featureVersion, t.competitionId] })],
);

/** The vectors predictions were served from (migration 0011), one per persisted prediction, kept 6 months. */
export const servedFeatureVectors = pgTable(
  'served_feature_vectors',
  {
    matchId: bigint('match_id', { mode: 'number' })
      .notNull()
      .references(() => matches.id, { onDelete: 'cascade' }),
    modelRunId: uuid('model_run_id').notNull(),
    predictedAt: timestamp('predicted_at', { withTimezone: true, mode: 'date' }).notNull(),
    featureVersion: text('feature_version').notNull(),
    values: real('values').array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.matchId, t.modelRunId, t.predictedAt] })],
);

export const featureVectors = pgTable(
  'feature_vectors',
  {
    matchId: bigint('match_id', { mode: 'number' })
      .notNull()
      .references(() => matches.id, { onDelete: 'cascade' }),
    featureVersion: text('feature_version').notNull(),
    asOf: timestamp('as_of', { withTimezone: true, mode: 'date' }).notNull(),
    values: real('values').array().notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.matchId, t.featureVersion] })],
);

export const modelRuns = pgTable(
  'model_runs',
  {
    /** The bundle id (models/bundles/<id>), also the R2 prefix of its artifacts. */
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    status: text('status', { enum: MODEL_RUN_STATUSES }).notNull().default('candidate'),
    /** The sport whose matches the run prices (migration 0016): each sport has at most one active run. */
    sportId: smallint('sport_id')
      .notNull()
      .references(() => sports.id),
    featureVersion: text('feature_version').notNull(),
    /** R2 key prefix of the bundle: `<prefix>bundle.json`, `<prefix>model-1x2.onnx`, ... */
    artifactKey: text('artifact_key').notNull(),
    /** sha256 of bundle.json, which itself lists the sha256 of every artifact. */
    artifactSha256: text('artifact_sha256').notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    trainedFrom: date('trained_from', { mode: 'string' }),
    trainedTo: date('trained_to', { mode: 'string' }),
    createdAt: timestamps.createdAt,
    activatedAt: timestamp('activated_at', { withTimezone: true, mode: 'date' }),
    retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
    activatedBy: uuid('activated_by').references(() => users.id, { onDelete: 'set null' }),
    activationForced: boolean('activation_forced').notNull().default(false),
    activationReason: text('activation_reason'),
  },
  (t) => [uniqueIndex('model_runs_one_active_per_sport').on(t.sportId).where(sql`status = 'active'`)],
);

export const modelEvaluations = pgTable(
  'model_evaluations',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    modelRunId: uuid('model_run_id')
      .notNull()
      .references(() => modelRuns.id, { onDelete: 'cascade' }),
    split: text('split').notNull(),
    matchCount: integer('match_count').notNull(),
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull(),
    baselineMetrics: jsonb('baseline_metrics').$type<Record<string, unknown>>(),
    createdAt: timestamps.createdAt,
  },
  (t) => [index('model_evaluations_run_idx').on(t.modelRunId)],
);

/** Partitioned by month on predicted_at (see migrations/0002_partitions.sql). */
export const predictions = pgTable(
  'predictions',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    matchId: bigint('match_id', { mode: 'number' })
      .notNull()
      .references(() => matches.id, { onDelete: 'cascade' }),
    /** Migration 0015: NULL on a market-only prediction (a sport without a model), with feature_version. */
    modelRunId: uuid('model_run_id').references(() => modelRuns.id),
    market: text('market', { enum: MARKETS }).notNull(),
    outcome: text('outcome').notNull(),
    point: numeric('point', { precision: 6, scale: 2, mode: 'number' }),
    probability: doublePrecision('probability').notNull(),
    marketProbability: doublePrecision('market_probability'),
    bestPrice: numeric('best_price', { precision: 10, scale: 3, mode: 'number' }),
    bestBookmaker: text('best_bookmaker'),
    expectedValue: doublePrecision('expected_value'),
    kellyFraction: doublePrecision('kelly_fraction'),
    predictedAt: timestamp('predicted_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    settledAt: timestamp('settled_at', { withTimezone: true, mode: 'date' }),
    won: boolean('won'),
    closingPrice: numeric('closing_price', { precision: 10, scale: 3, mode: 'number' }),
    /** Migration 0009: the match's kick-off when predicted, and how the prediction was made. */
    kickoff: timestamp('kickoff', { withTimezone: true, mode: 'date' }).notNull(),
    featureVersion: text('feature_version'),
    marginMethod: text('margin_method', { enum: ['multiplicative', 'shin', 'power'] }).notNull(),
    kellyMultiplier: doublePrecision('kelly_multiplier').notNull(),
    kellyStake: doublePrecision('kelly_stake'),
    /** Settlement: profit of a 1-unit stake at best_price, and best_price / closing_price − 1. */
    profit: doublePrecision('profit'),
    clv: doublePrecision('clv'),
    /** Migration 0010: the anchor the probability started from (NULL on rows from before it was recorded). */
    anchorSource: text('anchor_source', { enum: ['pinnacle', 'consensus'] }),
    anchorBookmakers: text('anchor_bookmakers').array(),
    anchorLastUpdate: timestamp('anchor_last_update', { withTimezone: true, mode: 'date' }),
    anchorHoursToKickoff: doublePrecision('anchor_hours_to_kickoff'),
    /** best_price after an exchange's commission; NULL on older rows, where it is best_price. */
    bestPriceNet: numeric('best_price_net', { precision: 10, scale: 4, mode: 'number' }),
    exchangeCommission: doublePrecision('exchange_commission'),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.predictedAt] }),
    unique('predictions_natural_key')
      .on(t.matchId, t.predictedAt, t.modelRunId, t.market, t.outcome, t.point)
      .nullsNotDistinct(),
    index('predictions_match_run_market_idx').on(t.matchId, t.modelRunId, t.market),
    index('predictions_expected_value_idx').on(t.expectedValue),
    index('predictions_kickoff_idx').on(t.kickoff, t.id),
    index('predictions_unsettled_idx').on(t.matchId).where(sql`settled_at is null`),
  ],
);

export const backtestResults = pgTable(
  'backtest_results',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    modelRunId: uuid('model_run_id')
      .notNull()
      .references(() => modelRuns.id, { onDelete: 'cascade' }),
    strategy: text('strategy').notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [index('backtest_results_run_idx').on(t.modelRunId)],
);

export const ingestionJobs = pgTable(
  'ingestion_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').notNull(),
    provider: text('provider').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    stats: jsonb('stats').$type<Record<string, unknown>>().notNull().default({}),
    error: text('error'),
    trigger: text('trigger', { enum: JOB_TRIGGERS }).notNull().default('cron'),
    creditsUsed: integer('credits_used').notNull().default(0),
    creditsRemaining: integer('credits_remaining'),
    durationMs: integer('duration_ms'),
  },
  (t) => [
    index('ingestion_jobs_kind_started_idx').on(t.kind, t.startedAt),
    index('ingestion_jobs_provider_started_idx').on(t.provider, t.startedAt),
    index('ingestion_jobs_started_idx').on(t.startedAt.desc(), t.id.desc()),
  ],
);

/** Provider team names with no alias yet (migration 0007): the fixture was skipped, the name awaits review. */
export const unresolvedTeamNames = pgTable(
  'unresolved_team_names',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    provider: text('provider').notNull(),
    name: text('name').notNull(),
    competition: text('competition'),
    firstSeen: timestamp('first_seen', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastSeen: timestamp('last_seen', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    occurrences: integer('occurrences').notNull().default(1),
  },
  (t) => [unique('unresolved_team_names_provider_name_key').on(t.provider, t.name), check('unresolved_team_names_occurrences_check', sql`${t.occurrences} > 0`)],
);

export type Tier = (typeof TIERS)[number];
export type Role = (typeof ROLES)[number];
