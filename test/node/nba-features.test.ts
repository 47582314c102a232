// The nba-v1 feature builder on hand-made games (Elo with margin of victory, the summer regression, rest and
// back-to-backs, travel, the neutral site) and on a real season of the archive (no look-ahead: a game's vector
// depends on the results of earlier dates only, whatever else the input holds).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPORT_DEFINITIONS } from '../../src/domain/sports/catalog';
import { parseSportDefinition } from '../../src/domain/sports/definition';
import { parseNbaArchiveCsv, type NbaGame } from '../../src/providers/nba-archive/parse';
import {
  NBA_FEATURE_INDEX,
  NBA_FEATURE_NAMES,
  NbaFeatureInputError,
  computeNbaFeatureVectors,
  greatCircleKm,
  venueBook,
  type NbaFeatureName,
  type NbaGameInput,
} from '../../src/services/features/basketball';

const basketball = SPORT_DEFINITIONS.find((d) => d.key === 'basketball')!;
const realVenues = venueBook(basketball);

/** A book of three made-up arenas on the equator, 10° of longitude apart, and one neutral week at 0°N 40°E. */
const book = venueBook({
  teams: [
    { key: 'a', name: 'A', aliases: {}, arenas: [{ name: 'A arena', lat: 0, lon: 0 }] },
    { key: 'b', name: 'B', aliases: {}, arenas: [{ name: 'B arena', lat: 0, lon: 10 }] },
    { key: 'c', name: 'C', aliases: {}, arenas: [{ name: 'C arena', lat: 0, lon: 20 }] },
    { key: 'd', name: 'D', aliases: {}, arenas: [{ name: 'D arena', lat: 0, lon: 30 }] },
  ],
  neutralSites: [{ competition: 'nba', name: 'bubble', lat: 0, lon: 40, from: '2020-08-01', to: '2020-08-08' }],
});
const DEGREE_KM = greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 });

let nextId = 1;
function game(date: string, home: string, away: string, score?: [number, number], season = '2019-20'): NbaGameInput {
  return {
    matchId: nextId++,
    competition: 'nba',
    season,
    date,
    homeTeam: home,
    awayTeam: away,
    homeScore: score ? score[0] : null,
    awayScore: score ? score[1] : null,
    moneyline: { home: 1.8, away: 2.1 },
    spreadHome: -2.5,
    total: 220.5,
  };
}

function vectorsOf(games: NbaGameInput[], venues = book) {
  const out = new Map<number, Record<NbaFeatureName, number>>();
  for (const v of computeNbaFeatureVectors(games, venues)) {
    out.set(v.matchId, Object.fromEntries(NBA_FEATURE_NAMES.map((n) => [n, v.values[NBA_FEATURE_INDEX[n]]!])) as Record<NbaFeatureName, number>);
  }
  return out;
}

/** FiveThirtyEight's update, written out independently of the builder. */
function expectedShift(homeElo: number, awayElo: number, homeAdvantage: number, margin: number): number {
  const edge = homeElo + homeAdvantage - awayElo;
  const p = 1 / (1 + 10 ** (-edge / 400));
  const winnerEdge = margin > 0 ? edge : -edge;
  return 20 * ((Math.abs(margin) + 3) ** 0.8 / (7.5 + 0.006 * winnerEdge)) * ((margin > 0 ? 1 : 0) - p);
}

