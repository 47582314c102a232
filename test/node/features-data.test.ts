// The feature builder on real history (E0 2018/19, 2022/23 and 2023/24 in a database of this file's own):
// values checked by hand against the CSV rows, NaN for what is not known, and no leakage: closing prices are
// never read, and a match's features do not depend on its own result or on results of its own day.
import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFeatureMatrix, loadFeatureInputs, type FeatureRow } from '../../scripts/lib/features';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { FEATURE_INDEX, FEATURE_NAMES, FeatureStateStore, featureStateAt, type FeatureName } from '../../src/services/features';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();

let baseline: FeatureRow[];
let baselineById: Map<number, FeatureRow>;
let idByExternal: Map<string, number>;

beforeAll(async () => {
  const summary = await importFootballData(
    db.pool,
    ['E0_1819.csv', 'E0_2223.csv', 'E0_2324.csv'].map((f) => join(REPO_DATA_DIR, f)),
  );
  expect(summary.failedFiles).toBe(0);
  const ids = await db.pool.query<{ id: string; external_match_id: string }>('select id, external_match_id from matches');
  idByExternal = new Map(ids.rows.map((r) => [r.external_match_id, Number(r.id)]));
  baseline = await buildFeatureMatrix(db.pool);
  baselineById = new Map(baseline.map((r) => [r.matchId, r]));
}, 300_000);

const rowOf = (externalId: string, rows: Map<number, FeatureRow> = baselineById) => {
  const id = idByExternal.get(externalId);
  if (id === undefined) throw new Error(`no match ${externalId}`);
  return rows.get(id)!;
};
const f = (row: FeatureRow, name: FeatureName) => row.values[FEATURE_INDEX[name]]!;

/** Feature-by-feature differences between two vectors; NaN equals NaN, everything else must be identical. */
function differences(a: FeatureRow, b: FeatureRow | undefined): string[] {
  if (!b) return [`match ${a.matchId} missing`];
  const out: string[] = [];
  FEATURE_NAMES.forEach((name, i) => {
    if (!Object.is(a.values[i], b.values[i])) out.push(`match ${a.matchId} ${name}: ${a.values[i]} vs ${b.values[i]}`);
  });
  if (a.asOf.getTime() !== b.asOf.getTime()) out.push(`match ${a.matchId} as_of differs`);
  return out;
}

/** The matrix after `change`, made inside a transaction that is rolled back. */
async function matrixAfter(change: (client: pg.PoolClient) => Promise<void>): Promise<Map<number, FeatureRow>> {
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    await change(client);
    const rows = await buildFeatureMatrix(client);
    return new Map(rows.map((r) => [r.matchId, r]));
  } finally {
    await client.query('rollback');
    client.release();
  }
}

