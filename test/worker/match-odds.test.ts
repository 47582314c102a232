// The MatchOdds Durable Object through its real binding: merging prices, best price, consensus, movement,
// idempotency and eviction. Every test uses its own object. Prices are chosen so that the expected values
// can be worked out by hand (shown beside each assertion).
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { median } from '../../src/domain/odds';
import { EVICT_AFTER_MS, type LiveState, type MatchOdds, type OddsRowInput } from '../../durable-objects/match-odds';

const T1 = '2031-03-01T10:00:00.000Z';
const T2 = '2031-03-01T11:00:00.000Z';
const T_BETWEEN = '2031-03-01T10:30:00.000Z';
const T0 = '2031-03-01T09:00:00.000Z';
// Kick-off in the future, so no eviction alarm fires on its own while a test runs.
const START_AT = '2031-03-02T15:00:00.000Z';

function object(): DurableObjectStub<MatchOdds> {
  return env.MATCH_ODDS.get(env.MATCH_ODDS.idFromName(`test:${crypto.randomUUID()}`));
}

const h2h = (bookmaker: string, home: number, draw: number, away: number, capturedAt = T1): OddsRowInput[] => [
  { bookmaker, market: 'h2h', outcome: 'home', point: null, price: home, capturedAt },
  { bookmaker, market: 'h2h', outcome: 'draw', point: null, price: draw, capturedAt },
  { bookmaker, market: 'h2h', outcome: 'away', point: null, price: away, capturedAt },
];

/** Three bookmakers' 1X2, two bookmakers' over/under 2.5, one bookmaker's handicap -0.5/+0.5. */
const OPENING: OddsRowInput[] = [
  ...h2h('alpha', 2.0, 3.5, 4.0),
  ...h2h('bravo', 2.1, 3.4, 3.8),
  ...h2h('charlie', 1.9, 3.6, 4.2),
  { bookmaker: 'alpha', market: 'totals', outcome: 'over', point: 2.5, price: 1.9, capturedAt: T1 },
  { bookmaker: 'alpha', market: 'totals', outcome: 'under', point: 2.5, price: 1.95, capturedAt: T1 },
  { bookmaker: 'bravo', market: 'totals', outcome: 'over', point: 2.5, price: 2.0, capturedAt: T1 },
  { bookmaker: 'bravo', market: 'totals', outcome: 'under', point: 2.5, price: 1.85, capturedAt: T1 },
  { bookmaker: 'alpha', market: 'spreads', outcome: 'home', point: -0.5, price: 1.95, capturedAt: T1 },
  { bookmaker: 'alpha', market: 'spreads', outcome: 'away', point: 0.5, price: 1.9, capturedAt: T1 },
];

const line = (state: LiveState, bookmaker: string, market: string, outcome: string, point: number | null = null) =>
  state.lines.find((l) => l.bookmaker === bookmaker && l.market === market && l.outcome === outcome && l.point === point);
const consensusOf = (state: LiveState, market: string, point: number | null = null) =>
  state.consensus.find((c) => c.market === market && c.point === point);
const probability = (state: LiveState, market: string, outcome: string, point: number | null = null) =>
  consensusOf(state, market, point)?.outcomes.find((o) => o.outcome === outcome)?.probability;
const movementOf = (state: LiveState, market: string, outcome: string, point: number | null = null) =>
  state.movement.find((m) => m.market === market && m.outcome === outcome && m.point === point);

describe('median', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
});