describe('nba-v1 Elo', () => {
  it('moves by K × the margin-of-victory multiplier × the surprise, with 100 points of home advantage', () => {
    const g1 = game('2020-01-01', 'a', 'b', [110, 100]);
    const g2 = game('2020-01-03', 'a', 'b');
    const v = vectorsOf([g1, g2]);
    expect(v.get(g1.matchId)).toMatchObject({ elo_home: 1500, elo_away: 1500, elo_diff: 100 });
    expect(v.get(g1.matchId)!.elo_p_home).toBeCloseTo(1 / (1 + 10 ** (-100 / 400)), 12);
    const shift = expectedShift(1500, 1500, 100, 10);
    expect(shift).toBeGreaterThan(0);
    expect(v.get(g2.matchId)!.elo_home).toBeCloseTo(1500 + shift, 10);
    expect(v.get(g2.matchId)!.elo_away).toBeCloseTo(1500 - shift, 10);
  });

  it("a blowout moves ratings more than a narrow win, and a home favourite's loss more than its win", () => {
    const after = (score: [number, number]) => {
      const g1 = game('2020-01-01', 'a', 'b', score);
      const g2 = game('2020-01-03', 'a', 'b');
      return vectorsOf([g1, g2]).get(g2.matchId)!.elo_home - 1500;
    };
    expect(after([130, 100])).toBeGreaterThan(after([101, 100]));
    expect(-after([100, 101])).toBeGreaterThan(after([101, 100]));
  });

  it('pulls a rating a quarter of the way back to 1505 when the team starts a new season', () => {
    const g1 = game('2020-04-01', 'a', 'b', [120, 90], '2019-20');
    const g2 = game('2020-04-03', 'a', 'c', undefined, '2019-20');
    const g3 = game('2020-10-20', 'a', 'c', undefined, '2020-21');
    const v = vectorsOf([g1, g2, g3]);
    const end = v.get(g2.matchId)!.elo_home;
    expect(end).toBeGreaterThan(1500);
    expect(v.get(g3.matchId)!.elo_home).toBeCloseTo(0.75 * end + 0.25 * 1505, 10);
    // c never played: 1500 regressed is 1501.25 only once it has a season behind it; a newcomer stays at 1500.
    expect(v.get(g3.matchId)!.elo_away).toBe(1500);
  });
});

describe('nba-v1 rest, back-to-backs and travel', () => {
  it('counts days off since the previous game of the season and flags a second night in a row', () => {
    const g1 = game('2020-01-01', 'a', 'b', [100, 90]);
    const g2 = game('2020-01-02', 'c', 'a', [100, 90]); // a on the second night, c's first game
    const g3 = game('2020-01-05', 'b', 'a');
    const v = vectorsOf([g1, g2, g3]);
    expect(v.get(g1.matchId)).toMatchObject({ rest_home: NaN, rest_away: NaN, b2b_home: 0, b2b_away: 0, rest_advantage: 0, season_games_home: 0 });
    expect(v.get(g2.matchId)).toMatchObject({ rest_home: NaN, rest_away: 0, b2b_home: 0, b2b_away: 1, rest_advantage: 3, season_games_away: 1 });
    expect(v.get(g3.matchId)).toMatchObject({ rest_home: 3, rest_away: 2, b2b_home: 0, b2b_away: 0, rest_advantage: 1, season_games_home: 1, season_games_away: 2 });
  });

  it('measures travel from the previous venue, or from home after a break of more than a week', () => {
    const g1 = game('2020-01-01', 'b', 'a', [100, 90]); // a travels 10°, b is at home
    const g2 = game('2020-01-03', 'd', 'a', [100, 90]); // a goes on from b's arena to d's: 20°
    const g3 = game('2020-01-30', 'c', 'a'); // after four weeks a sets out from home: 20°
    const v = vectorsOf([g1, g2, g3]);
    expect(v.get(g1.matchId)!.travel_home_km).toBe(0);
    expect(v.get(g1.matchId)!.travel_away_km).toBeCloseTo(10 * DEGREE_KM, 6);
    expect(v.get(g2.matchId)!.travel_away_km).toBeCloseTo(20 * DEGREE_KM, 6);
    expect(v.get(g2.matchId)!.travel_home_km).toBe(0);
    expect(v.get(g3.matchId)!.travel_away_km).toBeCloseTo(20 * DEGREE_KM, 6);
  });

  it('uses the real arenas of data/sports/basketball.json, relocations included', () => {
    const boston = game('2021-01-05', 'bos', 'lal');
    const seattle = game('2008-01-05', 'okc', 'por'); // okc was Seattle in 2007/08
    const okc = game('2009-01-05', 'okc', 'por');
    const v = vectorsOf([boston, seattle, okc], realVenues);
    expect(v.get(boston.matchId)!.travel_away_km).toBeGreaterThan(4100);
    expect(v.get(boston.matchId)!.travel_away_km).toBeLessThan(4250);
    expect(v.get(seattle.matchId)!.travel_away_km).toBeLessThan(250);
    expect(v.get(okc.matchId)!.travel_away_km).toBeGreaterThan(2000);
  });
});

