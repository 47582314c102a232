import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { PgDb } from '../db/pg';
import { sports, teams } from '../db/schema';
import { cursorCodec, type DecodedCursor, type Page } from './pagination';
import { NotFoundError } from '../lib/errors';

export interface Sport {
  id: number;
  key: string;
  name: string;
}

export interface Team {
  id: number;
  name: string;
}

/** Teams are listed by name (byte order, so every Postgres sorts them alike), then id. */
export const teamCursor = cursorCodec(
  'teams',
  z.tuple([z.string().max(500), z.number().int().positive().max(Number.MAX_SAFE_INTEGER)]),
);

export interface TeamListQuery {
  limit: number;
  cursor?: DecodedCursor<[string, number]>;
}

/** Teams have no filters yet; the cursor still carries a checksum, so an edited one is refused. */
export const teamFilters = () => ({});

export class SportsService {
  constructor(private readonly db: () => PgDb) {}

  /** The sport, or a NotFoundError. */
  async get(sportId: number): Promise<Sport> {
    const [sport] = await this.db()
      .select({ id: sports.id, key: sports.key, name: sports.name })
      .from(sports)
      .where(sql`${sports.id} = ${sportId}::bigint`);
    if (!sport) throw NotFoundError.of('sport', sportId);
    return sport;
  }

  async list(): Promise<Sport[]> {
    return this.db().select({ id: sports.id, key: sports.key, name: sports.name }).from(sports).orderBy(asc(sports.id));
  }

  /** The teams of a sport, one page; null when the sport does not exist. */
  async teams(sportId: number, query: TeamListQuery): Promise<Page<Team>> {
    const after = query.cursor?.position;
    const db = this.db();
    const byName = sql`${teams.name} collate "C"`;
    const page = db
      .select({ id: teams.id, name: teams.name })
      .from(teams)
      .where(
        and(
          eq(teams.sportId, sports.id),
          after ? sql`(${byName}, ${teams.id}) > (${after[0]}::text collate "C", ${after[1]}::bigint)` : undefined,
        ),
      )
      .orderBy(byName, teams.id)
      .limit(query.limit + 1)
      .as('t');
    // One round trip: the sport row tells "unknown sport" apart from "a sport with no teams (yet)".
    const result = await db
      .select({ id: page.id, name: page.name })
      .from(sports)
      .leftJoinLateral(page, sql`true`)
      .where(sql`${sports.id} = ${sportId}::bigint`)
      .orderBy(sql`${page.name} collate "C"`, page.id);
    if (result.length === 0) throw NotFoundError.of('sport', sportId);
    const rows = result.flatMap((r) => (r.id === null ? [] : [{ id: r.id, name: r.name! }]));
    const data = rows.slice(0, query.limit);
    const last = data[data.length - 1];
    const nextCursor = rows.length > query.limit && last ? teamCursor.encode([last.name, last.id], teamFilters()) : null;
    return { data, nextCursor };
  }
}
