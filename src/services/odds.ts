import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client';
import { MARKETS, ODDS_PHASES } from '../db/schema';
import type { OddsSnapshot } from '../schemas/odds';
import { cursorCodec, MICROSECOND_INSTANT_FORMAT, MicrosecondInstant, type DecodedCursor, type Page } from './pagination';
import { NotFoundError } from '../lib/errors';

export type Market = (typeof MARKETS)[number];
export type OddsPhase = (typeof ODDS_PHASES)[number];

/**
 * Which part of a match's odds history a caller may read. Tier rules arrive with authentication (free:
 * the latest price of every line plus the last 7 days; premium and pro: everything); the service enforces
 * whatever it is given, so that change only has to decide the value.
 */
export interface OddsAccess {
  /**
   * Rows captured before this instant are hidden, except the latest price of each line, which is always
   * visible. "Latest" is judged over the whole match, not within the caller's filters: otherwise
   * `to=<an old date>&latest=true` would read any point of the hidden history. Null: the full history.
   */
  historySince: Date | null;
}

export const FULL_ODDS_HISTORY: OddsAccess = Object.freeze({ historySince: null });

export interface OddsFilters {
  market?: Market;
  bookmaker?: string;
  phase?: OddsPhase;
  /** Inclusive, on captured_at. */
  from?: Date;
  /** Exclusive, on captured_at. */
  to?: Date;
  /** Only the latest price per (bookmaker, market, outcome, point). */
  latest: boolean;
}

/** The sort key of the last row served: market, bookmaker, outcome, point, captured_at, provider. */
type OddsPosition = [Market, string, string, number | null, string, string];

export interface OddsQuery extends OddsFilters {
  limit: number;
  cursor?: DecodedCursor<OddsPosition>;
}

const Text = z.string().min(1).max(200);

export const oddsCursor = cursorCodec<OddsPosition>(
  'odds',
  z.tuple([z.enum(MARKETS), Text, Text, z.number().gt(-10_000).lt(10_000).nullable(), MicrosecondInstant, Text]),
);

/** The part of an odds query a cursor is bound to: every filter (the match id is a path parameter). */
export const oddsFiltersOf = (q: OddsFilters) => ({
  market: q.market,
  bookmaker: q.bookmaker,
  phase: q.phase,
  from: q.from,
  to: q.to,
  latest: q.latest,
});

// `point` is numeric(6,2), so -10000 sorts below every real line: NULL (the 1X2 "no line") comes first and
// the keyset comparison needs no NULL logic.
const NO_POINT = -10_000;

type OddsRow = {
  match_id: string;
  bookmaker: string | null;
  market: Market;
  outcome: string;
  point: number | null;
  price: number;
  phase: OddsPhase;
  provider: string;
  captured_at: string;
};

export class OddsService {
  constructor(private readonly db: () => Database) {}

  /**
   * One page of a match's odds, ordered by market, bookmaker, outcome, point, captured_at and provider
   * (text in byte order, so every Postgres agrees), which groups each line's price history together.
   * Null when the match does not exist.
   */
  async forMatch(matchId: number, query: OddsQuery, access: OddsAccess): Promise<Page<OddsSnapshot>> {
    // The match's capture range first: as constants in the odds query it lets Postgres prune the monthly
    // partitions at plan time (~2 ms planning instead of ~30 ms over ten seasons; migration 0005).
    const range = await this.db().execute<{ first: string | null; last: string | null }>(
      sql`select odds_captured_from::text as first, odds_captured_to::text as last from matches where id = ${matchId}::bigint`,
    );
    if (range.rows.length === 0) throw NotFoundError.of('match', matchId);
    const { first: firstCapture, last: lastCapture } = range.rows[0]!;
    if (firstCapture === null || lastCapture === null) return { data: [], nextCursor: null };
    const captured = (alias: string) =>
      sql`${sql.raw(alias)}.captured_at between ${firstCapture}::timestamptz and ${lastCapture}::timestamptz`;

    const visible: SQL[] = [sql`v.match_id = ${matchId}::bigint`, captured('v')];
    if (access.historySince) {
      visible.push(sql`(v.captured_at >= ${access.historySince.toISOString()}::timestamptz or not exists (
        select 1 from odds_snapshots newer
        where ${captured('newer')} and newer.match_id = v.match_id and newer.bookmaker = v.bookmaker and newer.market = v.market
          and newer.outcome = v.outcome and newer.point is not distinct from v.point and newer.captured_at > v.captured_at))`);
    }
    if (query.market) visible.push(sql`v.market = ${query.market}`);
    if (query.bookmaker) visible.push(sql`v.bookmaker = ${query.bookmaker}`);
    if (query.phase) visible.push(sql`v.phase = ${query.phase}`);
    if (query.from) visible.push(sql`v.captured_at >= ${query.from.toISOString()}::timestamptz`);
    if (query.to) visible.push(sql`v.captured_at < ${query.to.toISOString()}::timestamptz`);
    const where = sql.join(visible, sql` and `);

    const source = query.latest
      ? sql`(select distinct on (v.bookmaker, v.market, v.outcome, v.point) v.* from odds_snapshots v where ${where}
             order by v.bookmaker, v.market, v.outcome, v.point, v.captured_at desc, v.provider)`
      : sql`(select v.* from odds_snapshots v where ${where})`;

    const sortKey = sql`s.market collate "C", s.bookmaker collate "C", s.outcome collate "C", coalesce(s.point, ${NO_POINT}), s.captured_at, s.provider collate "C"`;
    const after = query.cursor?.position;
    const keyset = after
      ? sql`where (${sortKey}) > (${after[0]}::text collate "C", ${after[1]}::text collate "C", ${after[2]}::text collate "C",
          coalesce(${after[3]}::numeric, ${NO_POINT}), ${after[4]}::timestamptz, ${after[5]}::text collate "C")`
      : sql``;

    // The left join keeps the match row when no price passes the filters, so an empty page is still one row.
    const result = await this.db().execute<OddsRow>(sql`
      select m.id::text as match_id, o.bookmaker, o.market, o.outcome, o.point, o.price, o.phase, o.provider, o.captured_at
      from matches m
      left join (
        select s.bookmaker, s.market, s.outcome, s.point::float8 as point, s.price::float8 as price, s.phase, s.provider,
               to_char(s.captured_at at time zone 'UTC', ${MICROSECOND_INSTANT_FORMAT}) as captured_at,
               row_number() over (order by ${sortKey}) as position
        from ${source} s
        ${keyset}
        order by ${sortKey}
        limit ${query.limit + 1}
      ) o on true
      where m.id = ${matchId}::bigint
      order by o.position`);
    if (result.rows.length === 0) throw NotFoundError.of('match', matchId);

    const rows = result.rows.filter((r) => r.bookmaker !== null);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > query.limit && last
        ? oddsCursor.encode(
            [last.market, last.bookmaker!, last.outcome, last.point, last.captured_at, last.provider],
            oddsFiltersOf(query),
          )
        : null;
    return {
      data: page.map((r) => ({
        bookmaker: r.bookmaker!,
        market: r.market,
        outcome: r.outcome,
        point: r.point === null ? null : Number(r.point),
        price: Number(r.price),
        phase: r.phase,
        capturedAt: new Date(r.captured_at).toISOString(),
        provider: r.provider,
      })),
      nextCursor,
    };
  }
}
