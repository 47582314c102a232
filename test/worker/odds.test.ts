// GET /matches/{matchId}/odds over the imported football-data.co.uk files. Prices asserted here are cells
// of data/football-data/E0_2324.csv and E0_1819.csv; ids are looked up through the API.
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, promote, registerUser } from './support/auth';
import { byteOrder, reader, type Page } from './support/http';

// The full history is for premium and pro (free callers see the latest prices and the last 7 days; see
// odds-access.test.ts), so these tests read as a premium API key.
let premiumKey: string;
beforeAll(async () => {
  premiumKey = (await createApiKey(await promote(await registerUser('odds-premium'), { tier: 'premium' }))).key;
});

interface Odds {
  bookmaker: string;
  market: 'h2h' | 'totals' | 'spreads';
  outcome: string;
  point: number | null;
  price: number;
  phase: string;
  capturedAt: string;
  provider: string;
}
interface MatchRef {
  id: number;
  startAt: string;
}

const { getJson, walk } = reader(() => ({ headers: { 'x-api-key': premiumKey } }));

const lineKey = (o: Odds) => `${o.bookmaker}|${o.market}|${o.outcome}|${o.point}`;
/** The documented order: market, bookmaker, outcome, point (none first), capturedAt, provider. */
const documentedOrder = (a: Odds, b: Odds) =>
  byteOrder(a.market, b.market) ||
  byteOrder(a.bookmaker, b.bookmaker) ||
  byteOrder(a.outcome, b.outcome) ||
  (a.point ?? -Infinity) - (b.point ?? -Infinity) ||
  Date.parse(a.capturedAt) - Date.parse(b.capturedAt) ||
  byteOrder(a.provider, b.provider);

const price = (rows: Odds[], bookmaker: string, market: string, outcome: string, phase: string) =>
  rows.filter((o) => o.bookmaker === bookmaker && o.market === market && o.outcome === outcome && o.phase === phase).map((o) => [o.point, o.price]);

async function findMatch(team: string, day: string): Promise<MatchRef> {
  const { data: sports } = await getJson<{ data: Array<{ id: number; key: string }> }>('/sports');
  const soccer = sports.find((s) => s.key === 'soccer')!;
  const { data: teams } = await getJson<Page<{ id: number; name: string }>>(`/sports/${soccer.id}/teams?limit=500`);
  const teamId = teams.find((t) => t.name === team)!.id;
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const { data } = await getJson<Page<MatchRef>>(`/matches?teamId=${teamId}&from=${day}&to=${next}`);
  expect(data).toHaveLength(1);
  return data[0]!;
}

let burnleyManCity: MatchRef;
let history: Odds[];