describe('MatchOdds.applyOdds and state', () => {
  it('hands out the market list\'s average and maximum beside the lines, leaving out exchanges and books off the list', async () => {
    const stub = object();
    await stub.applyOdds(
      [...h2h('pinnacle', 2.0, 3.5, 4.0), ...h2h('bet365', 2.2, 3.3, 3.6, T2), ...h2h('betfair_ex_uk', 2.5, 3.9, 4.4), ...h2h('alpha', 2.6, 3.0, 3.0)],
      { matchId: 43, startAt: START_AT },
    );
    const state = await stub.state();
    // pinnacle and bet365 only: the exchange and "alpha" are not in MARKET_BOOKMAKERS.
    expect(state.aggregates).toEqual([
      { market: 'h2h', point: null, outcome: 'home', average: (2.0 + 2.2) / 2, max: 2.2, bookmakers: 2, capturedAt: T2 },
      { market: 'h2h', point: null, outcome: 'draw', average: (3.5 + 3.3) / 2, max: 3.5, bookmakers: 2, capturedAt: T2 },
      { market: 'h2h', point: null, outcome: 'away', average: (4.0 + 3.6) / 2, max: 4.0, bookmakers: 2, capturedAt: T2 },
    ]);
  });

  it('stores every new line as a change, with the best price, the consensus and no movement yet', async () => {
    const stub = object();
    const result = await stub.applyOdds(OPENING, { matchId: 42, startAt: START_AT });
    expect(result.changed).toHaveLength(OPENING.length);
    expect(result.ignored).toBe(0);

    const state = await stub.state();
    expect(state.matchId).toBe(42);
    expect(state.startAt).toBe(START_AT);
    expect(state.updatedAt).toBe(T1);
    expect(state.lines).toHaveLength(OPENING.length);
    expect(line(state, 'bravo', 'h2h', 'home')).toEqual({
      bookmaker: 'bravo', market: 'h2h', outcome: 'home', point: null, price: 2.1, capturedAt: T1, openingPrice: 2.1, openingAt: T1,
    });

    // Best: home 2.1 (bravo), draw 3.6 (charlie), away 4.2 (charlie).
    expect(state.best.filter((b) => b.market === 'h2h')).toEqual([
      { market: 'h2h', point: null, outcome: 'home', price: 2.1, bookmaker: 'bravo' },
      { market: 'h2h', point: null, outcome: 'draw', price: 3.6, bookmaker: 'charlie' },
      { market: 'h2h', point: null, outcome: 'away', price: 4.2, bookmaker: 'charlie' },
    ]);

    // Medians 2.0 / 3.5 / 4.0: implied 1/2 + 2/7 + 1/4 = 29/28, so p = 14/29, 8/29, 7/29 and overround 1/28.
    const h2hConsensus = consensusOf(state, 'h2h')!;
    expect(h2hConsensus.bookmakers).toBe(3);
    expect(h2hConsensus.method).toBe('multiplicative');
    expect(h2hConsensus.overround).toBeCloseTo(1 / 28, 12);
    expect(h2hConsensus.outcomes.map((o) => o.medianPrice)).toEqual([2.0, 3.5, 4.0]);
    expect(probability(state, 'h2h', 'home')).toBeCloseTo(14 / 29, 12);
    expect(probability(state, 'h2h', 'draw')).toBeCloseTo(8 / 29, 12);
    expect(probability(state, 'h2h', 'away')).toBeCloseTo(7 / 29, 12);

    // Two bookmakers: the median is the mean of the two, over (1.9 + 2.0) / 2 = 1.95, under (1.95 + 1.85) / 2 = 1.9.
    expect(consensusOf(state, 'totals', 2.5)!.outcomes.map((o) => [o.outcome, o.medianPrice])).toEqual([
      ['over', 1.95],
      ['under', 1.9],
    ]);
    // 1/1.95 + 1/1.9 = p_over ∝ 1/1.95.
    expect(probability(state, 'totals', 'over', 2.5)).toBeCloseTo(1 / 1.95 / (1 / 1.95 + 1 / 1.9), 12);

    // Handicap home -0.5 and away +0.5 are one book, reported at the home side's line.
    const spread = consensusOf(state, 'spreads', -0.5)!;
    expect(spread.outcomes.map((o) => o.outcome)).toEqual(['home', 'away']);
    expect(probability(state, 'spreads', 'home', -0.5)).toBeCloseTo(1 / 1.95 / (1 / 1.95 + 1 / 1.9), 12);
    expect(state.best.filter((b) => b.market === 'spreads').map((b) => [b.outcome, b.point])).toEqual([
      ['home', -0.5],
      ['away', 0.5],
    ]);

    for (const m of state.movement) {
      expect(m.change.consensusPrice).toBe(0);
      expect(m.change.bestPrice).toBe(0);
    }
  });

  it('takes the latest price, ignores older rows, keeps the opening price and reports movement', async () => {
    const stub = object();
    await stub.applyOdds(OPENING);

    const update = await stub.applyOdds([
      { bookmaker: 'alpha', market: 'h2h', outcome: 'home', point: null, price: 2.2, capturedAt: T2 },
      { bookmaker: 'charlie', market: 'h2h', outcome: 'home', point: null, price: 2.4, capturedAt: T2 },
      // Newer capture, same price: stored, but not a change.
      { bookmaker: 'bravo', market: 'h2h', outcome: 'home', point: null, price: 2.1, capturedAt: T2 },
    ]);
    expect(update.changed.map((l) => [l.bookmaker, l.outcome, l.price])).toEqual([
      ['alpha', 'home', 2.2],
      ['charlie', 'home', 2.4],
    ]);

    // Older than what alpha holds (T2), but newer than its opening (T1): ignored entirely.
    const stale = await stub.applyOdds([{ bookmaker: 'alpha', market: 'h2h', outcome: 'home', point: null, price: 9.0, capturedAt: T_BETWEEN }]);
    // Nothing written: no state stored, none handed out.
    expect(stale).toEqual({ changed: [], ignored: 1 });

    const state = await stub.state();
    expect(state.updatedAt).toBe(T2);
    expect(line(state, 'alpha', 'h2h', 'home')).toMatchObject({ price: 2.2, capturedAt: T2, openingPrice: 2.0, openingAt: T1 });
    expect(line(state, 'bravo', 'h2h', 'home')).toMatchObject({ price: 2.1, capturedAt: T2, openingPrice: 2.1 });
    expect(state.best.find((b) => b.market === 'h2h' && b.outcome === 'home')).toMatchObject({ price: 2.4, bookmaker: 'charlie' });

    // Home medians: opening {2.0, 2.1, 1.9} → 2.0, now {2.2, 2.1, 2.4} → 2.2. Best: 2.1 → 2.4.
    const home = movementOf(state, 'h2h', 'home')!;
    expect(home.opening.consensusPrice).toBe(2.0);
    expect(home.current.consensusPrice).toBe(2.2);
    expect(home.change.consensusPrice).toBeCloseTo(0.2, 12);
    expect(home.opening.bestPrice).toBe(2.1);
    expect(home.current.bestPrice).toBe(2.4);
    expect(home.change.bestPrice).toBeCloseTo(0.3, 12);
    // Now 5/11 + 2/7 + 1/4 = 305/308, so p_home = (5/11)(308/305) = 28/61; at opening 14/29.
    expect(home.current.probability).toBeCloseTo(28 / 61, 12);
    expect(home.opening.probability).toBeCloseTo(14 / 29, 12);
    expect(home.change.probability).toBeCloseTo(28 / 61 - 14 / 29, 12);
    // The draw's price did not move, but its share of the book did: 88/305 now, 8/29 at opening.
    const draw = movementOf(state, 'h2h', 'draw')!;
    expect(draw.change.consensusPrice).toBe(0);
    expect(draw.change.probability).toBeCloseTo(88 / 305 - 8 / 29, 12);
  });

  it('is idempotent: the same rows again change nothing, whatever their order', async () => {
    const stub = object();
    const batch = [...OPENING, ...h2h('alpha', 2.2, 3.3, 3.9, T2)];
    await stub.applyOdds(batch, { matchId: 7, startAt: START_AT });
    const before = await stub.state();

    const again = await stub.applyOdds(batch, { matchId: 7, startAt: START_AT });
    expect(again.changed).toEqual([]);
    expect(again.ignored).toBe(batch.length);
    const reversed = await stub.applyOdds([...batch].reverse());
    expect(reversed.changed).toEqual([]);
    expect(await stub.state()).toEqual(before);

    // The same rows applied to a fresh object in reverse order converge on the same state.
    const other = object();
    await other.applyOdds([...batch].reverse(), { matchId: 7, startAt: START_AT });
    expect(await other.state()).toEqual(before);
    expect(line(before, 'alpha', 'h2h', 'home')).toMatchObject({ price: 2.2, openingPrice: 2.0 });
  });

  it('keeps the first price of a capture stamp a provider reuses, as odds_snapshots does', async () => {
    const stub = object();
    await stub.applyOdds(h2h('alpha', 2.2, 3.3, 3.9, T2), { matchId: 7, startAt: START_AT });
    // A later poll with the same stamp and other prices: the record keeps the first (its insert does nothing on
    // the natural key), so the live state must too, or the Worker would anchor on a price the record never held.
    const reused = await stub.applyOdds(h2h('alpha', 2.4, 3.1, 3.7, T2));
    // The same stamp at a higher price is the opening's tie-break: the opening moved, so the call stored a state and
    // hands it out (for the odds job to publish), with no changed line.
    expect(reused).toEqual({ changed: [], ignored: 3, state: await stub.state() });
    expect(line(await stub.state(), 'alpha', 'h2h', 'home')).toMatchObject({ price: 2.2, capturedAt: T2 });
  });

  it('backfills the opening price from a late older row without touching the latest price', async () => {
    const stub = object();
    await stub.applyOdds(h2h('alpha', 2.2, 3.3, 3.9, T2));
    const late = await stub.applyOdds(h2h('alpha', 2.0, 3.5, 4.0, T0));
    expect(late).toEqual({ changed: [], ignored: 3, state: await stub.state() });
    const state = await stub.state();
    expect(line(state, 'alpha', 'h2h', 'home')).toMatchObject({ price: 2.2, capturedAt: T2, openingPrice: 2.0, openingAt: T0 });
    expect(movementOf(state, 'h2h', 'home')!.change.consensusPrice).toBeCloseTo(0.2, 12);
  });

  it('leaves the consensus out for an incomplete book, but still reports its best prices', async () => {
    const stub = object();
    await stub.applyOdds([
      { bookmaker: 'alpha', market: 'h2h', outcome: 'home', point: null, price: 2.0, capturedAt: T1 },
      { bookmaker: 'alpha', market: 'h2h', outcome: 'away', point: null, price: 4.0, capturedAt: T1 },
    ]);
    const state = await stub.state();
    expect(state.consensus).toEqual([]);
    expect(state.best).toHaveLength(2);
    expect(movementOf(state, 'h2h', 'home')!.current.probability).toBeNull();
  });

  it('refuses malformed rows and stores nothing of the batch', async () => {
    const stub = object();
    await runInDurableObject(stub, async (instance: MatchOdds) => {
      const bad: Array<[string, unknown]> = [
        ['price', { bookmaker: 'a', market: 'h2h', outcome: 'home', point: null, price: 1, capturedAt: T1 }],
        ['price', { bookmaker: 'a', market: 'h2h', outcome: 'home', point: null, price: Number.NaN, capturedAt: T1 }],
        ['market', { bookmaker: 'a', market: 'btts', outcome: 'yes', point: null, price: 2, capturedAt: T1 }],
        ['outcome', { bookmaker: 'a', market: 'totals', outcome: 'home', point: 2.5, price: 2, capturedAt: T1 }],
        ['point', { bookmaker: 'a', market: 'totals', outcome: 'over', point: null, price: 2, capturedAt: T1 }],
        ['point', { bookmaker: 'a', market: 'h2h', outcome: 'home', point: 1, price: 2, capturedAt: T1 }],
        ['capturedAt', { bookmaker: 'a', market: 'h2h', outcome: 'home', point: null, price: 2, capturedAt: 'yesterday' }],
        ['bookmaker', { bookmaker: '', market: 'h2h', outcome: 'home', point: null, price: 2, capturedAt: T1 }],
      ];
      for (const [field, row] of bad) {
        await expect(instance.applyOdds([...h2h('ok', 2, 3, 4), row as OddsRowInput]), field).rejects.toThrow(field);
      }
      await expect(instance.applyOdds([], { matchId: 0, startAt: START_AT })).rejects.toThrow('matchId');
      expect(instance.state().lines).toEqual([]);
    });
  });
});

