// Basketball's feature store (nba-v1) against the training walker, on two real seasons of the NBA archive (2019/20
// with its neutral-site restart, and 2020/21) in a database of this file's own: advanced as results become known,
// each team's stored state is byte for byte the walker's after the same dates, also after a corrected score; a
// corrected NBA score rebuilds only the basketball store; and serving's read of an upcoming game gives the vector
// the walker would.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeDatabase } from '../../scripts/lib/db';
import { importNbaArchive, NBA_DATA_DIR } from '../../scripts/lib/nba/import';
import { loadNbaGames } from '../../scripts/lib/nba/features';
import { advanceFeatureStore, FeatureStateRepository, isNbaState } from '../../src/services/feature-store';
import { NbaFeatureState, NBA_FEATURE_VERSION, NBA_VENUES, nbaGameFeatures, type NbaGameInput } from '../../src/services/features/basketball';
import { resultKnownAt } from '../../src/services/features';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();
const DAY = 86_400_000;
const SEASONS = ['nba_2019-20.csv', 'nba_2020-21.csv'];

let games: NbaGameInput[];

/** When every archive result of `date` (start time unknown) is known. */
const knownAfter = (date: string) => resultKnownAt({ startAt: Date.parse(`${date}T00:00:00Z`), startTimeKnown: false });

/** The stored states, keyed by team key, as their exact JSON text. */
async function stored(): Promise<Record<string, string>> {
  const { rows } = await db.pool.query<{ state: string }>(`select state::text as state from feature_team_states where feature_version = $1`, [NBA_FEATURE_VERSION]);
  return Object.fromEntries(rows.map((r) => [(JSON.parse(r.state) as { team: string }).team, r.state]));
}

/** The walker's states after every date up to `through`, as the store serialises them. */
function walked(inputs: readonly NbaGameInput[], through: string): Record<string, string> {
  const walker = new NbaFeatureState(NBA_VENUES);
  const byDate = new Map<string, NbaGameInput[]>();
  for (const g of inputs) if (g.date <= through) byDate.set(g.date, [...(byDate.get(g.date) ?? []), g]);
  for (const date of [...byDate.keys()].sort()) walker.applyDate(date, byDate.get(date)!);
  return Object.fromEntries([...walker.teams.values()].map((t) => [t.team, JSON.stringify(t)]));
}

const advance = (at: number) => advanceFeatureStore(nodeDatabase(db.pool), at);

beforeAll(async () => {
  // No advance on import: the test walks the store through the seasons itself.
  const summary = await importNbaArchive(db.pool, SEASONS.map((f) => join(NBA_DATA_DIR, f)), { featureStoreAt: null });
  expect(summary.failedFiles).toBe(0);
  expect(summary.featureStore).toBeNull();
  games = (await loadNbaGames(db.pool)).inputs;
}, 300_000);

describe('the basketball feature store', () => {
  it('equals the walker, byte for byte, month by month through two seasons as results become known', async () => {
    const dates = [...new Set(games.map((g) => g.date))].sort();
    const months = [...new Set(dates.map((d) => d.slice(0, 7)))];
    expect(months.length).toBeGreaterThan(15);
    let applied = 0;
    for (const month of months) {
      const through = dates.filter((d) => d.startsWith(month)).at(-1)!;
      const summary = await advance(knownAfter(through));
      expect(summary.stores[NBA_FEATURE_VERSION]!.rebuilt).toBe(false);
      applied += summary.stores[NBA_FEATURE_VERSION]!.applied;
      expect(await stored()).toEqual(walked(games, through));
    }
    expect(applied).toBe(games.filter((g) => g.homeScore !== null).length);
    // Nothing left: a second advance applies nothing.
    expect((await advance(knownAfter(dates.at(-1)!) + DAY)).applied).toBe(0);
  }, 300_000);

  it('rebuilds only itself on a corrected score, and then equals the walker on the corrected history', async () => {
    const target = games.find((g) => g.season === '2019-20' && g.homeScore !== null)!;
    await db.pool.query(`update matches set home_score = home_score + 30 where id = $1`, [target.matchId]);
    const flags = await db.pool.query<{ feature_version: string; rebuild_required: boolean }>(`select feature_version, rebuild_required from feature_store_progress order by feature_version`);
    expect(Object.fromEntries(flags.rows.map((r) => [r.feature_version, r.rebuild_required]))).toEqual({ 'nba-v1': true, v1: false });

    const last = [...games].sort((a, b) => (a.date < b.date ? 1 : -1))[0]!.date;
    const summary = await advance(knownAfter(last) + DAY);
    expect(summary.stores[NBA_FEATURE_VERSION]).toMatchObject({ rebuilt: true, applied: games.filter((g) => g.homeScore !== null).length });
    expect(summary.stores.v1).toMatchObject({ rebuilt: false, applied: 0 });
    const corrected = games.map((g) => (g.matchId === target.matchId ? { ...g, homeScore: g.homeScore! + 30 } : g));
    const after = await stored();
    expect(after).toEqual(walked(corrected, last));
    expect(after).not.toEqual(walked(games, last));
  }, 300_000);

  it("serves an upcoming game the walker's vector, from two primary-key reads", async () => {
    const last = [...games].sort((a, b) => (a.date < b.date ? 1 : -1))[0]!;
    const startAt = new Date(Date.parse(`${last.date}T00:00:00Z`) + 200 * DAY + 0.5 * DAY);
    const { rows } = await db.pool.query<{ id: string }>(
      `insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, provider, external_match_id)
       select sport_id, competition_id, '2021-22', away_team_id, home_team_id, $2, true, 'scheduled', 'nba-store-test', 'upcoming-1' from matches where id = $1
       returning id`,
      [last.matchId, startAt],
    );
    const id = Number(rows[0]!.id);
    const now = startAt.getTime() - DAY;
    const read = await new FeatureStateRepository(() => nodeDatabase(db.pool)).forMatch(id, now);
    expect(read).toMatchObject({ kind: 'upcoming', sport: 'basketball' });
    if (read?.kind !== 'upcoming' || !isNbaState(read.state)) throw new Error('expected a basketball state');
    expect(read.state.game).toMatchObject({ homeTeam: last.awayTeam, awayTeam: last.homeTeam, season: '2021-22', homeScore: null });
    expect(read.state.staleAfter).toBe(startAt.getTime());

    const withLines = { ...read.state.game, moneyline: { home: 1.9, away: 1.95 }, spreadHome: -1.5, total: 221.5 };
    // The history as stored now (the corrected score included), without the new game.
    const history = (await loadNbaGames(db.pool)).inputs.filter((g) => g.matchId !== id);
    const walker = new NbaFeatureState(NBA_VENUES);
    const byDate = new Map<string, NbaGameInput[]>();
    for (const g of history) byDate.set(g.date, [...(byDate.get(g.date) ?? []), g]);
    for (const date of [...byDate.keys()].sort()) walker.applyDate(date, byDate.get(date)!);
    const expected = Array.from(walker.features(withLines));
    expect(Array.from(nbaGameFeatures(withLines, read.state.home, read.state.away, NBA_VENUES))).toEqual(expected);
    // The rating features read the stored history: a team with a season of games is not a newcomer.
    expect(expected[0]).not.toBe(1500);
  }, 120_000);
});