beforeAll(async () => {
  burnleyManCity = await findMatch('Burnley', '2023-08-11');
  const page = await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds`);
  expect(page.nextCursor).toBeNull();
  history = page.data;
});

describe('GET /matches/{matchId}/odds history', () => {
  it('has the pre-match and closing prices of E0 2023-08-11 Burnley v Man City', () => {
    // Pinnacle 1X2: PSH/PSD/PSA before the round, PSCH/PSCD/PSCA at kick-off.
    expect(price(history, 'pinnacle', 'h2h', 'home', 'pre_match')).toEqual([[null, 8.58]]);
    expect(price(history, 'pinnacle', 'h2h', 'draw', 'pre_match')).toEqual([[null, 5.51]]);
    expect(price(history, 'pinnacle', 'h2h', 'away', 'pre_match')).toEqual([[null, 1.37]]);
    expect(price(history, 'pinnacle', 'h2h', 'home', 'closing')).toEqual([[null, 9.62]]);
    expect(price(history, 'pinnacle', 'h2h', 'away', 'closing')).toEqual([[null, 1.33]]);
    // Over/under 2.5: P>2.5 / P<2.5.
    expect(price(history, 'pinnacle', 'totals', 'over', 'pre_match')).toEqual([[2.5, 1.68]]);
    expect(price(history, 'pinnacle', 'totals', 'under', 'pre_match')).toEqual([[2.5, 2.29]]);
    // Asian handicap AHh = 1.5 for the home side: PAHH at +1.5, PAHA at -1.5.
    expect(price(history, 'pinnacle', 'spreads', 'home', 'pre_match')).toEqual([[1.5, 1.86]]);
    expect(price(history, 'pinnacle', 'spreads', 'away', 'pre_match')).toEqual([[-1.5, 2.07]]);
    // Market maximum and average: MaxH, AvgA.
    expect(price(history, 'market_max', 'h2h', 'home', 'pre_match')).toEqual([[null, 9.5]]);
    expect(price(history, 'market_avg', 'h2h', 'away', 'pre_match')).toEqual([[null, 1.35]]);
    expect(price(history, 'bet365', 'h2h', 'home', 'closing')).toEqual([[null, 9]]);
  });

  it('gives every row its documented fields and types', () => {
    expect(history.length).toBeGreaterThan(40);
    for (const o of history) {
      expect(Object.keys(o).sort()).toEqual(['bookmaker', 'capturedAt', 'market', 'outcome', 'phase', 'point', 'price', 'provider']);
      expect(o.provider).toBe('football-data');
      expect(typeof o.price).toBe('number');
      expect(o.price).toBeGreaterThan(1);
      expect(o.capturedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      if (o.market === 'h2h') expect(o.point).toBeNull();
      else expect(typeof o.point).toBe('number');
      if (o.phase === 'closing') expect(o.capturedAt).toBe(burnleyManCity.startAt);
      else expect(Date.parse(o.capturedAt)).toBeLessThan(Date.parse(burnleyManCity.startAt));
    }
    expect(new Set(history.map((o) => o.phase))).toEqual(new Set(['pre_match', 'closing']));
    expect(new Set(history.map((o) => o.market))).toEqual(new Set(['h2h', 'totals', 'spreads']));
    // The file has no closing Asian handicap maximum (MaxCAHH/MaxCAHA are empty): no row is invented.
    expect(price(history, 'market_max', 'spreads', 'home', 'closing')).toEqual([]);
  });

  it('orders rows by market, bookmaker, outcome, point, capturedAt and provider', () => {
    expect(history).toEqual([...history].sort(documentedOrder));
    expect(new Set(history.map((o) => `${lineKey(o)}|${o.capturedAt}|${o.provider}`)).size).toBe(history.length);
  });

  it('filters by market, bookmaker and phase', async () => {
    const id = burnleyManCity.id;
    const totals = await getJson<Page<Odds>>(`/matches/${id}/odds?market=totals`);
    expect(totals.data).toEqual(history.filter((o) => o.market === 'totals'));
    expect(totals.data.length).toBeGreaterThan(0);

    const pinnacle = await getJson<Page<Odds>>(`/matches/${id}/odds?bookmaker=pinnacle`);
    expect(pinnacle.data).toEqual(history.filter((o) => o.bookmaker === 'pinnacle'));
    // 1X2 (3), totals (2) and spreads (2), each before the round and at kick-off.
    expect(pinnacle.data).toHaveLength(14);

    const closing = await getJson<Page<Odds>>(`/matches/${id}/odds?phase=closing`);
    expect(closing.data).toEqual(history.filter((o) => o.phase === 'closing'));

    const combined = await getJson<Page<Odds>>(`/matches/${id}/odds?market=h2h&bookmaker=pinnacle&phase=pre_match`);
    expect(combined.data.map((o) => [o.outcome, o.price])).toEqual([['away', 1.37], ['draw', 5.51], ['home', 8.58]]);

    expect(await getJson<Page<Odds>>(`/matches/${id}/odds?bookmaker=no_such_bookmaker`)).toEqual({ data: [], nextCursor: null });
    expect(await getJson<Page<Odds>>(`/matches/${id}/odds?phase=live`)).toEqual({ data: [], nextCursor: null });
  });

  it('filters on capturedAt: from inclusive, to exclusive', async () => {
    const id = burnleyManCity.id;
    const kickOff = encodeURIComponent(burnleyManCity.startAt);
    const before = await getJson<Page<Odds>>(`/matches/${id}/odds?to=${kickOff}`);
    expect(before.data).toEqual(history.filter((o) => o.phase === 'pre_match'));
    const atOrAfter = await getJson<Page<Odds>>(`/matches/${id}/odds?from=${kickOff}`);
    expect(atOrAfter.data).toEqual(history.filter((o) => o.phase === 'closing'));
    const window = await getJson<Page<Odds>>(`/matches/${id}/odds?from=2023-08-01&to=2023-08-12&market=spreads`);
    expect(window.data).toEqual(history.filter((o) => o.market === 'spreads'));
    expect((await getJson<Page<Odds>>(`/matches/${id}/odds?from=2023-08-12`)).data).toEqual([]);
  });
});

describe('GET /matches/{matchId}/odds?latest=true', () => {
  it('returns the latest price of every (bookmaker, market, outcome, point)', async () => {
    const { data: latest, nextCursor } = await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?latest=true`);
    expect(nextCursor).toBeNull();
    const expected = new Map<string, Odds>();
    for (const o of history) {
      const seen = expected.get(lineKey(o));
      if (!seen || Date.parse(o.capturedAt) > Date.parse(seen.capturedAt)) expected.set(lineKey(o), o);
    }
    expect(latest).toEqual([...expected.values()].sort(documentedOrder));
    expect(latest.length).toBeLessThan(history.length);
    expect(price(latest, 'pinnacle', 'h2h', 'draw', 'closing')).toEqual([[null, 5.81]]);
    expect(price(latest, 'pinnacle', 'h2h', 'draw', 'pre_match')).toEqual([]);
  });

  it('falls back to the pre-match price where the file has no closing one', async () => {
    const { data } = await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?latest=true&bookmaker=market_max&market=spreads`);
    // MaxAHH/MaxAHA before the round; MaxCAHH/MaxCAHA are empty.
    expect(data.map((o) => [o.outcome, o.point, o.price, o.phase])).toEqual([
      ['away', -1.5, 2.09, 'pre_match'],
      ['home', 1.5, 1.93, 'pre_match'],
    ]);
  });

  it('applies the other filters first: latest before kick-off is the pre-match price', async () => {
    const kickOff = encodeURIComponent(burnleyManCity.startAt);
    const beforeKickOff = await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?latest=true&to=${kickOff}&bookmaker=pinnacle&market=h2h`);
    expect(beforeKickOff.data.map((o) => [o.outcome, o.price, o.phase])).toEqual([
      ['away', 1.37, 'pre_match'],
      ['draw', 5.51, 'pre_match'],
      ['home', 8.58, 'pre_match'],
    ]);
    const preMatch = await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?latest=true&phase=pre_match`);
    expect(preMatch.data).toEqual(history.filter((o) => o.phase === 'pre_match'));
  });

  it('latest=false is the full history', async () => {
    expect((await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?latest=false`)).data).toEqual(history);
  });

  it('reads the old column set of 2018/19: BetBrain maximum and average, Pinnacle closing', async () => {
    const match = await findMatch('Man United', '2018-08-10');
    const { data } = await getJson<Page<Odds>>(`/matches/${match.id}/odds?latest=true`);
    expect(price(data, 'market_max', 'h2h', 'home', 'pre_match')).toEqual([[null, 1.6]]);
    expect(price(data, 'market_max', 'h2h', 'away', 'pre_match')).toEqual([[null, 8.05]]);
    expect(price(data, 'market_avg', 'totals', 'over', 'pre_match')).toEqual([[2.5, 2.03]]);
    expect(price(data, 'market_avg', 'spreads', 'home', 'pre_match')).toEqual([[-0.75, 1.7]]);
    expect(price(data, 'market_avg', 'spreads', 'away', 'pre_match')).toEqual([[0.75, 2.21]]);
    expect(price(data, 'pinnacle', 'h2h', 'home', 'closing')).toEqual([[null, 1.55]]);
    expect(price(data, 'pinnacle', 'h2h', 'away', 'closing')).toEqual([[null, 7.69]]);
    // Only Pinnacle has closing prices in 2018/19, so every other latest price is the pre-match one.
    expect(data.filter((o) => o.phase === 'closing').every((o) => o.bookmaker === 'pinnacle')).toBe(true);
    expect(price(data, 'bet365', 'h2h', 'home', 'pre_match')).toEqual([[null, 1.57]]);
    expect(data.every((o) => o.capturedAt === match.startAt || o.phase === 'pre_match')).toBe(true);
  });
});

