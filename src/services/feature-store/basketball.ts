// Basketball's feature store (nba-v1): each team's NbaTeamState (Elo with the margin of victory, its season's games,
// where and when it last played), one row per team in feature_team_states. A result touches its two teams, so the
// store applies results one at a time as they become known; a team plays at most once a date, which makes that
// the same as the training walker's date-by-date application (applyNbaResult).
import { aliasedTable, and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { anyOf, type PgDb } from '../../db/pg';
import { competitions, featureTeamStates, matches, teams } from '../../db/schema';
import { seasonLabel } from '../features';
import {
  applyNbaResult,
  createNbaTeamState,
  gameDate,
  NBA_FEATURE_SPORT,
  NBA_FEATURE_VERSION,
  NBA_VENUES,
  type NbaGameInput,
  type NbaTeamState,
} from '../features/basketball';
import { ofSport, STATE_BATCH, type PendingResult, type SportFeatureStore } from './advance';

/** A finished game as the store applies it: the builder's input, with the ids its states are stored under. */
export interface NbaResult extends PendingResult {
  game: NbaGameInput;
  homeTeamId: number;
  awayTeamId: number;
}

/** The states a batch of results touches: team id → state. */
type NbaStates = Map<number, NbaTeamState>;

const home = aliasedTable(teams, 'home');
const away = aliasedTable(teams, 'away');

/** The columns a basketball game's features need, with its teams' and competition's keys. */
export const nbaGameColumns = {
  id: matches.id,
  competition: competitions.key,
  season: matches.season,
  startAt: matches.startAt,
  startTimeKnown: matches.startTimeKnown,
  status: matches.status,
  homeScore: matches.homeScore,
  awayScore: matches.awayScore,
  homeTeamId: matches.homeTeamId,
  awayTeamId: matches.awayTeamId,
  homeTeam: home.key,
  awayTeam: away.key,
};

export interface NbaGameRow {
  id: number;
  competition: string;
  season: string | null;
  startAt: Date;
  startTimeKnown: boolean;
  status: string;
  homeScore: number | null;
  awayScore: number | null;
  homeTeamId: number;
  awayTeamId: number;
  homeTeam: string | null;
  awayTeam: string | null;
}

/** The builder's input for a game; null for a game of a team the data file does not declare (no key, no arenas). */
export function nbaGameOf(r: NbaGameRow): NbaGameInput | null {
  if (!r.homeTeam || !r.awayTeam) return null;
  return {
    matchId: r.id,
    competition: r.competition,
    season: seasonLabel({ season: r.season, startAt: r.startAt.getTime() }),
    date: gameDate(r.startAt, r.startTimeKnown),
    homeTeam: r.homeTeam,
    awayTeam: r.awayTeam,
    homeScore: r.homeScore,
    awayScore: r.awayScore,
    moneyline: null,
    spreadHome: null,
    total: null,
  };
}

/** `select … from matches` joined to the keys nbaGameOf needs. */
export const selectNbaGames = (db: PgDb) =>
  db
    .select(nbaGameColumns)
    .from(matches)
    .innerJoin(competitions, eq(competitions.id, matches.competitionId))
    .innerJoin(home, eq(home.id, matches.homeTeamId))
    .innerJoin(away, eq(away.id, matches.awayTeamId));

export const BASKETBALL_FEATURE_STORE: SportFeatureStore<NbaResult, NbaStates> = {
  featureVersion: NBA_FEATURE_VERSION,
  sport: NBA_FEATURE_SPORT,

  async pending(db) {
    const rows = await selectNbaGames(db).where(
      and(eq(matches.status, 'finished'), isNull(matches.featuresAppliedAt), isNotNull(matches.homeScore), isNotNull(matches.awayScore), ofSport(db, NBA_FEATURE_SPORT)),
    );
    const out: NbaResult[] = [];
    for (const r of rows) {
      const game = nbaGameOf(r);
      // A game of an undeclared team never enters the states, as in the training walker.
      if (game) out.push({ matchId: r.id, startAt: r.startAt.getTime(), startTimeKnown: r.startTimeKnown, game, homeTeamId: r.homeTeamId, awayTeamId: r.awayTeamId });
    }
    return out;
  },

  async load(db, results) {
    const ids = [...new Set(results.flatMap((r) => [r.homeTeamId, r.awayTeamId]))];
    const rows = await db
      .select({ teamId: featureTeamStates.teamId, state: featureTeamStates.state })
      .from(featureTeamStates)
      .where(and(eq(featureTeamStates.featureVersion, NBA_FEATURE_VERSION), anyOf(featureTeamStates.teamId, ids)));
    return new Map(rows.map((r) => [r.teamId, r.state as NbaTeamState]));
  },

  apply(states, r) {
    const [h, a] = applyNbaResult(
      r.game,
      states.get(r.homeTeamId) ?? createNbaTeamState(r.game.homeTeam),
      states.get(r.awayTeamId) ?? createNbaTeamState(r.game.awayTeam),
      NBA_VENUES,
    );
    states.set(r.homeTeamId, h);
    states.set(r.awayTeamId, a);
  },

  async write(db, states, results) {
    const ids = [...new Set(results.flatMap((r) => [r.homeTeamId, r.awayTeamId]))];
    for (let i = 0; i < ids.length; i += STATE_BATCH) {
      await db
        .insert(featureTeamStates)
        .values(ids.slice(i, i + STATE_BATCH).map((teamId) => ({ featureVersion: NBA_FEATURE_VERSION, teamId, state: states.get(teamId) })))
        .onConflictDoUpdate({ target: [featureTeamStates.featureVersion, featureTeamStates.teamId], set: { state: sql`excluded.state`, updatedAt: sql`now()` } });
    }
  },

  async clear(db) {
    await db.delete(featureTeamStates).where(eq(featureTeamStates.featureVersion, NBA_FEATURE_VERSION));
  },
};
