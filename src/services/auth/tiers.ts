// The tier table of docs/architecture.md in one place: rate limits, the free prediction quota, and what
// each tier may see. Routes shape their responses through shapeForTier() rather than testing tiers inline.
import type { Tier } from '../../db/schema';
import type { Config } from '../../env';

export interface TierPolicy {
  requestsPerMinute: number;
  /** Distinct matches with predictions per UTC day; null = unlimited. */
  dailyPredictionQuota: number | null;
  /** How far back odds history reaches; null = full history. The latest price per bookmaker is always visible. */
  oddsHistoryDays: number | null;
  valueFinder: boolean;
  liveStream: boolean;
  evaluations: boolean;
}

export const TIER_POLICIES: Record<Tier, TierPolicy> = {
  free: { requestsPerMinute: 60, dailyPredictionQuota: 10, oddsHistoryDays: 7, valueFinder: false, liveStream: false, evaluations: false },
  premium: { requestsPerMinute: 600, dailyPredictionQuota: null, oddsHistoryDays: null, valueFinder: true, liveStream: true, evaluations: false },
  pro: { requestsPerMinute: 1200, dailyPredictionQuota: null, oddsHistoryDays: null, valueFinder: true, liveStream: true, evaluations: true },
};

export { ANONYMOUS_REQUESTS_PER_MINUTE } from '../../env';

/**
 * Requests per minute for a user of `tier`, or per IP when `tier` is null: the tier table's (or
 * ANONYMOUS_RATE_LIMIT) times RATE_LIMIT_SCALE. The one computation of the limit: the limiter enforces it,
 * RateLimit-Limit and GET /me report it.
 */
export function requestsPerMinute(config: Pick<Config, 'ANONYMOUS_RATE_LIMIT' | 'RATE_LIMIT_SCALE'>, tier: Tier | null): number {
  return Math.max(1, Math.round((tier === null ? config.ANONYMOUS_RATE_LIMIT : policyFor(tier).requestsPerMinute) * config.RATE_LIMIT_SCALE));
}

/** What a caller may see; anonymous callers see what the free tier sees. */
export function policyFor(tier: Tier | null): TierPolicy {
  return TIER_POLICIES[tier ?? 'free'];
}

export interface OddsHistoryWindow {
  /** Snapshots captured before this instant are hidden, except each line's latest price (null: no limit). */
  historySince: Date | null;
}

/**
 * The one place that shapes a response for a tier. Each kind of shaped response gets a case here, so later
 * routes (predictions, value finder, evaluations) reuse the same table instead of testing tiers inline.
 */
export function shapeForTier(tier: Tier | null, what: 'odds-history', now: Date): OddsHistoryWindow;
export function shapeForTier(tier: Tier | null, _what: 'odds-history', now: Date): OddsHistoryWindow {
  const days = policyFor(tier).oddsHistoryDays;
  return { historySince: days === null ? null : new Date(now.getTime() - days * 86_400_000) };
}
