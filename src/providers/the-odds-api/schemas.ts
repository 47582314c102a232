// zod schemas of The Odds API v4 payloads (../shared/docs/the-odds-api-v4.md). Structure is checked by the
// object schemas; the event-level refinement checks what structure cannot: every outcome of a featured market
// names one of the event's teams (or Draw/Over/Under), each side is present, and lines sit where they belong.
import { z } from 'zod';

const isoInstant = z.iso.datetime({ offset: true });
const decimalPrice = z.number().refine((p) => Number.isFinite(p) && p > 1, { message: 'price is not decimal odds above 1' });

export const SportSchema = z.object({
  key: z.string().min(1),
  group: z.string(),
  title: z.string(),
  description: z.string(),
  active: z.boolean(),
  has_outrights: z.boolean(),
});
export const SportsSchema = z.array(SportSchema);
export type OddsApiSport = z.infer<typeof SportSchema>;

const eventFields = {
  id: z.string().min(1),
  sport_key: z.string().min(1),
  sport_title: z.string().optional(),
  commence_time: isoInstant,
  home_team: z.string().min(1),
  away_team: z.string().min(1),
};

export const EventSchema = z.object(eventFields).refine((e) => e.home_team !== e.away_team, {
  message: 'home_team and away_team are the same',
  path: ['away_team'],
});
export const EventsSchema = z.array(EventSchema);
export type OddsApiEvent = z.infer<typeof EventSchema>;

const OutcomeSchema = z.object({
  name: z.string().min(1),
  price: decimalPrice,
  point: z.number().finite().optional(),
  description: z.string().optional(),
});

const MarketSchema = z.object({
  key: z.string().min(1),
  last_update: isoInstant.optional(),
  outcomes: z.array(OutcomeSchema, { error: 'market has no outcomes' }).min(1, { message: 'market has no outcomes' }),
});

const BookmakerSchema = z.object({
  key: z.string().min(1),
  title: z.string(),
  last_update: isoInstant,
  markets: z.array(MarketSchema),
});

export const FEATURED_MARKETS = ['h2h', 'spreads', 'totals'] as const;

export const OddsEventSchema = z
  .object({ ...eventFields, bookmakers: z.array(BookmakerSchema) })
  .superRefine((event, ctx) => {
    if (event.home_team === event.away_team) {
      ctx.addIssue({ code: 'custom', message: 'home_team and away_team are the same', path: ['away_team'] });
    }
    event.bookmakers.forEach((bookmaker, b) => {
      bookmaker.markets.forEach((market, m) => {
        const path = ['bookmakers', b, 'markets', m, 'outcomes'];
        const fail = (message: string) => ctx.addIssue({ code: 'custom', message: `${bookmaker.key} ${market.key}: ${message}`, path });
        const names = market.outcomes.map((o) => o.name);
        if (new Set(market.outcomes.map((o) => `${o.name}|${o.point ?? ''}`)).size !== names.length) fail('an outcome appears twice');
        if (market.key === 'h2h') {
          for (const o of market.outcomes) {
            if (o.name !== event.home_team && o.name !== event.away_team && o.name !== 'Draw') {
              fail(`outcome "${o.name}" is neither "${event.home_team}", "${event.away_team}" nor "Draw"`);
            }
          }
          for (const side of [event.home_team, event.away_team]) if (!names.includes(side)) fail(`missing the outcome "${side}"`);
        } else if (market.key === 'spreads') {
          for (const o of market.outcomes) {
            if (o.name !== event.home_team && o.name !== event.away_team) fail(`outcome "${o.name}" is neither "${event.home_team}" nor "${event.away_team}"`);
            if (o.point === undefined) fail(`outcome "${o.name}" has no point`);
          }
          for (const side of [event.home_team, event.away_team]) if (!names.includes(side)) fail(`missing the outcome "${side}"`);
        } else if (market.key === 'totals') {
          for (const o of market.outcomes) {
            if (o.name !== 'Over' && o.name !== 'Under') fail(`outcome "${o.name}" is neither "Over" nor "Under"`);
            if (o.point === undefined) fail(`outcome "${o.name}" has no point`);
          }
          for (const side of ['Over', 'Under']) if (!names.includes(side)) fail(`missing the outcome "${side}"`);
        }
      });
    });
  });
export const OddsEventsSchema = z.array(OddsEventSchema);
export type OddsApiOddsEvent = z.infer<typeof OddsEventSchema>;

const wholeNumber = z.string().regex(/^\d+$/, { message: 'score is not a whole number' });

export const ScoreEventSchema = z
  .object({
    ...eventFields,
    completed: z.boolean(),
    scores: z.array(z.object({ name: z.string().min(1), score: wholeNumber })).nullable(),
    last_update: isoInstant.nullable(),
  })
  .superRefine((event, ctx) => {
    for (const [i, s] of (event.scores ?? []).entries()) {
      if (s.name !== event.home_team && s.name !== event.away_team) {
        ctx.addIssue({ code: 'custom', message: `score for "${s.name}", who is not playing`, path: ['scores', i, 'name'] });
      }
    }
    if (event.completed) {
      const names = (event.scores ?? []).map((s) => s.name);
      if (!names.includes(event.home_team) || !names.includes(event.away_team)) {
        ctx.addIssue({ code: 'custom', message: 'completed without a score for both teams', path: ['scores'] });
      }
    }
  });
export const ScoreEventsSchema = z.array(ScoreEventSchema);
export type OddsApiScoreEvent = z.infer<typeof ScoreEventSchema>;

export const ErrorBodySchema = z.object({
  message: z.string().optional(),
  error_code: z.string().optional(),
  details_url: z.string().optional(),
});
