// The feature matrix of a window of matches, computed from all history in the database: two reads (every
// match, and the pre-kick-off prices of the feature bookmakers), then the shared builder's timeline.
// Used by `npm run features:export` and callable by the evaluation CLI.
import type pg from 'pg';
import type { MatchStats } from '../../../src/db/schema';
import {
  FEATURE_BOOKMAKERS,
  FEATURE_VERSION,
  PRE_MATCH_PHASES,
  computeFeatureVectors,
  featureStateAt,
  selectPreMatchOdds,
  type FeatureStateStore,
  type OddsQuote,
  type PreMatchOdds,
  type TimelineMatch,
} from '../../../src/services/features';

export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.ClientBase, 'query'>;

export interface FeatureMatrixOptions {
  /** First kick-off day to include (UTC, inclusive): a Date or 'YYYY-MM-DD'. */
  from?: Date | string;
  /** Last kick-off day to include (UTC, inclusive: the whole day): a Date or 'YYYY-MM-DD'. */
  to?: Date | string;
}

export interface FeatureRow {
  matchId: number;
  startAt: Date;
  season: string | null;
  /** The competition's key, e.g. soccer_epl. */
  competition: string;
  homeTeam: string;
  awayTeam: string;
  status: string;
  homeScore: number | null;
  awayScore: number | null;
  /** 0 home win, 1 draw, 2 away win; null until the match is finished. */
  label1x2: 0 | 1 | 2 | null;
  /** 1 if more than 2.5 goals, else 0; null until the match is finished. */
  labelOu25: 0 | 1 | null;
  featureVersion: string;
  /** The prediction time: what the vector knows is what was known then. */
  asOf: Date;
  /** FEATURE_NAMES order; NaN for missing. */
  values: Float64Array;
  /** The prices the vector's market features were made from (what the anchors are made from, too). */
  odds: PreMatchOdds;
}

export interface LoadedMatch extends TimelineMatch {
  competition: string;
  homeTeam: string;
  awayTeam: string;
}

export interface FeatureInputs {
  matches: LoadedMatch[];
  quotes: Map<number, OddsQuote[]>;
}

const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD' (a real calendar date) → 00:00 UTC of that day. */
export function parseDay(value: string): Date {
  const m = value.match(/^(\d{4})-(\d{2})-(\d{2})$/);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!d || d.toISOString().slice(0, 10) !== value) throw new RangeError(`"${value}" is not a date of the form YYYY-MM-DD`);
  return d;
}

const dayStart = (v: Date | string) => (typeof v === 'string' ? parseDay(v) : new Date(Date.UTC(v.getUTCFullYear(), v.getUTCMonth(), v.getUTCDate())));

/** [from, to) in ms for a window of kick-off days. */
export function windowBounds(options: FeatureMatrixOptions): { from: number; to: number } {
  const from = options.from === undefined ? -Infinity : dayStart(options.from).getTime();
  const to = options.to === undefined ? Infinity : dayStart(options.to).getTime() + DAY_MS;
  if (from >= to) throw new RangeError('--from must not be after --to');
  return { from, to };
}

/**
 * Every match (the builder needs all earlier results even for a window) and the prices the features may use:
 * Pinnacle, market average and market best, 1X2 and over/under 2.5, pre-kick-off phases captured before
 * kick-off. Closing and in-play prices are not read at all.
 */
export async function loadFeatureInputs(db: Queryable): Promise<FeatureInputs> {
  const [matches, quotes] = await Promise.all([loadMatches(db), loadPreMatchQuotes(db)]);
  return { matches, quotes };
}

/**
 * Every football match with its teams, competition, result and statistics, by kick-off. Football only: these are
 * the 72 football features, and a database may also hold another sport's history (the NBA archive,
 * docs/sports.md), whose games must not become football training rows.
 */
