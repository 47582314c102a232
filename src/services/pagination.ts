// Keyset pagination cursors. A cursor is opaque to clients: base64url of a small JSON document holding the
// sort key of the last row served, plus a checksum over that key and the query's filters. Keyset (not
// offset) pagination stays fast on deep pages and never skips or repeats a row when rows are added
// between two requests.
//
// The checksum is FNV-1a, not a signature: it catches a cursor that was edited or replayed with other
// filters (the page would silently belong to a different result set). A forged cursor can only move the
// page position, which any caller may do anyway, and every value in it is validated before it reaches SQL.
// Path parameters are not part of the binding (query schemas cannot see them): a cursor replayed under
// another sport or match only positions that list, which is equally harmless.
import { z } from 'zod';

export interface Page<T> {
  data: T[];
  /** Pass back as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** The filters a cursor is bound to. Dates are compared as instants, so `2024-01-01` equals `2024-01-01T00:00:00Z`. */
export type CursorQuery = Record<string, string | number | boolean | Date | null | undefined>;

/** A decoded but not yet verified cursor: its position and the checksum it claims. */
export interface DecodedCursor<P> {
  position: P;
  checksum: string;
}

export interface CursorCodec<P> {
  encode(position: P, query: CursorQuery): string;
  /** The `cursor` query-string field: a malformed cursor fails validation under the name `cursor`. */
  field(): z.ZodType<DecodedCursor<P>, string>;
  /** True when the cursor was issued by this codec for exactly these filters and not edited since. */
  belongsTo(cursor: DecodedCursor<P>, query: CursorQuery): boolean;
}

export const INVALID_CURSOR = 'is not a cursor issued by this API; start again without a cursor';
export const FOREIGN_CURSOR = 'belongs to a different query; repeat the parameters of the first page unchanged';

/** `position` validates every value a cursor may carry; it is parsed before anything reaches SQL. */
export function cursorCodec<P>(kind: string, position: z.ZodType<P>): CursorCodec<P> {
  const checksumOf = (pos: P, query: CursorQuery) => fnv1a(JSON.stringify([kind, pos, canonical(query)]));
  const Envelope = z.object({ k: z.literal(kind), p: position, c: z.string().regex(/^[0-9a-f]{8}$/) }).strict();
  return {
    encode: (pos, query) => base64UrlEncode(JSON.stringify({ k: kind, p: pos, c: checksumOf(pos, query) })),
    field: () =>
      z
        .string()
        .max(1024)
        .transform((raw, ctx) => {
          const parsed = Envelope.safeParse(parseJson(base64UrlDecode(raw)));
          if (!parsed.success) {
            ctx.addIssue({ code: 'custom', message: INVALID_CURSOR });
            return z.NEVER;
          }
          return { position: parsed.data.p, checksum: parsed.data.c };
        }),
    belongsTo: (cursor, query) => cursor.checksum === checksumOf(cursor.position, query),
  };
}

/** An instant as Postgres prints it with microseconds, so a cursor never rounds a sort key away. */
export const MicrosecondInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
  .refine((v) => {
    const date = new Date(v);
    // Round-tripping the millisecond part rejects 2023-02-30 and hour 24, which Postgres would refuse.
    return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.toISOString().slice(0, 23) === v.slice(0, 23);
  });

/** The SQL expression that prints a timestamptz column in `MicrosecondInstant` form. */
export const MICROSECOND_INSTANT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

function canonical(query: CursorQuery): Array<[string, string | number | boolean | null]> {
  return Object.keys(query)
    .filter((key) => query[key] !== undefined)
    .sort()
    .map((key) => {
      const value = query[key]!;
      return [key, value instanceof Date ? value.toISOString() : value];
    });
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

function base64UrlEncode(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlDecode(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
