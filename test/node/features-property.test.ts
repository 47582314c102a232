// Property: adding matches later in time never changes an earlier match's features. The database of this file
// grows in three steps, each cutting a real file in the middle of a match day (dates only in 2018/19, known
// kick-offs in 2019/20), then adding the rest and the next season; every vector computed before must come
// back bit for bit identical.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFeatureMatrix, type FeatureRow } from '../../scripts/lib/features';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { FEATURE_NAMES } from '../../src/services/features';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'senzu-features-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

const real = (file: string) => join(REPO_DATA_DIR, file);

/** The first `lines` lines (header included) of a real file, under its own name in a scratch directory. */
async function head(file: string, lines: number): Promise<string> {
  const dir = join(scratch, String(lines));
  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  await writeFile(path, (await readFile(real(file), 'utf8')).split('\n').slice(0, lines).join('\n') + '\n');
  return path;
}

async function load(paths: string[]): Promise<Map<number, FeatureRow>> {
  const summary = await importFootballData(db.pool, paths);
  expect(summary.failedFiles).toBe(0);
  return new Map((await buildFeatureMatrix(db.pool)).map((r) => [r.matchId, r]));
}

function changedFeatures(before: Map<number, FeatureRow>, after: Map<number, FeatureRow>): string[] {
  const out: string[] = [];
  for (const [id, a] of before) {
    const b = after.get(id);
    if (!b) {
      out.push(`match ${id} disappeared`);
      continue;
    }
    if (a.asOf.getTime() !== b.asOf.getTime()) out.push(`match ${id} as_of`);
    FEATURE_NAMES.forEach((name, i) => {
      if (!Object.is(a.values[i], b.values[i])) out.push(`match ${id} ${a.homeTeam} v ${a.awayTeam} ${name}: ${a.values[i]} → ${b.values[i]}`);
    });
  }
  return out;
}

describe('adding later matches never changes earlier features', () => {
  it('holds across a date-only mid-day cut, a mid-day cut between known kick-offs, and a whole later season', async () => {
    // Step 1: 2017/18, and 2018/19 up to Everton v Fulham on Saturday 29/09/2018 (line 64); the day's other
    // five matches (lines 65-69) come later.
    const step1 = await load([real('E0_1718.csv'), await head('E0_1819.csv', 64)]);
    expect(step1.size).toBe(380 + 63);

    // Step 2: the rest of 2018/19, and 2019/20 up to the 15:00 Brighton v Burnley of 14/09/2019 (line 43),
    // after the 12:30 kick-off; the other 15:00 games and the 17:30 one come later.
    const step2 = await load([real('E0_1819.csv'), await head('E0_1920.csv', 43)]);
    expect(step2.size).toBe(760 + 42);
    expect(changedFeatures(step1, step2)).toEqual([]);

    // Step 3: the rest of 2019/20 and all of 2020/21.
    const step3 = await load([real('E0_1920.csv'), real('E0_2021.csv')]);
    expect(step3.size).toBe(4 * 380);
    expect(changedFeatures(step2, step3)).toEqual([]);
    expect(changedFeatures(step1, step3)).toEqual([]);

    // Not vacuous: the compared vectors are mostly numbers, not NaN.
    const values = [...step2.values()].flatMap((r) => [...r.values]);
    expect(values.filter((v) => !Number.isNaN(v)).length / values.length).toBeGreaterThan(0.8);
  });
});