describe('hand-checked values (E0_1819.csv)', () => {
  it('Arsenal v Everton, 23/09/2018: form, statistics, market and league from the CSV rows before it', () => {
    const r = rowOf('E0:2018-09-23:Arsenal:Everton');
    // Predicted on Friday 21/09 12:00; Arsenal's five known matches (CSV lines 9, 13, 22, 40, 46):
    // Man City (h) 0-2, Chelsea (a) 2-3, West Ham (h) 3-1, Cardiff (a) 3-2, Newcastle (a) 2-1.
    expect(r.asOf.toISOString()).toBe('2018-09-21T12:00:00.000Z');
    expect(f(r, 'form_home_ppg_5')).toBe(9 / 5);
    expect(f(r, 'form_home_ppg_10')).toBe(9 / 5);
    expect(f(r, 'form_home_gf_5')).toBe(10 / 5);
    expect(f(r, 'form_home_ga_5')).toBe(9 / 5);
    expect(f(r, 'form_home_venue_ppg_5')).toBe(3 / 2);
    expect(f(r, 'form_home_venue_gd_5')).toBe(0);
    expect(f(r, 'form_home_season_ppg')).toBe(9 / 5);
    expect(f(r, 'form_home_season_gd')).toBeCloseTo(1 / 5, 15);
    expect(f(r, 'form_home_over25_rate_10')).toBe(4 / 5);
    expect(f(r, 'form_home_clean_sheet_rate_10')).toBe(0);
    // Shots / on target per match: 9/3, 15/6, 17/10, 17/11, 12/2; xG proxy = 0.30 SOT + 0.02 (shots - SOT).
    const xgp = [0.3 * 3 + 0.02 * 6, 0.3 * 6 + 0.02 * 9, 0.3 * 10 + 0.02 * 7, 0.3 * 11 + 0.02 * 6, 0.3 * 2 + 0.02 * 10];
    expect(f(r, 'adv_home_xgp_for_10')).toBeCloseTo(xgp.reduce((a, b) => a + b) / 5, 12);
    expect(f(r, 'adv_home_finishing_10')).toBeCloseTo((10 - xgp.reduce((a, b) => a + b)) / 5, 12);
    // Opponents' shots / on target: 17/8, 24/11, 13/5, 14/3, 4/2.
    const xga = [0.3 * 8 + 0.02 * 9, 0.3 * 11 + 0.02 * 13, 0.3 * 5 + 0.02 * 8, 0.3 * 3 + 0.02 * 11, 0.3 * 2 + 0.02 * 2];
    expect(f(r, 'adv_home_xgp_against_10')).toBeCloseTo(xga.reduce((a, b) => a + b) / 5, 12);
    // Territory: mean of shot share and corner share (corners 2-9, 1-5, 10-2, 9-3, 4-10).
    const territory = [(9 / 26 + 2 / 11) / 2, (15 / 39 + 1 / 6) / 2, (17 / 30 + 10 / 12) / 2, (17 / 31 + 9 / 12) / 2, (12 / 16 + 4 / 14) / 2];
    expect(f(r, 'adv_home_territory_10')).toBeCloseTo(territory.reduce((a, b) => a + b) / 5, 12);
    // Cards (yellow + 2 red): 2, 2, 1, 4, 0.
    expect(f(r, 'adv_home_cards_10')).toBe(9 / 5);
    expect(f(r, 'ctx_home_days_since_last')).toBe(8);
    expect(f(r, 'ctx_home_matches_14d')).toBe(1);
    expect(f(r, 'ctx_kickoff_hour_utc')).toBeNaN(); // 2018/19 has dates only
    expect(f(r, 'ctx_is_midweek')).toBe(0);
    // Market, pre-match columns of line 60: PS 1.49/4.93/6.88, BbAv 1.46/4.83/6.54, BbMx 1.49/5.05/7.5,
    // BbAv>2.5 1.44 / <2.5 2.75, BbMx 1.49 / 2.88; no Pinnacle totals before 2019/20. (Closing PSC* 1.4/5.46/7.94 unused.)
    const pin = 1 / 1.49 + 1 / 4.93 + 1 / 6.88;
    const avg = 1 / 1.46 + 1 / 4.83 + 1 / 6.54;
    expect(f(r, 'mkt_pin_p_home')).toBeCloseTo(1 / 1.49 / pin, 15);
    expect(f(r, 'mkt_pin_p_draw')).toBeCloseTo(1 / 4.93 / pin, 15);
    expect(f(r, 'mkt_avg_p_away')).toBeCloseTo(1 / 6.54 / avg, 15);
    expect(f(r, 'mkt_pin_overround_1x2')).toBeCloseTo(pin - 1, 15);
    expect(f(r, 'mkt_avg_overround_1x2')).toBeCloseTo(avg - 1, 15);
    expect(f(r, 'mkt_max_overround_1x2')).toBeCloseTo(1 / 1.49 + 1 / 5.05 + 1 / 7.5 - 1, 15);
    expect(f(r, 'mkt_pin_avg_diff_home')).toBeCloseTo(1 / 1.49 / pin - 1 / 1.46 / avg, 15);
    expect(f(r, 'mkt_avg_p_over25')).toBeCloseTo(1 / 1.44 / (1 / 1.44 + 1 / 2.75), 15);
    expect(f(r, 'mkt_max_overround_ou25')).toBeCloseTo(1 / 1.49 + 1 / 2.88 - 1, 15);
    expect(f(r, 'mkt_pin_p_over25')).toBeNaN();
    expect(f(r, 'mkt_pin_avg_diff_over25')).toBeNaN();
    // League: the 50 E0 matches up to Thursday 20/09 (awk over the CSV): 21 home wins, 9 draws, 149 goals.
    expect(f(r, 'ctx_league_home_win_rate')).toBe(21 / 50);
    expect(f(r, 'ctx_league_draw_rate')).toBe(9 / 50);
    expect(f(r, 'ctx_league_goals_pg')).toBe(149 / 50);
    // No earlier meeting in the loaded data; no known 2017/18 season.
    expect(f(r, 'h2h_meetings')).toBe(0);
    expect(f(r, 'h2h_home_ppg_6')).toBeNaN();
    expect(f(r, 'ctx_home_promoted')).toBeNaN();
  });

  it('Brighton v Man United, 19/08/2018: Elo after one match each, strength of schedule', () => {
    const r = rowOf('E0:2018-08-19:Brighton:Man United');
    // Man United 2-1 Leicester (10/08) and Watford 2-0 Brighton (11/08), everyone starting at 1500.
    const expectedHome = 1 / (1 + 10 ** (-60 / 400));
    const united = 1500 + 20 * 1 * (1 - expectedHome);
    const brighton = 1500 - 20 * 1.5 * (1 - expectedHome);
    expect(f(r, 'adv_away_elo')).toBeCloseTo(united, 10);
    expect(f(r, 'adv_home_elo')).toBeCloseTo(brighton, 10);
    expect(f(r, 'adv_elo_p_home')).toBeCloseTo(1 / (1 + 10 ** ((united - brighton - 60) / 400)), 12);
    expect(f(r, 'adv_home_sos_10')).toBe(1500);
    expect(f(r, 'adv_away_sos_10')).toBe(1500);
    expect(f(r, 'form_away_ppg_5')).toBe(3);
    expect(f(r, 'form_home_ppg_5')).toBe(0);
    expect(f(r, 'form_home_clean_sheet_rate_10')).toBe(0);
  });

  it('Burnley v Man City, 11/08/2023: state carries across seasons; promoted; Pinnacle totals from 2019/20', () => {
    const r = rowOf('E0:2023-08-11:Burnley:Man City');
    // Burnley's last known matches are the end of 2018/19 (not in the 2022/23 Premier League):
    // W 2-0, D 2-2, L 0-1, L 0-2, L 1-3.
    expect(f(r, 'form_home_ppg_5')).toBe(4 / 5);
    expect(f(r, 'form_home_gf_5')).toBe(1);
    expect(f(r, 'form_home_ga_5')).toBe(8 / 5);
    expect(f(r, 'ctx_home_days_since_last')).toBe((Date.UTC(2023, 7, 11, 19) - Date.UTC(2019, 4, 12)) / 86_400_000);
    expect(f(r, 'form_home_season_ppg')).toBeNaN(); // no 2023/24 match known yet
    expect(f(r, 'ctx_home_promoted')).toBe(1);
    expect(f(r, 'ctx_away_promoted')).toBe(0);
    expect(f(r, 'ctx_kickoff_hour_utc')).toBe(19);
    // PS 8.58/5.51/1.37 and P>2.5 1.68 / P<2.5 2.29, Avg>2.5 1.65 / <2.5 2.27 (closing PSCH 9.62 unused).
    expect(f(r, 'mkt_pin_p_home')).toBeCloseTo(1 / 8.58 / (1 / 8.58 + 1 / 5.51 + 1 / 1.37), 15);
    expect(f(r, 'mkt_pin_p_over25')).toBeCloseTo(1 / 1.68 / (1 / 1.68 + 1 / 2.29), 15);
    expect(f(r, 'mkt_pin_avg_diff_over25')).toBeCloseTo(1 / 1.68 / (1 / 1.68 + 1 / 2.29) - 1 / 1.65 / (1 / 1.65 + 1 / 2.27), 15);
    expect(f(r, 'mkt_max_overround_ou25')).toBeCloseTo(1 / 1.71 + 1 / 2.4 - 1, 15);
    expect(r.label1x2).toBe(2);
    expect(r.labelOu25).toBe(1);
  });
});

