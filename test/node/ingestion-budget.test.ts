import { describe, expect, it } from 'vitest';
import { budgetAllowance, checkBudget, decidePoll, DEFAULT_POLL_TIERS, estimateOddsCredits, oddsCallCost, oddsRequestFor, pollTiers } from '../../src/services/ingestion/budget';

const at = (iso: string) => new Date(iso);

describe('the polling schedule', () => {
  const tiers = pollTiers(48);

  it('cuts the tiers at the configured window', () => {
    expect(tiers).toEqual(DEFAULT_POLL_TIERS);
    expect(pollTiers(24)).toEqual([
      { withinMinutes: 120, everyMinutes: 5 },
      { withinMinutes: 720, everyMinutes: 30 },
      { withinMinutes: 1440, everyMinutes: 120 },
    ]);
    expect(pollTiers(1)).toEqual([{ withinMinutes: 60, everyMinutes: 5 }]);
  });

  it('polls every 5 minutes in the last 2 hours, and only as far ahead as the due tier', () => {
    const kickoff = at('2024-04-13T14:00:00Z');
    expect(decidePoll(at('2024-04-13T12:05:00Z'), [kickoff], tiers)).toEqual({ due: true, windowMinutes: 120, everyMinutes: 5 });
    expect(decidePoll(at('2024-04-13T13:55:00Z'), [kickoff], tiers)).toEqual({ due: true, windowMinutes: 120, everyMinutes: 5 });
  });

  it('polls every 30 minutes within 12 hours and skips the runs between', () => {
    const kickoff = at('2024-04-13T20:00:00Z');
    expect(decidePoll(at('2024-04-13T10:30:00Z'), [kickoff], tiers)).toEqual({ due: true, windowMinutes: 720, everyMinutes: 30 });
    const between = decidePoll(at('2024-04-13T10:35:00Z'), [kickoff], tiers);
    expect(between).toMatchObject({ due: false });
    if (!between.due) expect(between.reason).toMatch(/not due: .* polled every 30 min/);
  });

  it('widens the window to the widest due tier that holds an event', () => {
    // 12:00 is due for every tier; the next match is 1 h away and another 30 h away: one call covers both.
    expect(decidePoll(at('2024-04-13T12:00:00Z'), [at('2024-04-13T13:00:00Z'), at('2024-04-14T18:00:00Z')], tiers)).toEqual({
      due: true,
      windowMinutes: 2880,
      everyMinutes: 5,
    });
    // Nothing beyond 2 h: the 2-hourly run does not widen the window to empty hours.
    expect(decidePoll(at('2024-04-13T12:00:00Z'), [at('2024-04-13T13:00:00Z')], tiers)).toEqual({ due: true, windowMinutes: 120, everyMinutes: 5 });
  });

  it('does not poll with nothing in the window, nor for matches that have started', () => {
    expect(decidePoll(at('2024-04-13T12:00:00Z'), [at('2024-04-20T12:00:00Z')], tiers)).toMatchObject({ due: false, reason: expect.stringMatching(/outside the 48 h polling window/) });
    expect(decidePoll(at('2024-04-13T12:00:00Z'), [at('2024-04-13T11:00:00Z')], tiers)).toMatchObject({ due: false, reason: 'no upcoming event known' });
    expect(decidePoll(at('2024-04-13T12:00:00Z'), [], tiers)).toMatchObject({ due: false });
  });

  it('estimates a match: 25 five-minute polls, 20 half-hourly and 18 two-hourly ones', () => {
    // One isolated kick-off at 15:00: 5-min runs from 13:00 to the kick-off itself, the closing capture (25);
    // 30-min runs from 03:00 to 12:30 (20); 2-hourly runs over the 36 h before that (18).
    const estimate = estimateOddsCredits([at('2024-04-13T15:00:00Z')], at('2024-04-10T00:00:00Z'), at('2024-04-14T00:00:00Z'), tiers, oddsCallCost(3, 2));
    expect(estimate).toEqual({ polls: 25 + 20 + 18, credits: (25 + 20 + 18) * 6 });
  });
});

describe('the monthly credit budget', () => {
  it('spreads the budget evenly with one day of slack', () => {
    expect(budgetAllowance(30_000, at('2024-04-01T00:00:00Z'))).toBe(1000);
    expect(budgetAllowance(30_000, at('2024-04-15T12:00:00Z'))).toBe(15_500);
    expect(budgetAllowance(30_000, at('2024-04-30T12:00:00Z'))).toBe(30_000);
  });

  it('refuses a run that would go past the allowance, or past what the provider says is left', () => {
    const now = at('2024-04-15T12:00:00Z');
    expect(checkBudget({ monthlyCredits: 30_000, spentThisMonth: 15_494, cost: 6, now, providerRemaining: null })).toEqual({ allowed: true, allowance: 15_500 });
    const over = checkBudget({ monthlyCredits: 30_000, spentThisMonth: 15_495, cost: 6, now, providerRemaining: 10_000 });
    expect(over).toMatchObject({ allowed: false, reason: 'over budget: 15495 of 30000 monthly credits spent, 15500 allowed by now, this run needs 6' });
    const drained = checkBudget({ monthlyCredits: 30_000, spentThisMonth: 0, cost: 6, now, providerRemaining: 5 });
    expect(drained).toMatchObject({ allowed: false, reason: 'the provider reports 5 credits left, this run needs 6' });
  });
});

describe('what an /odds call asks for and costs, per sport', () => {
  it("takes the NBA's markets and region from basketball.json, football's regions from the configuration", () => {
    expect(oddsRequestFor('basketball_nba', 'uk,eu')).toEqual({ markets: ['h2h', 'spreads', 'totals'], regions: 'us', cost: 3 });
    expect(oddsRequestFor('soccer_epl', 'uk, eu')).toEqual({ markets: ['h2h', 'spreads', 'totals'], regions: 'uk,eu', cost: 6 });
    expect(oddsRequestFor('soccer_epl', 'eu').cost).toBe(3);
  });
});
