import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import { alias, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { PgDb } from '../db/pg';
import { competitions, matches, teams, type MatchStats, type SideStats } from '../db/schema';
import type { Match } from '../schemas/matches';
import { cursorCodec, MICROSECOND_INSTANT_FORMAT, MicrosecondInstant, type DecodedCursor, type Page } from './pagination';
import { NotFoundError } from '../lib/errors';

export type SortOrder = 'asc' | 'desc';
export type MatchStatus = Match['status'];

export interface MatchFilters {
  /** Inclusive, on start_at. */
  from?: Date;
  /** Exclusive, on start_at. */
  to?: Date;
  sportId?: number;
  competitionId?: number;
  /** Home or away. */
  teamId?: number;
  status?: MatchStatus;
}

type MatchPosition = [SortOrder, string, number];

export interface MatchListQuery extends MatchFilters {
  /** Absent: the cursor's order, else newest first. */
  order?: SortOrder;
  limit: number;
  cursor?: DecodedCursor<MatchPosition>;
}

/** Position = the order and the (start_at, id) of the last row served: the key of matches_start_at_idx. */
export const matchCursor = cursorCodec<MatchPosition>(
  'matches',
  z.tuple([z.enum(['asc', 'desc']), MicrosecondInstant, z.number().int().positive().max(Number.MAX_SAFE_INTEGER)]),
);

/** The part of a list query a cursor is bound to (order travels in the cursor itself). */
export const matchFiltersOf = (q: MatchFilters) => ({
  from: q.from,
  to: q.to,
  sportId: q.sportId,
  competitionId: q.competitionId,
  teamId: q.teamId,
  status: q.status,
});

export const effectiveOrder = (q: Pick<MatchListQuery, 'order' | 'cursor'>): SortOrder => q.order ?? q.cursor?.position[0] ?? 'desc';

const homeTeam = alias(teams, 'home_team');
const awayTeam = alias(teams, 'away_team');

const matchColumns = {
  id: matches.id,
  sportId: matches.sportId,
  season: matches.season,
  status: matches.status,
  startAt: matches.startAt,
  startTimeKnown: matches.startTimeKnown,
  homeScore: matches.homeScore,
  awayScore: matches.awayScore,
  homeHalfTimeScore: matches.homeHalfTimeScore,
  awayHalfTimeScore: matches.awayHalfTimeScore,
  stats: matches.stats,
  referee: matches.referee,
  competitionId: competitions.id,
  competitionKey: competitions.key,
  competitionName: competitions.name,
  homeTeamId: homeTeam.id,
  homeTeamName: homeTeam.name,
  awayTeamId: awayTeam.id,
  awayTeamName: awayTeam.name,
  sortKey: sql<string>`to_char(${matches.startAt} at time zone 'UTC', ${MICROSECOND_INSTANT_FORMAT})`,
};

const selectMatches = (db: PgDb) =>
  db
    .select(matchColumns)
    .from(matches)
    .innerJoin(competitions, eq(competitions.id, matches.competitionId))
    .innerJoin(homeTeam, eq(homeTeam.id, matches.homeTeamId))
    .innerJoin(awayTeam, eq(awayTeam.id, matches.awayTeamId));

type MatchRow = Awaited<ReturnType<typeof selectMatches>>[number];

// Ids are compared as bigint: a query-string id too large for a smallint or integer column then matches
// nothing instead of making Postgres raise "out of range".
const idEquals = (column: AnyPgColumn, id: number) => sql`${column} = ${id}::bigint`;

export class MatchesService {
  constructor(private readonly db: () => PgDb) {}

  async byId(id: number): Promise<Match> {
    const [row] = await selectMatches(this.db()).where(idEquals(matches.id, id)).limit(1);
    if (!row) throw NotFoundError.of('match', id);
    return toMatch(row);
  }

  /** One page of matches, keyset-paginated on (start_at, id). */
  async list(query: MatchListQuery): Promise<Page<Match>> {
    const order = effectiveOrder(query);
    const conditions: SQL[] = [];
    if (query.from) conditions.push(sql`${matches.startAt} >= ${query.from.toISOString()}::timestamptz`);
    if (query.to) conditions.push(sql`${matches.startAt} < ${query.to.toISOString()}::timestamptz`);
    if (query.sportId !== undefined) conditions.push(idEquals(matches.sportId, query.sportId));
    if (query.competitionId !== undefined) conditions.push(idEquals(matches.competitionId, query.competitionId));
    if (query.teamId !== undefined) {
      conditions.push(sql`(${idEquals(matches.homeTeamId, query.teamId)} or ${idEquals(matches.awayTeamId, query.teamId)})`);
    }
    if (query.status !== undefined) conditions.push(eq(matches.status, query.status));
    const after = query.cursor?.position;
    if (after) {
      const comparison = order === 'desc' ? sql`<` : sql`>`;
      conditions.push(sql`(${matches.startAt}, ${matches.id}) ${comparison} (${after[1]}::timestamptz, ${after[2]}::bigint)`);
    }
    const direction = order === 'desc' ? desc : asc;
    const rows = await selectMatches(this.db())
      .where(and(...conditions))
      .orderBy(direction(matches.startAt), direction(matches.id))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > query.limit && last ? matchCursor.encode([order, last.sortKey, last.id], matchFiltersOf(query)) : null;
    return { data: page.map(toMatch), nextCursor };
  }
}

function toMatch(row: MatchRow): Match {
  const played = row.homeScore !== null && row.awayScore !== null;
  const halfTimeKnown = row.homeHalfTimeScore !== null && row.awayHalfTimeScore !== null;
  return {
    id: row.id,
    sportId: row.sportId,
    competition: { id: row.competitionId, key: row.competitionKey, name: row.competitionName },
    season: row.season,
    homeTeam: { id: row.homeTeamId, name: row.homeTeamName },
    awayTeam: { id: row.awayTeamId, name: row.awayTeamName },
    status: row.status,
    startAt: row.startAt.toISOString(),
    startTimeKnown: row.startTimeKnown,
    score: played
      ? {
          fullTime: { home: row.homeScore!, away: row.awayScore! },
          halfTime: halfTimeKnown ? { home: row.homeHalfTimeScore!, away: row.awayHalfTimeScore! } : null,
        }
      : null,
    statistics: row.stats ? toStatistics(row.stats) : null,
    referee: row.referee,
  };
}

// The jsonb is written by providers; every field is read defensively so a missing or odd value shows as
// null instead of breaking the response schema.
function toStatistics(stats: MatchStats) {
  return { home: toSideStatistics(stats.home), away: toSideStatistics(stats.away) };
}

const count = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : null);

function toSideStatistics(side: SideStats | undefined) {
  return {
    shots: count(side?.shots),
    shotsOnTarget: count(side?.shotsOnTarget),
    corners: count(side?.corners),
    fouls: count(side?.fouls),
    yellowCards: count(side?.yellowCards),
    redCards: count(side?.redCards),
  };
}