describe('missing is NaN, never 0', () => {
  const teamDerived = (side: 'home' | 'away') =>
    FEATURE_NAMES.filter((n) => n.startsWith(`form_${side}_`) || n.startsWith(`adv_${side}_`) || n === `ctx_${side}_days_since_last` || n === `ctx_${side}_matches_14d`);

  it("a team's first match ever (Luton, 12/08/2023): every feature of its history is NaN", () => {
    const r = rowOf('E0:2023-08-12:Brighton:Luton');
    expect(teamDerived('away')).toHaveLength(19); // 10 form, 7 statistics, 2 context
    for (const name of teamDerived('away')) expect(f(r, name), name).toBeNaN();
    // Brighton has history, but no 2023/24 match yet: only its season features are missing.
    for (const name of teamDerived('home')) {
      if (name.startsWith('form_home_season_')) expect(f(r, name), name).toBeNaN();
      else expect(Number.isFinite(f(r, name)), name).toBe(true);
    }
    expect(f(r, 'adv_elo_p_home')).toBeNaN();
    expect(f(r, 'h2h_meetings')).toBe(0);
    for (const name of FEATURE_NAMES.filter((n) => n.startsWith('h2h_') && n !== 'h2h_meetings')) expect(f(r, name), name).toBeNaN();
    expect(f(r, 'ctx_away_promoted')).toBe(1);
    expect(f(r, 'ctx_home_promoted')).toBe(0);
    for (const name of FEATURE_NAMES.filter((n) => n.startsWith('mkt_'))) expect(Number.isFinite(f(r, name)), name).toBe(true);
  });

  it('the first match in the database: no team, pair or league history at all', () => {
    const r = rowOf('E0:2018-08-10:Man United:Leicester');
    const known = new Set(['h2h_meetings', 'ctx_season_round', 'ctx_is_midweek', ...FEATURE_NAMES.filter((n) => n.startsWith('mkt_'))]);
    for (const name of FEATURE_NAMES) {
      if (known.has(name)) continue;
      if (name === 'mkt_pin_p_over25' || name === 'mkt_pin_avg_diff_over25') continue;
      expect(f(r, name), name).toBeNaN();
    }
    expect(f(r, 'h2h_meetings')).toBe(0);
    expect(f(r, 'ctx_season_round')).toBe(1);
  });

  it('no feature is ever ±Infinity, and after a team has history its form is a number', () => {
    for (const row of baseline) for (const v of row.values) expect(Number.isNaN(v) || Number.isFinite(v)).toBe(true);
    const later = rowOf('E0:2023-08-25:Chelsea:Luton');
    expect(f(later, 'form_away_ppg_5')).toBe(0); // lost 4-1 at Brighton: a real 0, not a missing one
    expect(f(later, 'form_away_clean_sheet_rate_10')).toBe(0);
    expect(f(later, 'adv_away_elo')).toBeLessThan(1400); // a newcomer starts at 1400 and lost
  });
});

