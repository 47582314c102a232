// Building blocks for path and query parameters and for list responses. Query strings are parsed strictly:
// `limit=1e2`, `sportId=07`, `latest=yes` or a date-time without a zone are 400s that name the field, never
// silently coerced, and no value that passes can make Postgres raise (which would be a 500).
import { z } from '@hono/zod-openapi';
import { FOREIGN_CURSOR, type CursorCodec, type CursorQuery, type DecodedCursor } from '../services/pagination';

const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

/**
 * A positive integer id in a path or query string. Ids are compared with `::bigint` in SQL, so an id too
 * big for its column is simply unknown (404 or no rows), not a database error.
 */
export const idParam = (description: string, example = 1) =>
  z
    .string()
    .regex(POSITIVE_INTEGER, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER, `must be at most ${Number.MAX_SAFE_INTEGER}`))
    .openapi({ type: 'integer', minimum: 1, description, example });

/** `limit`: a page size between 1 and `max`. */
export const limitParam = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, `must be an integer between 1 and ${max}`)
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(max, `must be at most ${max}`))
    .optional()
    .transform((v) => v ?? fallback)
    .openapi({ type: 'integer', minimum: 1, maximum: max, default: fallback, description: `Page size, 1 to ${max}.` });

/** `true` or `false`, nothing else; absent means `fallback`. */
export const booleanParam = (description: string, fallback = false) =>
  z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional()
    .transform((v) => v ?? fallback)
    .openapi({ type: 'boolean', default: fallback, description });

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An instant in a query string: an ISO date (midnight UTC of that day) or an ISO date-time with a zone
 * (`Z` or `±hh:mm`). A date-time without a zone is refused: whose midnight would it be?
 */
export const instantParam = (description: string) =>
  z
    .string()
    .transform((raw, ctx) => {
      const instant = parseInstant(raw);
      if (!instant) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be an ISO date (2024-01-31) or a date-time with a zone (2024-01-31T15:00:00Z)',
        });
        return z.NEVER;
      }
      return instant;
    })
    .optional()
    .openapi({ type: 'string', description, example: '2023-08-11' });

export function parseInstant(raw: string): Date | undefined {
  const date = ISO_DATE.exec(raw);
  const dateTime = date ? undefined : ISO_DATE_TIME.exec(raw);
  const parts = date ?? dateTime;
  if (!parts) return undefined;
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // Postgres has no year 0, and Date.parse would roll 2023-02-30 over into March.
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (dateTime && (Number(dateTime[4]) > 23 || Number(dateTime[5]) > 59 || Number(dateTime[6] ?? 0) > 59)) return undefined;
  if (dateTime && dateTime[7] !== 'Z' && (Number(dateTime[7]!.slice(1, 3)) > 23 || Number(dateTime[7]!.slice(4)) > 59)) return undefined;
  const instant = new Date(date ? `${raw}T00:00:00Z` : raw);
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * Object-level check for a half-open range [from, to): `from` must be before `to`. Reports both fields,
 * since either may be the wrong one.
 */
export const rangeIsOrdered =
  <K extends string>(fromKey: K, toKey: K) =>
  (query: Partial<Record<K, Date>>, ctx: z.RefinementCtx) => {
    const from = query[fromKey];
    const to = query[toKey];
    if (from instanceof Date && to instanceof Date && from.getTime() >= to.getTime()) {
      ctx.addIssue({ code: 'custom', path: [fromKey], message: `must be before ${toKey}` });
      ctx.addIssue({ code: 'custom', path: [toKey], message: `must be after ${fromKey}` });
    }
  };

/**
 * A named (component) schema or null. `.nullable()` on a component writes the null into the shared component
 * itself, or into an `allOf` beside its `$ref` that no value can satisfy as null; a union keeps the component
 * as it is and puts the null on the property (`anyOf: [{$ref}, {type: 'null'}]`).
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

export const IsoInstant = z.string().openapi({ format: 'date-time', example: '2023-08-11T19:00:00.000Z' });

export const NextCursor = z
  .string()
  .nullable()
  .openapi({ description: 'Pass as `cursor` (with the same other parameters) for the next page; null on the last page.' });

export const cursorParamDoc = {
  type: 'string' as const,
  description:
    'Opaque; the `nextCursor` of the previous page. Repeat the other parameters of the first page unchanged ' +
    '(`limit` may change). A cursor that was edited or belongs to another query is a 400.',
};

// zod still runs object-level checks when a field failed a non-fatal check (a too-long cursor stays a
// string), so these checks look at what they got instead of trusting the static type.
export const isDecodedCursor = <P>(value: DecodedCursor<P> | undefined): value is DecodedCursor<P> =>
  typeof value === 'object' && value !== null && Array.isArray(value.position);

/** Object-level check: the cursor was issued for exactly these filters and not edited since. */
export const cursorBelongsToQuery =
  <P, Q>(codec: CursorCodec<P>, filtersOf: (query: Q) => CursorQuery) =>
  (query: Q & { cursor?: DecodedCursor<P> }, ctx: z.RefinementCtx) => {
    if (isDecodedCursor(query.cursor) && !codec.belongsTo(query.cursor, filtersOf(query))) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: FOREIGN_CURSOR });
    }
  };

/** A `{ data, nextCursor }` page of `item`, registered as the component `name`. */
export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ data: z.array(item), nextCursor: NextCursor }).openapi(name);
