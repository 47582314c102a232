// `npm run features:export` end to end on real data (E0 2018/19 and 2023/24 in a database of this file's own):
// the CSV contract models/ and the evaluation library read, and the rows upserted into feature_vectors.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANCHOR_COLUMNS, CSV_COLUMNS, buildFeatureMatrix, csvField, windowBounds, type FeatureRow } from '../../scripts/lib/features';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { FEATURE_NAMES } from '../../src/services/features';
import { isolatedDatabase } from './support/isolated-database';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const db = isolatedDatabase();

let scratch: string;
let unfinishedId: number;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'senzu-export-'));
  const summary = await importFootballData(db.pool, ['E0_1819.csv', 'E0_2324.csv'].map((f) => join(REPO_DATA_DIR, f)));
  expect(summary.failedFiles).toBe(0);
  // One fixture of the window as if not yet played, for the empty labels.
  const { rows } = await db.pool.query<{ id: string }>(
    `update matches set status = 'scheduled', home_score = null, away_score = null, home_ht_score = null, away_ht_score = null, stats = null
     where external_match_id = 'E0:2023-08-26:Bournemouth:Tottenham' returning id`,
  );
  unfinishedId = Number(rows[0]!.id);
}, 300_000);
afterAll(() => rm(scratch, { recursive: true, force: true }));

function exportCli(args: string[]) {
  return run(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'scripts/export-features.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url },
  });
}