describe('no leakage', () => {
  it('closing prices are never read: changing or deleting every one of them changes no feature', async () => {
    const closing = Number((await db.pool.query(`select count(*) as n from odds_snapshots where phase = 'closing'`)).rows[0].n);
    expect(closing).toBeGreaterThan(20_000);
    const changed = await matrixAfter(async (c) => {
      await c.query(`update odds_snapshots set price = price * 3 + 1 where phase = 'closing'`);
    });
    expect(baseline.flatMap((r) => differences(r, changed.get(r.matchId)))).toEqual([]);
    const deleted = await matrixAfter(async (c) => {
      await c.query(`delete from odds_snapshots where phase = 'closing'`);
    });
    expect(baseline.flatMap((r) => differences(r, deleted.get(r.matchId)))).toEqual([]);
  });

  it('(the same change to pre-match prices does change the market features, so the check above can fail)', async () => {
    const changed = await matrixAfter(async (c) => {
      await c.query(`update odds_snapshots set price = price * 3 + 1 where phase = 'pre_match'`);
    });
    const moved = baseline.filter((r) => differences(r, changed.get(r.matchId)).some((d) => d.includes(' mkt_')));
    expect(moved.length).toBeGreaterThan(baseline.length * 0.99);
  });

  it("a match's own result and statistics never change its features (but do change its teams' next match)", async () => {
    const sample = ['E0:2018-09-23:Arsenal:Everton', 'E0:2018-12-26:Fulham:Wolves', 'E0:2023-08-12:Brighton:Luton', 'E0:2024-02-10:Liverpool:Burnley'];
    for (const externalId of sample) {
      const id = idByExternal.get(externalId)!;
      const changed = await matrixAfter(async (c) => {
        await c.query(
          `update matches set home_score = away_score + 4, away_score = home_score, home_ht_score = 3, away_ht_score = 0,
                  stats = '{"home":{"shots":40,"shotsOnTarget":30,"corners":20,"fouls":1,"yellowCards":9,"redCards":3},
                            "away":{"shots":0,"shotsOnTarget":0,"corners":0,"fouls":30,"yellowCards":0,"redCards":0}}'
           where id = $1`,
          [id],
        );
      });
      expect(differences(baselineById.get(id)!, changed.get(id)), externalId).toEqual([]);
      const home = baselineById.get(id)!.homeTeam;
      const next = baseline.find((r) => r.startAt > baselineById.get(id)!.startAt && (r.homeTeam === home || r.awayTeam === home))!;
      expect(differences(next, changed.get(next.matchId)).length, `${externalId}: the next match of ${home}`).toBeGreaterThan(0);
    }
  });

  it('matches of the same day never see each other: date-only kick-offs, and known ones earlier that day', async () => {
    // 29/09/2018 (dates only): change every result of the day; none of the day's vectors may move.
    // 30/09/2023: change the results of the 12:30 kick-off; the 15:00 and 17:30 ones may not move.
    for (const [day, earlierThan] of [
      ['2018-09-29', null],
      ['2023-09-30', '2023-09-30T14:00:00Z'],
    ] as const) {
      const dayRows = baseline.filter((r) => r.startAt.toISOString().startsWith(day));
      const changedIds = dayRows.filter((r) => earlierThan === null || r.startAt < new Date(earlierThan)).map((r) => r.matchId);
      const watched = earlierThan === null ? dayRows : dayRows.filter((r) => r.startAt >= new Date(earlierThan));
      expect(changedIds.length).toBeGreaterThan(0);
      expect(watched.length).toBeGreaterThan(1);
      const changed = await matrixAfter(async (c) => {
        await c.query(`update matches set home_score = away_score + 5, away_score = home_score + 2 where id = any($1::bigint[])`, [changedIds]);
      });
      expect(watched.flatMap((r) => differences(r, changed.get(r.matchId))), day).toEqual([]);
      // The change is visible from the next prediction on.
      const after = baseline.filter((r) => r.asOf > dayRows[0]!.startAt);
      expect(after.some((r) => differences(r, changed.get(r.matchId)).length > 0)).toBe(true);
    }
  });
});

describe('state for serving', () => {
  it('a state precomputed as of a prediction time, through JSON and back, gives the exported vectors', async () => {
    const { matches, quotes } = await loadFeatureInputs(db.pool);
    const targets = ['E0:2023-09-30:Aston Villa:Brighton', 'E0:2024-05-19:Man City:West Ham', 'E0:2018-12-26:Fulham:Wolves'];
    for (const externalId of targets) {
      const row = rowOf(externalId);
      const m = matches.find((x) => x.matchId === row.matchId)!;
      const json = JSON.stringify(featureStateAt(matches, row.asOf.getTime()));
      expect(json).not.toMatch(/NaN|Infinity/);
      const store = FeatureStateStore.fromJSON(JSON.parse(json));
      const served = store.features(m, row.asOf.getTime(), quotes.get(m.matchId) ?? []);
      expect(differences(row, { ...row, values: served }), externalId).toEqual([]);
    }
  });
});