describe('MatchOdds: the h2h book of the match\'s sport, and several lines per market', () => {
  const NBA = { matchId: 41, startAt: START_AT, h2hOutcomes: ['home', 'away'] } as const;
  const FOOTBALL = { matchId: 42, startAt: START_AT, h2hOutcomes: ['home', 'draw', 'away'] } as const;
  // −110 in decimal odds: 1 + 100/110.
  const MINUS_110 = 1 + 100 / 110;
  const moneyline = (bookmaker: string, home: number, away: number, capturedAt = T1): OddsRowInput[] => [
    { bookmaker, market: 'h2h', outcome: 'home', point: null, price: home, capturedAt },
    { bookmaker, market: 'h2h', outcome: 'away', point: null, price: away, capturedAt },
  ];

  it('gives a 2-way NBA moneyline a margin-free consensus that sums to 1; a football h2h without its draw gets none', async () => {
    const nba = object();
    await nba.applyOdds(moneyline('alpha', MINUS_110, MINUS_110), NBA);
    const state = await nba.state();
    const c = consensusOf(state, 'h2h')!;
    expect(c).toMatchObject({ method: 'multiplicative', bookmakers: 1 });
    // Booksum 2 × 110/210 = 1.047619…; each side 0.5.
    expect(c.overround).toBeCloseTo(220 / 210 - 1, 12);
    expect(c.outcomes.map((o) => o.outcome)).toEqual(['home', 'away']);
    expect(c.outcomes[0]!.probability).toBeCloseTo(0.5, 12);
    expect(c.outcomes[1]!.probability).toBeCloseTo(0.5, 12);
    expect(c.outcomes[0]!.probability + c.outcomes[1]!.probability).toBeCloseTo(1, 12);
    expect(movementOf(state, 'h2h', 'home')!.current.probability).toBeCloseTo(0.5, 12);

    // The same prices in a football match: no draw, so no complete book and no consensus, as before.
    const football = object();
    await football.applyOdds(moneyline('alpha', MINUS_110, MINUS_110), FOOTBALL);
    const footballState = await football.state();
    expect(footballState.consensus).toEqual([]);
    expect(footballState.best).toHaveLength(2);
    expect(movementOf(footballState, 'h2h', 'home')!.current.probability).toBeNull();
    // Its draw completes it.
    await football.applyOdds([{ bookmaker: 'alpha', market: 'h2h', outcome: 'draw', point: null, price: 3.5, capturedAt: T1 }]);
    expect(consensusOf(await football.state(), 'h2h')!.outcomes.map((o) => o.outcome)).toEqual(['home', 'draw', 'away']);
  });

  it('keeps the sport with the match: later calls without meta, and an object stored before it was kept, still work', async () => {
    const nba = object();
    await nba.applyOdds([], NBA);
    // The odds come in a call without meta: the stored 2-way set still applies.
    await nba.applyOdds(moneyline('alpha', 1.5, 2.8));
    expect(consensusOf(await nba.state(), 'h2h')!.outcomes.map((o) => o.outcome)).toEqual(['home', 'away']);
    // Meta that does not name the sport keeps it.
    await nba.applyOdds([], { matchId: 41, startAt: START_AT });
    expect(consensusOf(await nba.state(), 'h2h')).toBeDefined();
    await runInDurableObject(nba, async (instance: MatchOdds) => {
      await expect(instance.applyOdds([], { ...NBA, h2hOutcomes: ['away', 'home'] as never })).rejects.toThrow('h2hOutcomes');
    });

    // An object whose mo_meta predates the column: it gains it, and with nothing named it is football's 3-way.
    const old = object();
    await runInDurableObject(old, async (instance: MatchOdds, state) => {
      state.storage.sql.exec('DROP TABLE IF EXISTS mo_meta');
      state.storage.sql.exec('CREATE TABLE mo_meta (id INTEGER PRIMARY KEY CHECK (id = 0), match_id INTEGER, start_ms INTEGER, touched_ms INTEGER NOT NULL)');
      state.storage.sql.exec('INSERT INTO mo_meta (id, match_id, start_ms, touched_ms) VALUES (0, 43, ?, ?)', Date.parse(START_AT), Date.now());
      (instance as unknown as { createTables(): void }).createTables();
      await instance.applyOdds(moneyline('alpha', MINUS_110, MINUS_110));
      expect(instance.state()).toMatchObject({ matchId: 43, startAt: START_AT, consensus: [] });
      await instance.applyOdds(h2h('alpha', 2, 3.5, 4));
      expect(consensusOf(instance.state(), 'h2h')!.outcomes).toHaveLength(3);
    });

    // The same object stored by that version, woken: its constructor sees the table is not current and adds the
    // column before the first write (a wake otherwise runs no DDL).
    const asleep = object();
    await asleep.applyOdds(h2h('alpha', 2, 3.5, 4), { matchId: 44, startAt: START_AT });
    await runInDurableObject(asleep, async (instance: MatchOdds, state) => {
      state.storage.sql.exec('DROP TABLE mo_meta');
      state.storage.sql.exec('CREATE TABLE mo_meta (id INTEGER PRIMARY KEY CHECK (id = 0), match_id INTEGER, start_ms INTEGER, touched_ms INTEGER NOT NULL)');
      state.storage.sql.exec('INSERT INTO mo_meta (id, match_id, start_ms, touched_ms) VALUES (0, 44, ?, ?)', Date.parse(START_AT), Date.now());
      const woken = new (instance.constructor as new (ctx: DurableObjectState, env: unknown) => MatchOdds)(state, env);
      await woken.applyOdds(h2h('beta', 2.1, 3.4, 3.9));
      expect(woken.state()).toMatchObject({ matchId: 44, startAt: START_AT });
      expect(consensusOf(woken.state(), 'h2h')!.bookmakers).toBe(2);
    });
  });

  it('wakes with the state its last write stored, equal to summarising its lines, and summarises them when none is stored', async () => {
    const stub = object();
    await stub.applyOdds(OPENING, { matchId: 45, startAt: START_AT });
    await stub.applyOdds(h2h('alpha', 2.2, 3.4, 3.7, T2));
    const held = await stub.state();
    await runInDurableObject(stub, async (instance: MatchOdds, state) => {
      const wake = () => new (instance.constructor as new (ctx: DurableObjectState, env: unknown) => MatchOdds)(state, env);
      const summarised = (o: MatchOdds) => (o as unknown as { readState(): LiveState }).readState();
      // A woken object's state is the stored one, and it is what summarising the lines gives.
      expect(wake().state()).toEqual(held);
      expect(summarised(wake())).toEqual(held);
      // It is read from the stored state, not the lines: a line changed behind the object's back shows only in a summary.
      state.storage.sql.exec("UPDATE mo_lines SET price = 9.5 WHERE bookmaker = 'alpha' AND market = 'h2h' AND outcome = 'home'");
      expect(line(wake().state(), 'alpha', 'h2h', 'home')!.price).toBe(2.2);
      expect(line(summarised(wake()), 'alpha', 'h2h', 'home')!.price).toBe(9.5);
      // Stored by an earlier version (no state yet): the woken object summarises its lines.
      state.storage.sql.exec('UPDATE mo_meta SET state_json = NULL');
      expect(line(wake().state(), 'alpha', 'h2h', 'home')!.price).toBe(9.5);
      // The next write stores the state again.
      const woken = wake();
      await woken.applyOdds(h2h('bravo', 2.3, 3.3, 3.6, T2));
      expect(wake().state()).toEqual(summarised(wake()));
      expect(line(wake().state(), 'bravo', 'h2h', 'home')!.price).toBe(2.3);
      // A later capture at the same prices changes no price, but the lines' capture and updatedAt: stored too.
      const later = '2031-03-01T12:00:00.000Z';
      expect((await woken.applyOdds(h2h('bravo', 2.3, 3.3, 3.6, later))).changed).toEqual([]);
      expect(wake().state()).toMatchObject({ updatedAt: later });
      expect(wake().state()).toEqual(summarised(wake()));
      // The same rows again write nothing, so the stored state is not made again: a marker planted in it stays.
      const stored = () => state.storage.sql.exec<{ state_json: string }>('SELECT state_json FROM mo_meta').one().state_json;
      state.storage.sql.exec('UPDATE mo_meta SET state_json = ?', JSON.stringify({ ...wake().state(), matchId: 999 }));
      const planted = stored();
      expect((await woken.applyOdds(h2h('bravo', 2.3, 3.3, 3.6, later))).ignored).toBe(3);
      expect(stored()).toBe(planted);
    });
  });

  it('keeps spreads −4.5 and −5 and totals 220.5 and 221 as separate lines, each with its own consensus, best price and movement', async () => {
    const stub = object();
    const spread = (bookmaker: string, homePoint: number, home: number, away: number, capturedAt = T1): OddsRowInput[] => [
      { bookmaker, market: 'spreads', outcome: 'home', point: homePoint, price: home, capturedAt },
      { bookmaker, market: 'spreads', outcome: 'away', point: -homePoint, price: away, capturedAt },
    ];
    const total = (bookmaker: string, point: number, over: number, under: number, capturedAt = T1): OddsRowInput[] => [
      { bookmaker, market: 'totals', outcome: 'over', point, price: over, capturedAt },
      { bookmaker, market: 'totals', outcome: 'under', point, price: under, capturedAt },
    ];
    await stub.applyOdds(
      [
        ...moneyline('alpha', 1.5, 2.8),
        ...spread('alpha', -4.5, 1.9, 1.9),
        ...spread('bravo', -4.5, 1.95, 1.85),
        ...spread('alpha', -5, 2.0, 1.8),
        ...total('alpha', 220.5, 1.9, 1.9),
        ...total('bravo', 221, 2.0, 1.8),
      ],
      NBA,
    );
    // Later: −4.5 shortens at alpha, total 221 drifts at bravo; the other lines do not move.
    await stub.applyOdds([...spread('alpha', -4.5, 1.8, 2.0, T2), ...total('bravo', 221, 2.1, 1.75, T2)]);
    const state = await stub.state();

    expect(state.consensus.map((c) => [c.market, c.point, c.bookmakers])).toEqual([
      ['h2h', null, 1],
      ['totals', 220.5, 1],
      ['totals', 221, 1],
      ['spreads', -5, 1],
      ['spreads', -4.5, 2],
    ]);
    const p = (market: string, outcome: string, point: number | null) => probability(state, market, outcome, point)!;
    // −4.5: medians home (1.8 + 1.95)/2 = 1.875, away (2.0 + 1.85)/2 = 1.925.
    const home45 = 1 / 1.875 / (1 / 1.875 + 1 / 1.925);
    expect(p('spreads', 'home', -4.5)).toBeCloseTo(home45, 12);
    // −5: alpha's 2.0/1.8 alone.
    expect(p('spreads', 'home', -5)).toBeCloseTo(1 / 2.0 / (1 / 2.0 + 1 / 1.8), 12);
    expect(p('totals', 'over', 220.5)).toBeCloseTo(0.5, 12);
    expect(p('totals', 'over', 221)).toBeCloseTo(1 / 2.1 / (1 / 2.1 + 1 / 1.75), 12);
    for (const c of state.consensus) expect(c.outcomes.reduce((sum, o) => sum + o.probability, 0)).toBeCloseTo(1, 12);

    const bestOf = (market: string, outcome: string, point: number) => state.best.find((b) => b.market === market && b.outcome === outcome && b.point === point);
    expect(bestOf('spreads', 'home', -4.5)).toMatchObject({ price: 1.95, bookmaker: 'bravo' });
    expect(bestOf('spreads', 'away', 4.5)).toMatchObject({ price: 2.0, bookmaker: 'alpha' });
    expect(bestOf('spreads', 'home', -5)).toMatchObject({ price: 2.0, bookmaker: 'alpha' });
    expect(bestOf('totals', 'over', 220.5)).toMatchObject({ price: 1.9, bookmaker: 'alpha' });
    expect(bestOf('totals', 'over', 221)).toMatchObject({ price: 2.1, bookmaker: 'bravo' });

    // Movement per line: only the lines that moved show a change.
    expect(movementOf(state, 'spreads', 'home', -4.5)!.change.consensusPrice).toBeCloseTo(1.875 - 1.925, 12);
    expect(movementOf(state, 'spreads', 'home', -5)!.change).toEqual({ consensusPrice: 0, bestPrice: 0, probability: 0 });
    expect(movementOf(state, 'totals', 'over', 221)!.change.bestPrice).toBeCloseTo(0.1, 12);
    expect(movementOf(state, 'totals', 'over', 220.5)!.change).toEqual({ consensusPrice: 0, bestPrice: 0, probability: 0 });
    expect(movementOf(state, 'h2h', 'home')!.current.probability).toBeCloseTo(1 / 1.5 / (1 / 1.5 + 1 / 2.8), 12);
  });
});

