import { and, desc, eq, gt, notExists, sql, type SQL } from 'drizzle-orm';
import { alias, type PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { PgDb } from '../db/pg';
import { MARKETS, matches, ODDS_PHASES, oddsSnapshots } from '../db/schema';
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

export class OddsService {
  constructor(private readonly db: () => PgDb) {}

  /**
   * One page of a match's odds, ordered by market, bookmaker, outcome, point, captured_at and provider
   * (text in byte order, so every Postgres agrees), which groups each line's price history together.
   * Null when the match does not exist.
   */
  async forMatch(matchId: number, query: OddsQuery, access: OddsAccess): Promise<Page<OddsSnapshot>> {
    // The match's capture range first: as constants in the odds query it lets Postgres prune the monthly
    // partitions at plan time (~2 ms planning instead of ~30 ms over ten seasons; migration 0005). As text, so
    // the bounds keep their microseconds.
    const db = this.db();
    const range = await db
      .select({ first: sql<string | null>`${matches.oddsCapturedFrom}::text`, last: sql<string | null>`${matches.oddsCapturedTo}::text` })
      .from(matches)
      .where(sql`${matches.id} = ${matchId}::bigint`);
    if (range.length === 0) throw NotFoundError.of('match', matchId);
    const { first: firstCapture, last: lastCapture } = range[0]!;
    if (firstCapture === null || lastCapture === null) return { data: [], nextCursor: null };
    const v = alias(oddsSnapshots, 'v');
    const captured = (capturedAt: PgColumn) => sql`${capturedAt} between ${firstCapture}::timestamptz and ${lastCapture}::timestamptz`;

    const visible: SQL[] = [sql`${v.matchId} = ${matchId}::bigint`, captured(v.capturedAt)];
    if (access.historySince) {
      const newer = alias(oddsSnapshots, 'newer');
      const superseded = db
        .select({ one: sql`1` })
        .from(newer)
        .where(
          and(
            captured(newer.capturedAt),
            eq(newer.matchId, v.matchId),
            eq(newer.bookmaker, v.bookmaker),
            eq(newer.market, v.market),
            eq(newer.outcome, v.outcome),
            sql`${newer.point} is not distinct from ${v.point}`,
            gt(newer.capturedAt, v.capturedAt),
          ),
        );
      visible.push(sql`(${v.capturedAt} >= ${access.historySince.toISOString()}::timestamptz or ${notExists(superseded)})`);
    }
    if (query.market) visible.push(eq(v.market, query.market));
    if (query.bookmaker) visible.push(eq(v.bookmaker, query.bookmaker));
    if (query.phase) visible.push(eq(v.phase, query.phase));
    if (query.from) visible.push(sql`${v.capturedAt} >= ${query.from.toISOString()}::timestamptz`);
    if (query.to) visible.push(sql`${v.capturedAt} < ${query.to.toISOString()}::timestamptz`);

    const filtered = (query.latest ? db.selectDistinctOn([v.bookmaker, v.market, v.outcome, v.point]) : db.select())
      .from(v)
      .where(and(...visible))
      .$dynamic();
    const source = (
      query.latest ? filtered.orderBy(v.bookmaker, v.market, v.outcome, v.point, desc(v.capturedAt), v.provider) : filtered
    ).as('s');

    const sortKey = [
      sql`${source.market} collate "C"`,
      sql`${source.bookmaker} collate "C"`,
      sql`${source.outcome} collate "C"`,
      sql`coalesce(${source.point}, ${NO_POINT})`,
      sql`${source.capturedAt}`,
      sql`${source.provider} collate "C"`,
    ];
    const after = query.cursor?.position;
    const pageOf = db
      .select({
        bookmaker: source.bookmaker,
        market: source.market,
        outcome: source.outcome,
        point: sql<number | null>`${source.point}::float8`.as('point'),
        price: sql<number>`${source.price}::float8`.as('price'),
        phase: source.phase,
        provider: source.provider,
        capturedAt: sql<string>`to_char(${source.capturedAt} at time zone 'UTC', ${MICROSECOND_INSTANT_FORMAT})`.as('captured_at'),
        position: sql<number>`row_number() over (order by ${sql.join(sortKey, sql`, `)})`.as('position'),
      })
      .from(source)
      .where(
        after
          ? sql`(${sql.join(sortKey, sql`, `)}) > (${after[0]}::text collate "C", ${after[1]}::text collate "C", ${after[2]}::text collate "C",
          coalesce(${after[3]}::numeric, ${NO_POINT}), ${after[4]}::timestamptz, ${after[5]}::text collate "C")`
          : undefined,
      )
      .orderBy(...sortKey)
      .limit(query.limit + 1)
      .as('o');

    // The left join keeps the match row when no price passes the filters, so an empty page is still one row.
    const result = await db
      .select({
        bookmaker: pageOf.bookmaker,
        market: pageOf.market,
        outcome: pageOf.outcome,
        point: pageOf.point,
        price: pageOf.price,
        phase: pageOf.phase,
        provider: pageOf.provider,
        capturedAt: pageOf.capturedAt,
      })
      .from(matches)
      .leftJoin(pageOf, sql`true`)
      .where(sql`${matches.id} = ${matchId}::bigint`)
      .orderBy(pageOf.position);
    if (result.length === 0) throw NotFoundError.of('match', matchId);

    const rows = result.flatMap((r) =>
      r.bookmaker === null || r.market === null || r.outcome === null || r.price === null || r.phase === null || r.provider === null || r.capturedAt === null
        ? []
        : [{ ...r, bookmaker: r.bookmaker, market: r.market, outcome: r.outcome, price: r.price, phase: r.phase, provider: r.provider, capturedAt: r.capturedAt }],
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > query.limit && last
        ? oddsCursor.encode(
            [last.market, last.bookmaker, last.outcome, last.point, last.capturedAt, last.provider],
            oddsFiltersOf(query),
          )
        : null;
    return {
      data: page.map((r) => ({
        bookmaker: r.bookmaker,
        market: r.market,
        outcome: r.outcome,
        point: r.point === null ? null : Number(r.point),
        price: Number(r.price),
        phase: r.phase,
        capturedAt: new Date(r.capturedAt).toISOString(),
        provider: r.provider,
      })),
      nextCursor,
    };
  }
}