describe('nba-v1 neutral site', () => {
  it('gives no home advantage in the features or in the Elo update, and sends both teams to the site', () => {
    const g1 = game('2020-07-30', 'a', 'b', [110, 100]); // the day before: a normal home game
    const g2 = game('2020-08-02', 'a', 'b', [110, 100]);
    const g3 = game('2020-08-04', 'a', 'b');
    const v = vectorsOf([g1, g2, g3]);
    const before = v.get(g2.matchId)!;
    expect(before.neutral_site).toBe(1);
    expect(before.elo_diff).toBeCloseTo(before.elo_home - before.elo_away, 12);
    expect(before.travel_home_km).toBeCloseTo(40 * DEGREE_KM, 6); // from a's arena where it last played
    expect(before.travel_away_km).toBeCloseTo(40 * DEGREE_KM, 6);
    expect(v.get(g1.matchId)!.neutral_site).toBe(0);
    const shift = expectedShift(before.elo_home, before.elo_away, 0, 10);
    expect(v.get(g3.matchId)!.elo_home).toBeCloseTo(before.elo_home + shift, 10);
    expect(v.get(g3.matchId)!.travel_home_km).toBe(0); // stays at the site
  });

  it('marks the real 2019/20 restart neutral, and the games before the suspension not', () => {
    const before = { ...game('2020-03-10', 'lal', 'bkn'), competition: 'basketball_nba' };
    const restart = { ...game('2020-07-30', 'lac', 'lal'), competition: 'basketball_nba' };
    const v = vectorsOf([before, restart], realVenues);
    expect(v.get(before.matchId)!.neutral_site).toBe(0);
    expect(v.get(restart.matchId)!.neutral_site).toBe(1);
  });
});

describe('nba-v1 market features', () => {
  it('takes the margin-free closing moneyline, its overround, the home spread and the total', () => {
    const g = game('2020-01-01', 'a', 'b');
    const v = vectorsOf([g]).get(g.matchId)!;
    const pHome = 1 / 1.8 / (1 / 1.8 + 1 / 2.1);
    expect(v.mkt_p_home).toBeCloseTo(pHome, 12);
    expect(v.mkt_overround).toBeCloseTo(1 / 1.8 + 1 / 2.1 - 1, 12);
    expect(v).toMatchObject({ mkt_spread_home: -2.5, mkt_total: 220.5 });
    const none = vectorsOf([{ ...g, moneyline: null, spreadHome: null, total: null }]).get(g.matchId)!;
    expect(none).toMatchObject({ mkt_p_home: NaN, mkt_overround: NaN, mkt_spread_home: NaN, mkt_total: NaN });
  });

  it('refuses a team playing twice on one date, and a tied final', () => {
    expect(() => computeNbaFeatureVectors([game('2020-01-01', 'a', 'b', [1, 0]), game('2020-01-01', 'c', 'a', [1, 0])], book)).toThrow(NbaFeatureInputError);
    expect(() => computeNbaFeatureVectors([game('2020-01-01', 'a', 'b', [100, 100])], book)).toThrow(/cannot end level/);
  });
});