export async function loadMatches(db: Queryable): Promise<LoadedMatch[]> {
  const matchRows = await db.query<{
    id: string;
    competition_id: number;
    competition: string;
    season: string | null;
    home_team_id: number;
    home_team: string;
    away_team_id: number;
    away_team: string;
    start_ms: number;
    start_time_known: boolean;
    status: string;
    home_score: number | null;
    away_score: number | null;
    stats: MatchStats | null;
  }>(
    `select m.id, m.competition_id, c.key as competition, m.season, m.home_team_id, h.name as home_team, m.away_team_id,
            a.name as away_team, (extract(epoch from m.start_at) * 1000)::float8 as start_ms, m.start_time_known, m.status,
            m.home_score, m.away_score, m.stats
     from matches m
     join sports s on s.id = m.sport_id and s.key = 'soccer'
     join competitions c on c.id = m.competition_id
     join teams h on h.id = m.home_team_id
     join teams a on a.id = m.away_team_id
     order by m.start_at, m.id`,
  );
  return matchRows.rows.map((r) => ({
    matchId: Number(r.id),
    competitionId: Number(r.competition_id),
    competition: r.competition,
    season: r.season,
    homeTeamId: Number(r.home_team_id),
    homeTeam: r.home_team,
    awayTeamId: Number(r.away_team_id),
    awayTeam: r.away_team,
    startAt: r.start_ms,
    startTimeKnown: r.start_time_known,
    status: r.status,
    homeScore: r.home_score,
    awayScore: r.away_score,
    stats: r.stats,
  }));
}

/** The prices features may use, by match id. */
export async function loadPreMatchQuotes(db: Queryable): Promise<Map<number, OddsQuote[]>> {
  const oddsRows = await db.query<[string, string, string, string, number | null, number, string, number]>({
    text: `select o.match_id, o.bookmaker, o.market, o.outcome, o.point::float8, o.price::float8, o.phase,
                  (extract(epoch from o.captured_at) * 1000)::float8
           from odds_snapshots o
           join matches m on m.id = o.match_id
           where o.phase = any($1::text[]) and o.bookmaker = any($2::text[])
             and (o.market = 'h2h' or (o.market = 'totals' and o.point = 2.5))
             and o.captured_at < m.start_at`,
    values: [[...PRE_MATCH_PHASES], [...FEATURE_BOOKMAKERS]],
    rowMode: 'array',
  });
  const quotes = new Map<number, OddsQuote[]>();
  for (const [matchId, bookmaker, market, outcome, point, price, phase, capturedAt] of oddsRows.rows) {
    const id = Number(matchId);
    let list = quotes.get(id);
    if (!list) quotes.set(id, (list = []));
    list.push({ bookmaker, market, outcome, point, price, phase, capturedAt });
  }
  return quotes;
}

function labels(m: TimelineMatch): Pick<FeatureRow, 'label1x2' | 'labelOu25'> {
  if (m.status !== 'finished' || m.homeScore === null || m.awayScore === null) return { label1x2: null, labelOu25: null };
  return {
    label1x2: m.homeScore > m.awayScore ? 0 : m.homeScore === m.awayScore ? 1 : 2,
    labelOu25: m.homeScore + m.awayScore > 2.5 ? 1 : 0,
  };
}

/** Feature rows of the matches kicking off in the window, sorted by kick-off then id, from loaded inputs. */
export function featureMatrixFromInputs(inputs: FeatureInputs, options: FeatureMatrixOptions = {}): FeatureRow[] {
  const { from, to } = windowBounds(options);
  const byId = new Map(inputs.matches.map((m) => [m.matchId, m]));
  const vectors = computeFeatureVectors(inputs.matches, inputs.quotes, { include: (m) => m.startAt >= from && m.startAt < to });
  return vectors.map((v) => {
    const m = byId.get(v.matchId)!;
    return {
      matchId: m.matchId,
      startAt: new Date(m.startAt),
      season: m.season,
      competition: m.competition,
      homeTeam: m.homeTeam,
      awayTeam: m.awayTeam,
      status: m.status,
      homeScore: m.homeScore,
      awayScore: m.awayScore,
      ...labels(m),
      featureVersion: FEATURE_VERSION,
      asOf: new Date(v.predictionTime),
      values: v.values,
      odds: selectPreMatchOdds(inputs.quotes.get(m.matchId) ?? [], v.predictionTime, m.startAt),
    };
  });
}

/** buildFeatureMatrix(pool, { from, to }): the feature rows of a window, built from all history. */
export async function buildFeatureMatrix(db: Queryable, options: FeatureMatrixOptions = {}): Promise<FeatureRow[]> {
  windowBounds(options);
  return featureMatrixFromInputs(await loadFeatureInputs(db), options);
}

/** The team, pair and league states as of `asOf` (every result known by then), e.g. to precompute into KV. */
export async function buildFeatureState(db: Queryable, asOf: Date): Promise<FeatureStateStore> {
  return featureStateAt(await loadMatches(db), asOf.getTime());
}
