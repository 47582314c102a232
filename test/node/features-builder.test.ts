// The pure builder's contract: the names, which prices a prediction may use, the margin arithmetic, and what
// a team with no history looks like. Real-data behaviour is in features-data / features-property tests.
import { describe, expect, it } from 'vitest';
import {
  ADVANCED_STATS_FEATURES,
  CONTEXTUAL_FEATURES,
  FEATURE_INDEX,
  FEATURE_NAMES,
  FEATURE_VERSION,
  HEAD_TO_HEAD_FEATURES,
  MARKET_FEATURES,
  TEAM_FORM_FEATURES,
  buildFeatures,
  createHeadToHeadState,
  createTeamState,
  marginFreeProbabilities,
  noPreMatchOdds,
  overround,
  predictionTimeFor,
  resultKnownAt,
  selectPreMatchOdds,
  type OddsQuote,
} from '../../src/services/features';

const at = (iso: string) => Date.parse(iso);

describe('feature names', () => {
  it('are 72 distinct names in five categories of 20, 10, 15, 12 and 15, version v1', () => {
    expect(FEATURE_VERSION).toBe('v1');
    expect(FEATURE_NAMES).toHaveLength(72);
    expect(new Set(FEATURE_NAMES).size).toBe(72);
    expect([TEAM_FORM_FEATURES, HEAD_TO_HEAD_FEATURES, MARKET_FEATURES, CONTEXTUAL_FEATURES, ADVANCED_STATS_FEATURES].map((c) => c.length)).toEqual([
      20, 10, 15, 12, 15,
    ]);
    for (const [prefix, names] of [
      ['form_', TEAM_FORM_FEATURES],
      ['h2h_', HEAD_TO_HEAD_FEATURES],
      ['mkt_', MARKET_FEATURES],
      ['ctx_', CONTEXTUAL_FEATURES],
      ['adv_', ADVANCED_STATS_FEATURES],
    ] as const) {
      for (const n of names) expect(n.startsWith(prefix), n).toBe(true);
    }
    FEATURE_NAMES.forEach((n, i) => expect(FEATURE_INDEX[n]).toBe(i));
  });
});

describe('prices a prediction may use', () => {
  const kickoff = at('2023-08-12T14:00:00Z');
  const predictionTime = at('2023-08-11T12:00:00Z');
  const quote = (o: Partial<OddsQuote>): OddsQuote => ({
    bookmaker: 'pinnacle',
    market: 'h2h',
    outcome: 'home',
    point: null,
    price: 2,
    phase: 'pre_match',
    capturedAt: at('2023-08-11T12:00:00Z'),
    ...o,
  });
  const h2h = (prices: [number, number, number], o: Partial<OddsQuote> = {}) =>
    (['home', 'draw', 'away'] as const).map((outcome, i) => quote({ outcome, price: prices[i]!, ...o }));

  it('never uses closing or in-play prices, prices captured after the prediction time, or at kick-off', () => {
    const quotes = [
      ...h2h([2.1, 3.4, 3.6]),
      ...h2h([1.5, 4, 7], { phase: 'closing', capturedAt: at('2023-08-10T00:00:00Z') }),
      ...h2h([1.6, 4, 6], { phase: 'live', capturedAt: at('2023-08-11T11:00:00Z') }),
      ...h2h([1.7, 4, 5], { capturedAt: at('2023-08-11T12:00:01Z') }),
      ...h2h([1.8, 4, 4.5], { phase: 'opening', capturedAt: kickoff }),
    ];
    expect(selectPreMatchOdds(quotes, predictionTime, kickoff).pinnacle.h2h).toEqual({ home: 2.1, draw: 3.4, away: 3.6 });
    // With only the forbidden prices there is nothing: NaN features, not stale or closing values.
    expect(selectPreMatchOdds(quotes.slice(3), predictionTime, kickoff).pinnacle.h2h).toBeNull();
  });

  it('takes the latest snapshot at or before the prediction time (live use), per source and outcome', () => {
    const quotes = [
      ...h2h([2.0, 3.4, 3.6], { phase: 'opening', capturedAt: at('2023-08-07T09:00:00Z') }),
      ...h2h([2.2, 3.3, 3.5], { capturedAt: at('2023-08-10T18:00:00Z') }),
      ...h2h([2.3, 3.3, 3.4], { capturedAt: at('2023-08-11T12:00:00Z') }),
      ...h2h([2.4, 3.3, 3.3], { capturedAt: at('2023-08-11T13:00:00Z') }),
      ...h2h([2.05, 3.5, 3.7], { bookmaker: 'market_avg' }),
      ...h2h([2.5, 3.9, 4.1], { bookmaker: 'market_max' }),
      ...h2h([9, 9, 9], { bookmaker: 'bet365' }),
    ];
    const odds = selectPreMatchOdds(quotes, predictionTime, kickoff);
    expect(odds.pinnacle.h2h).toEqual({ home: 2.3, draw: 3.3, away: 3.4 });
    expect(odds.market_avg.h2h).toEqual({ home: 2.05, draw: 3.5, away: 3.7 });
    expect(odds.market_max.h2h).toEqual({ home: 2.5, draw: 3.9, away: 4.1 });
    expect(Object.keys(odds).sort()).toEqual(['market_avg', 'market_max', 'pinnacle']);
  });

  it('needs every outcome of a market, and reads totals only on the 2.5 line', () => {
    const quotes = [
      quote({ outcome: 'home', price: 2 }),
      quote({ outcome: 'away', price: 3 }),
      quote({ market: 'totals', outcome: 'over', point: 2.5, price: 1.9 }),
      quote({ market: 'totals', outcome: 'under', point: 2.5, price: 1.95 }),
      quote({ market: 'totals', outcome: 'over', point: 3.5, price: 3.1 }),
      quote({ market: 'spreads', outcome: 'home', point: -0.5, price: 2 }),
    ];
    const odds = selectPreMatchOdds(quotes, predictionTime, kickoff);
    expect(odds.pinnacle.h2h).toBeNull();
    expect(odds.pinnacle.overUnder25).toEqual({ over: 1.9, under: 1.95 });
  });

  it('removes the margin multiplicatively and reports the overround', () => {
    const p = marginFreeProbabilities([2, 3.5, 4]);
    const booked = 1 / 2 + 1 / 3.5 + 1 / 4;
    expect(p[0]).toBeCloseTo(0.5 / booked, 15);
    expect(p[1]).toBeCloseTo(1 / 3.5 / booked, 15);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 15);
    expect(overround([2, 3.5, 4])).toBeCloseTo(booked - 1, 15);
    expect(overround([2.1, 2.1])).toBeLessThan(0);
  });
});

