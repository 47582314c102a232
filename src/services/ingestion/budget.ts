// The Odds API charges per call: markets × regions for /odds, 2 for /scores with daysFrom, nothing for /events.
// So the odds job decides two things before it spends anything:
//  1. whether this 5-minute run is due at all: the nearer the next kick-off, the more often odds are polled,
//     and only events inside the widest window that is due are asked for (commenceTimeFrom/To);
//  2. whether the month's budget allows it: the monthly credits are spread evenly over the month, with one
//     day's allowance of slack so a busy matchday can borrow from the quiet days before it, never from after.
// The arithmetic for the default settings is in docs/runbooks/ingestion.md.
import { competitionLive } from '../../domain/sports/catalog';
import type { OddsMarket } from '../../providers/types';

export interface PollTier {
  /** Applies when the nearest kick-off is at most this many minutes away. */
  withinMinutes: number;
  /** Poll this often (a multiple of the 5-minute cron). */
  everyMinutes: number;
}

/** Kick-off within 2 h: every 5 min; within 12 h: every 30 min; within 48 h: every 2 h. */
export const DEFAULT_POLL_TIERS: readonly PollTier[] = [
  { withinMinutes: 120, everyMinutes: 5 },
  { withinMinutes: 720, everyMinutes: 30 },
  { withinMinutes: 2880, everyMinutes: 120 },
];

export const CRON_STEP_MINUTES = 5;

/** The tiers cut at the configured window (hours): events further out are not polled at all. */
export function pollTiers(windowHours: number, tiers: readonly PollTier[] = DEFAULT_POLL_TIERS): PollTier[] {
  const windowMinutes = windowHours * 60;
  const cut = tiers.filter((t) => t.withinMinutes <= windowMinutes);
  const last = tiers.find((t) => t.withinMinutes > windowMinutes);
  if (last && (cut.length === 0 || cut[cut.length - 1]!.withinMinutes < windowMinutes)) cut.push({ withinMinutes: windowMinutes, everyMinutes: last.everyMinutes });
  return cut;
}

export type PollDecision =
  | { due: true; windowMinutes: number; everyMinutes: number }
  | { due: false; reason: string };

/**
 * Whether a run at `now` polls, and how far ahead. `kickoffs` are the upcoming kick-offs known from the free
 * fixtures job. Each tier owns the events between the previous tier's reach and its own; it is due on the runs
 * whose minute (since the epoch) is a multiple of its interval, so the schedule is the same whatever instance
 * runs it. The call asks for the widest due tier's window: one call costs the same however many events it
 * returns, so a due far tier's events ride along with the near ones.
 */
export function decidePoll(now: Date, kickoffs: readonly Date[], tiers: readonly PollTier[]): PollDecision {
  const t = now.getTime();
  const ahead = kickoffs.map((k) => (k.getTime() - t) / 60_000).filter((m) => m >= 0);
  if (ahead.length === 0) return { due: false, reason: 'no upcoming event known' };
  const nearest = Math.min(...ahead);
  const widest = tiers[tiers.length - 1]?.withinMinutes ?? 0;
  if (nearest > widest) return { due: false, reason: `the next kick-off is ${Math.round(nearest / 60)} h away, outside the ${widest / 60} h polling window` };
  const minute = Math.floor(t / 60_000);
  let windowMinutes = 0;
  let everyMinutes = Infinity;
  let reach = -1;
  for (const tier of tiers) {
    const owns = ahead.some((m) => m > reach && m <= tier.withinMinutes);
    reach = tier.withinMinutes;
    if (owns && minute % tier.everyMinutes < CRON_STEP_MINUTES) {
      windowMinutes = tier.withinMinutes;
      everyMinutes = Math.min(everyMinutes, tier.everyMinutes);
    }
  }
  if (windowMinutes === 0) {
    const tier = tiers.find((x) => nearest <= x.withinMinutes)!;
    return { due: false, reason: `not due: the next kick-off is ${Math.round(nearest)} min away, polled every ${tier.everyMinutes} min` };
  }
  return { due: true, windowMinutes, everyMinutes };
}

/** Credits of one /odds call: markets × regions (each group of 10 bookmakers counts as a region). */
export function oddsCallCost(markets: number, regions: number): number {
  return markets * regions;
}

/** What one /odds call for a competition asks for, and its credits (markets × regions). */
export interface OddsRequest {
  markets: readonly OddsMarket[];
  /** Comma-separated, as the API takes them. */
  regions: string;
  cost: number;
}

/**
 * What the odds job asks for per competition: its sport's markets and regions from its data file
 * (data/sports/*.json, `live["the-odds-api"]`): the NBA h2h, spreads and totals in `us`, 3 credits a call.
 * A file without `regions` (football's) takes ODDS_API_REGIONS: h2h, spreads and totals × 2 = 6 with `uk,eu`.
 */
export function oddsRequestFor(competitionKey: string, configuredRegions: string): OddsRequest {
  const { markets, regions: declared } = competitionLive(competitionKey).oddsApi;
  const regions = declared ?? configuredRegions.split(',').map((r) => r.trim()).filter(Boolean);
  return { markets, regions: regions.join(','), cost: oddsCallCost(markets.length, regions.length) };
}

const DAY_MS = 86_400_000;

function monthBounds(now: Date): { start: number; end: number } {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return { start, end };
}

export function monthStart(now: Date): Date {
  return new Date(monthBounds(now).start);
}

/** Credits the month may have spent by `now`: an even share of the elapsed month plus one day, capped at the budget. */
export function budgetAllowance(monthlyCredits: number, now: Date): number {
  const { start, end } = monthBounds(now);
  const share = (now.getTime() - start + DAY_MS) / (end - start);
  return Math.floor(monthlyCredits * Math.min(1, share));
}

export type BudgetDecision = { allowed: true; allowance: number } | { allowed: false; reason: string; allowance: number };

export function checkBudget(input: {
  monthlyCredits: number;
  /** Credits the provider's jobs recorded since the start of this UTC month. */
  spentThisMonth: number;
  cost: number;
  now: Date;
  /** The quota the provider reported on its last response, if any. */
  providerRemaining: number | null;
}): BudgetDecision {
  const allowance = budgetAllowance(input.monthlyCredits, input.now);
  if (input.providerRemaining !== null && input.providerRemaining < input.cost) {
    return { allowed: false, allowance, reason: `the provider reports ${input.providerRemaining} credits left, this run needs ${input.cost}` };
  }
  if (input.spentThisMonth + input.cost > allowance) {
    return {
      allowed: false,
      allowance,
      reason: `over budget: ${input.spentThisMonth} of ${input.monthlyCredits} monthly credits spent, ${allowance} allowed by now, this run needs ${input.cost}`,
    };
  }
  return { allowed: true, allowance };
}

/** What a month of 5-minute runs would spend on odds for these kick-offs (the runbook's arithmetic). */
export function estimateOddsCredits(kickoffs: readonly Date[], from: Date, to: Date, tiers: readonly PollTier[], costPerCall: number): { polls: number; credits: number } {
  let polls = 0;
  const step = CRON_STEP_MINUTES * 60_000;
  const sorted = [...kickoffs].sort((a, b) => a.getTime() - b.getTime());
  let first = 0;
  for (let t = Math.ceil(from.getTime() / step) * step; t < to.getTime(); t += step) {
    while (first < sorted.length && sorted[first]!.getTime() < t) first++;
    const upcoming = sorted.slice(first, first + 50);
    if (decidePoll(new Date(t), upcoming, tiers).due) polls++;
  }
  return { polls, credits: polls * costPerCall };
}
