import { z } from '@hono/zod-openapi';
import { MARKETS, ODDS_PHASES } from '../db/schema';
import { IsoInstant } from './common';

export const MarketSchema = z.enum(MARKETS).openapi('Market', {
  description: '`h2h`: 1X2 (home/draw/away); `totals`: over/under `point` goals; `spreads`: Asian handicap, `point` is the line of that side',
});

export const OddsPhaseSchema = z.enum(ODDS_PHASES).openapi('OddsPhase', {
  description: '`pre_match`: collected before the round; `closing`: at kick-off; `opening` and `live` come from live providers',
});

export const OddsSnapshotSchema = z
  .object({
    bookmaker: z.string().openapi({ example: 'pinnacle', description: '`market_max` and `market_avg` are the market maximum and average' }),
    market: MarketSchema,
    outcome: z.string().openapi({ example: 'home', description: 'h2h: home/draw/away; totals: over/under; spreads: home/away' }),
    point: z.number().nullable().openapi({ example: null, description: 'The line for totals and spreads; null for h2h' }),
    price: z.number().openapi({ example: 1.37, description: 'Decimal odds' }),
    phase: OddsPhaseSchema,
    capturedAt: IsoInstant,
    provider: z.string().openapi({ example: 'football-data' }),
  })
  .openapi('OddsSnapshot');

export type OddsSnapshot = z.infer<typeof OddsSnapshotSchema>;