describe('MatchOdds storage', () => {
  const tables = (stub: DurableObjectStub<MatchOdds>) =>
    runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'mo\\_%' ESCAPE '\\' ORDER BY name").toArray().map((r) => r.name),
    );

  it('writes nothing when read before its first odds (a prediction of a match no book quotes yet), and makes its tables with them', async () => {
    const stub = object();
    expect(await stub.state()).toEqual({ matchId: null, startAt: null, updatedAt: null, lines: [], best: [], consensus: [], movement: [], aggregates: [] });
    expect(await tables(stub)).toEqual([]);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull();

    await stub.applyOdds(h2h('alpha', 2, 3.5, 4), { matchId: 12, startAt: START_AT });
    expect(await tables(stub)).toEqual(['mo_lines', 'mo_meta', 'mo_tickets']);
    expect(line(await stub.state(), 'alpha', 'h2h', 'home')).toMatchObject({ price: 2 });
    // Evicted, it is empty again, and a read still writes nothing.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.state()).lines).toEqual([]);
    expect(await tables(stub)).toEqual([]);
  });
});

describe('MatchOdds eviction', () => {
  it('arms an alarm for kick-off + 3 h, and the alarm forgets everything', async () => {
    const stub = object();
    await stub.applyOdds(OPENING, { matchId: 9, startAt: START_AT });
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe(Date.parse(START_AT) + EVICT_AFTER_MS);

    // A later kick-off moves the alarm.
    const later = '2031-03-03T15:00:00.000Z';
    await stub.applyOdds([], { matchId: 9, startAt: later });
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBe(Date.parse(later) + EVICT_AFTER_MS);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const state = await stub.state();
    expect(state).toEqual({ matchId: null, startAt: null, updatedAt: null, lines: [], best: [], consensus: [], movement: [], aggregates: [] });
    expect(await runInDurableObject(stub, (_instance, s) => s.storage.getAlarm())).toBeNull();

    // The object still works afterwards (odds for a rescheduled match start a fresh state).
    const again = await stub.applyOdds(h2h('alpha', 2, 3, 4));
    expect(again.changed).toHaveLength(3);
    expect(line(await stub.state(), 'alpha', 'h2h', 'home')).toMatchObject({ price: 2, openingPrice: 2 });
  });
});