describe('nba-v1 uses no same-day or later result (a real season)', () => {
  const parsed = parseNbaArchiveCsv(readFileSync(join(__dirname, '../../data/nba/nba_2018-19.csv'), 'utf8'), 'nba_2018-19.csv');
  const input = (g: NbaGame, i: number): NbaGameInput => {
    const price = (market: string, outcome: string) => g.odds.find((o) => o.market === market && o.outcome === outcome);
    const home = price('h2h', 'home');
    const away = price('h2h', 'away');
    return {
      matchId: i + 1,
      competition: 'basketball_nba',
      season: g.season,
      date: g.date,
      homeTeam: g.homeCode,
      awayTeam: g.awayCode,
      homeScore: g.homeScore,
      awayScore: g.awayScore,
      moneyline: home && away ? { home: home.price, away: away.price } : null,
      spreadHome: price('spreads', 'home')?.point ?? null,
      total: price('totals', 'over')?.point ?? null,
    };
  };
  const games = parsed.games.map(input);
  const full = new Map(computeNbaFeatureVectors(games, realVenues).map((v) => [v.matchId, v.values]));

  it('loads the season', () => {
    expect(games.length).toBeGreaterThan(1300);
    expect(full.size).toBe(games.length);
  });

  it.each(['2018-11-14', '2019-01-21', '2019-04-10', '2019-05-20'])('cut on %s: later games removed, same-day results scrambled, input shuffled', (cut) => {
    // Same-day games keep their fixtures but their results are flipped; later games are gone; order reversed.
    const altered = games
      .filter((g) => g.date <= cut)
      .map((g) => (g.date === cut && g.homeScore !== null ? { ...g, homeScore: g.awayScore, awayScore: g.homeScore! + 40 } : g))
      .reverse();
    const onCut = altered.filter((g) => g.date === cut);
    expect(onCut.length).toBeGreaterThan(0);
    const changed: string[] = [];
    for (const v of computeNbaFeatureVectors(altered, realVenues)) {
      const before = full.get(v.matchId)!;
      NBA_FEATURE_NAMES.forEach((name, i) => {
        if (!Object.is(before[i], v.values[i])) changed.push(`${v.matchId} ${name}: ${before[i]} → ${v.values[i]}`);
      });
    }
    expect(changed).toEqual([]);
  });

  it('does see the previous date: flipping a result of the day before changes the next game of its teams', () => {
    const cut = '2019-01-21';
    const prev = games.filter((g) => g.date < cut).at(-1)!;
    const flipped = games.map((g) => (g.matchId === prev.matchId ? { ...g, homeScore: g.awayScore, awayScore: g.homeScore } : g));
    const next = games.find((g) => g.date > prev.date && (g.homeTeam === prev.homeTeam || g.awayTeam === prev.homeTeam))!;
    const after = computeNbaFeatureVectors(flipped, realVenues).find((v) => v.matchId === next.matchId)!;
    expect(after.values[NBA_FEATURE_INDEX.elo_diff]).not.toBe(full.get(next.matchId)![NBA_FEATURE_INDEX.elo_diff]);
  });
});

describe('arenas and neutral sites in a sport data file', () => {
  const file = (patch: (def: Record<string, unknown> & { teams: Array<Record<string, unknown>> }) => void) => {
    const def = structuredClone(basketball) as unknown as Record<string, unknown> & { teams: Array<Record<string, unknown>> };
    patch(def);
    return () => parseSportDefinition(def, 'basketball.json');
  };

  it('declares an arena for every NBA team on every date of the archive', () => {
    for (const team of basketball.teams) {
      for (const date of ['2007-10-30', '2012-12-25', '2020-12-23', '2022-06-16']) expect(realVenues.arena(team.key, date), `${team.key} ${date}`).not.toBeNull();
    }
  });

  it('refuses overlapping arenas, a bad coordinate and a neutral site of an undeclared competition', () => {
    expect(file(() => undefined)).not.toThrow();
    expect(file((d) => (d.teams[0]!.arenas = [{ name: 'x', lat: 1, lon: 1, to: '2015-01-01' }, { name: 'y', lat: 1, lon: 1, from: '2014-01-01' }]))).toThrow(/overlap/);
    expect(file((d) => (d.teams[0]!.arenas = [{ name: 'x', lat: 91, lon: 1 }]))).toThrow(/teams\.0\.arenas\.0\.lat/);
    expect(file((d) => (d.neutralSites = [{ competition: 'basketball_wnba', name: 'x', lat: 0, lon: 0, from: '2020-01-01', to: '2020-02-01' }]))).toThrow(/undeclared competition/);
  });
});
