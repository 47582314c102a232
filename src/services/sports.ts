import { asc, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client';
import { sports } from '../db/schema';
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
  constructor(private readonly db: () => Database) {}

  async list(): Promise<Sport[]> {
    return this.db().select({ id: sports.id, key: sports.key, name: sports.name }).from(sports).orderBy(asc(sports.id));
  }

  /** The teams of a sport, one page; null when the sport does not exist. */
  async teams(sportId: number, query: TeamListQuery): Promise<Page<Team>> {
    const after = query.cursor?.position;
    // One round trip: the sport row tells "unknown sport" apart from "a sport with no teams (yet)".
    const result = await this.db().execute<{ team_id: number | null; name: string | null }>(sql`
      select t.id as team_id, t.name
      from sports s
      left join lateral (
        select id, name from teams
        where sport_id = s.id
          ${after ? sql`and (name collate "C", id) > (${after[0]}::text collate "C", ${after[1]}::bigint)` : sql``}
        order by name collate "C", id
        limit ${query.limit + 1}
      ) t on true
      where s.id = ${sportId}::bigint
      order by t.name collate "C", t.id`);
    if (result.rows.length === 0) throw NotFoundError.of('sport', sportId);
    const rows = result.rows.filter((r) => r.team_id !== null).map((r) => ({ id: Number(r.team_id), name: r.name! }));
    const data = rows.slice(0, query.limit);
    const last = data[data.length - 1];
    const nextCursor = rows.length > query.limit && last ? teamCursor.encode([last.name, last.id], teamFilters()) : null;
    return { data, nextCursor };
  }
}