/** RFC 4180, as Python's csv module reads it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}

describe('npm run features:export', () => {
  let header: string[];
  let body: string[][];
  let matrix: FeatureRow[];
  let firstRun: string;

  beforeAll(async () => {
    const out = join(scratch, 'august.csv');
    firstRun = (await exportCli(['--', '--out', out, '--from', '2023-08-01', '--to', '2023-08-31'])).stdout;
    [header, ...body] = parseCsv(await readFile(out, 'utf8')) as [string[], ...string[][]];
    matrix = await buildFeatureMatrix(db.pool, { from: '2023-08-01', to: '2023-08-31' });
  }, 120_000);

  it('writes the contract header: 8 leading columns, the 72 FEATURE_NAMES in order, then the anchors', () => {
    expect(header).toEqual([
      'match_id',
      'start_at',
      'season',
      'competition',
      'home_team',
      'away_team',
      'label_1x2',
      'label_ou25',
      ...FEATURE_NAMES,
      'anchor_1x2_source',
      'anchor_1x2_multiplicative_home',
      'anchor_1x2_multiplicative_draw',
      'anchor_1x2_multiplicative_away',
      'anchor_1x2_shin_home',
      'anchor_1x2_shin_draw',
      'anchor_1x2_shin_away',
      'anchor_1x2_power_home',
      'anchor_1x2_power_draw',
      'anchor_1x2_power_away',
      'anchor_ou25_source',
      'anchor_ou25_multiplicative_over',
      'anchor_ou25_shin_over',
      'anchor_ou25_power_over',
    ]);
    expect(CSV_COLUMNS).toEqual(header);
    expect(ANCHOR_COLUMNS).toEqual(header.slice(80));
    expect(header).toHaveLength(94);
  });

  it('writes one row per match of the window, sorted by kick-off then id, with ISO UTC kick-offs', async () => {
    const { rows } = await db.pool.query<{ id: string; start_at: Date; season: string; home: string; away: string }>(
      `select m.id, m.start_at, m.season, h.name as home, a.name as away from matches m
       join teams h on h.id = m.home_team_id join teams a on a.id = m.away_team_id
       where m.start_at >= '2023-08-01T00:00:00Z' and m.start_at < '2023-09-01T00:00:00Z' order by m.start_at, m.id`,
    );
    expect(rows.length).toBe(29); // three rounds, Burnley v Luton postponed
    expect(body.map((r) => r.slice(0, 6))).toEqual(
      rows.map((r) => [String(Number(r.id)), r.start_at.toISOString(), '2023-24', 'soccer_epl', r.home, r.away]),
    );
    for (const r of body) expect(r).toHaveLength(94);
  });

  it('encodes labels: 0 home / 1 draw / 2 away, 1 over 2.5 goals else 0, empty when not finished', async () => {
    const { rows } = await db.pool.query<{ id: string; home_score: number | null; away_score: number | null }>(
      `select id, home_score, away_score from matches where start_at >= '2023-08-01' and start_at < '2023-09-01'`,
    );
    const scores = new Map(rows.map((r) => [String(Number(r.id)), r]));
    const seen = new Set<string>();
    for (const r of body) {
      const s = scores.get(r[0]!)!;
      if (Number(r[0]) === unfinishedId) {
        expect(s.home_score).toBeNull();
        expect([r[6], r[7]]).toEqual(['', '']);
        continue;
      }
      const expected1x2 = s.home_score! > s.away_score! ? '0' : s.home_score === s.away_score ? '1' : '2';
      expect([r[6], r[7]]).toEqual([expected1x2, s.home_score! + s.away_score! > 2.5 ? '1' : '0']);
      seen.add(`${r[6]}/${r[7]}`);
    }
    // Burnley 0-3 Man City opens the season: an away win with 3 goals.
    expect(body[0]!.slice(4, 8)).toEqual(['Burnley', 'Man City', '2', '1']);
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });

  it('writes NaN as `nan` and every number at full float64 precision', () => {
    const cells = body.flatMap((r) => r.slice(8, 80));
    expect(cells).toContain('nan');
    expect(cells.filter((c) => c === '' || /^(NaN|null|undefined|-?Infinity)$/.test(c))).toEqual([]);
    const byId = new Map(matrix.map((m) => [String(m.matchId), m]));
    for (const r of body) {
      const values = byId.get(r[0]!)!.values;
      r.slice(8, 80).forEach((cell, i) => {
        if (cell === 'nan') expect(values[i], FEATURE_NAMES[i]).toBeNaN();
        else expect(Number(cell), FEATURE_NAMES[i]).toBe(values[i]);
      });
    }
    // Luton's first match ever: its form is missing.
    const luton = body.find((r) => r[5] === 'Luton')!;
    expect(luton[8 + FEATURE_NAMES.indexOf('form_away_ppg_5')]).toBe('nan');
  });

  it("writes the anchor: Pinnacle's pre-match price with the margin removed, from the file's own PS and P>2.5 columns", async () => {
    const csv = parseCsv((await readFile(join(REPO_DATA_DIR, 'E0_2324.csv'), 'utf8')).replace(/^\uFEFF/, ''));
    const [fileHeader, ...fileRows] = csv as [string[], ...string[][]];
    const col = (row: string[], name: string) => Number(row[fileHeader.indexOf(name)]);
    const at = (name: string) => header.indexOf(name);
    let checked = 0;
    for (const r of body) {
      const source = fileRows.find((f) => f[fileHeader.indexOf('HomeTeam')] === r[4] && f[fileHeader.indexOf('AwayTeam')] === r[5])!;
      // Multiplicative removal by hand: 1/price over the booksum.
      const implied = ['PSH', 'PSD', 'PSA'].map((c) => 1 / col(source, c));
      const sum = implied.reduce((a, b) => a + b, 0);
      expect(r[at('anchor_1x2_source')]).toBe('pinnacle');
      ['home', 'draw', 'away'].forEach((o, i) => expect(Number(r[at(`anchor_1x2_multiplicative_${o}`)])).toBeCloseTo(implied[i]! / sum, 12));
      const over = 1 / col(source, 'P>2.5');
      const under = 1 / col(source, 'P<2.5');
      expect(r[at('anchor_ou25_source')]).toBe('pinnacle');
      expect(Number(r[at('anchor_ou25_multiplicative_over')])).toBeCloseTo(over / (over + under), 12);
      // Shin on two outcomes is the additive method: the margin comes off each side equally.
      expect(Number(r[at('anchor_ou25_shin_over')])).toBeCloseTo(over - (over + under - 1) / 2, 12);
      // Shin and power move probability from the long shot to the favourite, relative to multiplicative.
      const favourite = implied.indexOf(Math.max(...implied));
      const o = ['home', 'draw', 'away'][favourite]!;
      expect(Number(r[at(`anchor_1x2_shin_${o}`)])).toBeGreaterThan(Number(r[at(`anchor_1x2_multiplicative_${o}`)]));
      expect(Number(r[at(`anchor_1x2_power_${o}`)])).toBeGreaterThan(Number(r[at(`anchor_1x2_multiplicative_${o}`)]));
      checked++;
    }
    expect(checked).toBe(29);
  });

  it('upserts the window into feature_vectors (version, as_of = prediction time, float4 values, NaN kept), idempotently', async () => {
    expect(firstRun).toMatch(/feature_vectors: 29 inserted or changed, 0 unchanged/);
    const { rows } = await db.pool.query<{ match_id: string; feature_version: string; as_of: Date; values: Array<number | string> }>(
      `select match_id, feature_version, as_of, values::float8[]::text[] as values from feature_vectors order by match_id`,
    );
    expect(rows).toHaveLength(29);
    const byId = new Map(matrix.map((m) => [m.matchId, m]));
    for (const r of rows) {
      const m = byId.get(Number(r.match_id))!;
      expect(r.feature_version).toBe('v1');
      expect(r.as_of.toISOString()).toBe(m.asOf.toISOString());
      // Pre-match prices of 2023/24 were captured at 12:00 UTC on the Tuesday or Friday before.
      expect(m.asOf.getUTCHours()).toBe(12);
      expect([2, 5]).toContain(m.asOf.getUTCDay());
      expect(r.values).toHaveLength(72);
      r.values.forEach((v, i) => {
        if (Number.isNaN(m.values[i])) expect(v, FEATURE_NAMES[i]).toBe('NaN');
        else expect(Number(v), FEATURE_NAMES[i]).toBe(Math.fround(m.values[i]!));
      });
    }
    const again = await exportCli(['--out', join(scratch, 'again.csv'), '--from', '2023-08-01', '--to', '2023-08-31']);
    expect(again.stdout).toMatch(/feature_vectors: 0 inserted or changed, 29 unchanged/);
    expect(await readFile(join(scratch, 'again.csv'), 'utf8')).toBe(await readFile(join(scratch, 'august.csv'), 'utf8'));
  });

  it('builds a window from all earlier history: the same vectors as an export of everything', async () => {
    const all = new Map((await buildFeatureMatrix(db.pool)).map((r) => [r.matchId, r]));
    expect(all.size).toBe(760);
    for (const r of matrix) expect([...all.get(r.matchId)!.values]).toEqual([...r.values]);
  });

  it('refuses bad arguments with exit code 2', async () => {
    for (const args of [['--from', '2023-02-30'], ['--from', '2023-09-01', '--to', '2023-08-01'], ['--out'], ['--bogus']]) {
      const failure = await exportCli(args).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(failure?.code, args.join(' ')).toBe(2);
      expect(failure?.stderr).toMatch(/usage: npm run features:export/);
    }
  });
});

describe('CSV helpers', () => {
  it('quotes only fields that need it, and windows are whole UTC days', () => {
    expect(csvField("Nott'm Forest")).toBe("Nott'm Forest");
    expect(csvField('Inter, Milan "Nerazzurri"')).toBe('"Inter, Milan ""Nerazzurri"""');
    expect(windowBounds({ from: '2023-08-01', to: '2023-08-31' })).toEqual({ from: Date.UTC(2023, 7, 1), to: Date.UTC(2023, 8, 1) });
    expect(() => windowBounds({ from: '2023-8-1' })).toThrow(RangeError);
  });
});