describe('time', () => {
  it('predicts at the football-data pre-match capture when a match has no pre-match snapshot', () => {
    // Saturday → the Friday before; Tuesday → the Friday before; Wednesday → the Tuesday before.
    expect(new Date(predictionTimeFor(at('2018-08-11T00:00:00Z'))).toISOString()).toBe('2018-08-10T12:00:00.000Z');
    expect(new Date(predictionTimeFor(at('2023-12-26T15:00:00Z'))).toISOString()).toBe('2023-12-22T12:00:00.000Z');
    expect(new Date(predictionTimeFor(at('2023-12-27T19:30:00Z'))).toISOString()).toBe('2023-12-26T12:00:00.000Z');
    // A stored pre-match capture wins; a closing one never counts.
    const quotes = [
      { bookmaker: 'pinnacle', market: 'h2h', outcome: 'home', point: null, price: 2, phase: 'pre_match', capturedAt: at('2023-12-25T12:00:00Z') },
      { bookmaker: 'pinnacle', market: 'h2h', outcome: 'home', point: null, price: 2, phase: 'closing', capturedAt: at('2023-12-26T15:00:00Z') },
    ];
    expect(new Date(predictionTimeFor(at('2023-12-26T15:00:00Z'), quotes)).toISOString()).toBe('2023-12-25T12:00:00.000Z');
  });

  it('takes a result as known 3 hours after the latest possible kick-off', () => {
    expect(new Date(resultKnownAt({ startAt: at('2023-08-12T11:30:00Z'), startTimeKnown: true })).toISOString()).toBe('2023-08-12T14:30:00.000Z');
    expect(new Date(resultKnownAt({ startAt: at('2018-08-11T00:00:00Z'), startTimeKnown: false })).toISOString()).toBe('2018-08-12T03:00:00.000Z');
  });
});

describe('a team with no history', () => {
  it('gets NaN for every form, head-to-head and statistics feature, never 0', () => {
    const values = buildFeatures(
      {
        homeTeamId: 1,
        awayTeamId: 2,
        competitionId: 1,
        season: '2023-24',
        startAt: at('2023-08-12T14:00:00Z'),
        startTimeKnown: true,
        predictionTime: at('2023-08-08T12:00:00Z'),
        league: null,
      },
      createTeamState(1),
      createTeamState(2),
      createHeadToHeadState(1, 2),
      noPreMatchOdds(),
    );
    const known: Record<string, number> = { h2h_meetings: 0, ctx_season_round: 1, ctx_is_midweek: 0, ctx_kickoff_hour_utc: 14 };
    FEATURE_NAMES.forEach((name, i) => {
      if (name in known) expect(values[i], name).toBe(known[name]);
      else expect(values[i], name).toBeNaN();
    });
  });

  it('refuses states that already hold the match or a later one', () => {
    const home = createTeamState(1);
    home.recent.push({
      startAt: at('2023-08-12T14:00:00Z'),
      competitionId: 1,
      season: '2023-24',
      atHome: true,
      goalsFor: 1,
      goalsAgainst: 0,
      shotsFor: null,
      shotsAgainst: null,
      shotsOnTargetFor: null,
      shotsOnTargetAgainst: null,
      cornersFor: null,
      cornersAgainst: null,
      cardPoints: null,
      opponentElo: 1500,
    });
    const ctx = {
      homeTeamId: 1,
      awayTeamId: 2,
      competitionId: 1,
      season: '2023-24',
      startAt: at('2023-08-12T14:00:00Z'),
      startTimeKnown: true,
      predictionTime: at('2023-08-08T12:00:00Z'),
      league: null,
    };
    expect(() => buildFeatures(ctx, home, createTeamState(2), createHeadToHeadState(1, 2), noPreMatchOdds())).toThrow(/at or after this kick-off/);
    expect(() => buildFeatures({ ...ctx, predictionTime: ctx.startAt }, createTeamState(1), createTeamState(2), createHeadToHeadState(1, 2), noPreMatchOdds())).toThrow(
      /before kick-off/,
    );
  });
});