describe('GET /matches/{matchId}/odds pagination', () => {
  it('walks the history in small pages with no gap and no repeat', async () => {
    const walked = await walk<Odds>(`/matches/${burnleyManCity.id}/odds?limit=7`);
    expect(walked.rows).toEqual(history);
    expect(walked.pageSizes.slice(0, -1).every((n) => n === 7)).toBe(true);
    expect(walked.pageSizes.length).toBe(Math.ceil(history.length / 7));
  });

  it('walks latest=true with filters, and the page size may change between pages', async () => {
    const all = await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?latest=true&market=h2h`);
    const first = await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?latest=true&market=h2h&limit=4`);
    const rest = await walk<Odds>(`/matches/${burnleyManCity.id}/odds?latest=true&market=h2h&limit=5`, first.nextCursor);
    expect([...first.data, ...rest.rows]).toEqual(all.data);
    // Six bookmakers (B365, BW, IW, PS, WH, VC) and the two aggregates quote home, draw and away.
    expect(all.data).toHaveLength(24);
  });

  it('accepts limit 1 and the maximum of 1000', async () => {
    const one = await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?limit=1`);
    expect(one.data).toEqual(history.slice(0, 1));
    expect(one.nextCursor).toEqual(expect.any(String));
    expect((await getJson<Page<Odds>>(`/matches/${burnleyManCity.id}/odds?limit=1000`)).data).toEqual(history);
  });
});
