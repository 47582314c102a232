// The NBA training path on real seasons, in seconds: the database → `npm run features:export -- --sport
// basketball` (the nba-v1 CSV) → models/train_nba.py --smoke, with forced trees and with none. With no trees the
// predictions are the anchor exactly; with trees, the model's ONNX margins run through onnxruntime-web (the
// Worker's runtime) give back train_nba.py's probabilities, so the model could be served as football's is.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NBA_CSV_COLUMNS } from '../../scripts/lib/nba/features';
import { importNbaArchive } from '../../scripts/lib/nba/import';
import { ort } from '../../scripts/lib/ort-node';
import { isolatedDatabase } from './support/isolated-database';
import { hasSystemPackages, pythonCanImport } from './support/system-packages';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const trainable = hasSystemPackages({
  testFile: import.meta.url,
  what: "Debian's Python with xgboost and onnx (models/train_nba.py)",
  packages: ['python3-xgboost', 'python3-sklearn', 'python3-onnx', 'python3-numpy'],
  isAvailable: () => pythonCanImport(PYTHON, ['xgboost', 'sklearn', 'onnx', 'numpy', 'scipy']),
});

const db = isolatedDatabase();
let scratch: string;
let csv: string;
let table: Array<Record<string, string>>;

beforeAll(async () => {
  if (!trainable) return;
  scratch = await mkdtemp(join(tmpdir(), 'senzu-nba-train-'));
  const files = ['nba_2019-20.csv', 'nba_2020-21.csv', 'nba_2021-22.csv'].map((f) => join(__dirname, '../../data/nba', f));
  expect((await importNbaArchive(db.pool, files)).failedFiles).toBe(0);
  csv = join(scratch, 'nba.csv');
  await run('node_modules/.bin/tsx', ['scripts/export-features.ts', '--sport', 'basketball', '--out', csv], { env: { ...process.env, DATABASE_URL: db.url } });
  const [header, ...lines] = (await readFile(csv, 'utf8')).trim().split('\n');
  expect(header!.split(',')).toEqual([...NBA_CSV_COLUMNS]);
  table = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [NBA_CSV_COLUMNS[i]!, v])));
}, 60_000);
afterAll(() => (scratch ? rm(scratch, { recursive: true, force: true }) : undefined));

async function train(name: string, trees: 'force' | 'none') {
  const out = join(scratch, name);
  await run(PYTHON, ['models/train_nba.py', '--features', csv, '--out', out, '--validation-season', '2020-21', '--test-season', '2021-22', '--smoke', '--trees', trees]);
  const model = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as { trees: number; features: string[]; marginMethod: { chosen: string }; onnx: { maxAbsDiff: number } };
  const [, ...lines] = (await readFile(join(out, 'predictions.csv'), 'utf8')).trim().split('\n');
  const predictions = new Map(lines.map((l) => l.split(',')).map(([id, p]) => [id!, Number(p)]));
  return { out, model, predictions };
}

describe.runIf(trainable)('models/train_nba.py on the nba-v1 export', () => {
  it('exports one row per game with the anchors under each margin method', async () => {
    const { rows } = await db.pool.query<{ n: number }>(`select count(*)::int as n from matches m join sports s on s.id = m.sport_id and s.key = 'basketball'`);
    expect(table.length).toBe(rows[0]!.n);
    const row = table.find((r) => r.season === '2021-22' && r.anchor_h2h_shin_home !== '')!;
    expect(Number(row.anchor_h2h_shin_home)).toBeGreaterThan(0);
    expect(Number(row.anchor_h2h_shin_home)).toBeLessThan(1);
    expect(table.filter((r) => r.neutral_site === '1').length).toBeGreaterThan(80); // the 2019/20 restart
  });

  it('with no trees predicts the anchor itself', async () => {
    const { model, predictions } = await train('none', 'none');
    expect(model.trees).toBe(0);
    const test = table.filter((r) => r.season === '2021-22' && r.label_home_win !== '' && r.anchor_h2h_multiplicative_home !== '');
    expect(predictions.size).toBe(test.length);
    for (const r of test) expect(predictions.get(r.match_id!)!).toBeCloseTo(Number(r[`anchor_h2h_${model.marginMethod.chosen}_home`]), 12);
  }, 60_000);

  it('with trees: the ONNX margins on top of the anchor reproduce its probabilities in the Worker runtime', async () => {
    const { out, model, predictions } = await train('force', 'force');
    expect(model.trees).toBeGreaterThan(0);
    expect(model.onnx.maxAbsDiff).toBeLessThanOrEqual(1e-6);
    const test = table.filter((r) => predictions.has(r.match_id!));
    const features = new Float32Array(test.length * model.features.length);
    test.forEach((r, i) => model.features.forEach((f, j) => (features[i * model.features.length + j] = r[f] === 'nan' ? NaN : Number(r[f]))));
    const session = await ort.InferenceSession.create(await readFile(join(out, 'model-h2h.onnx')));
    const margin = (await session.run({ features: new ort.Tensor('float32', features, [test.length, model.features.length]) })).margin!.data as Float32Array;
    let moved = 0;
    test.forEach((r, i) => {
      const a = Number(r[`anchor_h2h_${model.marginMethod.chosen}_home`]);
      const p = 1 / (1 + Math.exp(-(Math.log(a / (1 - a)) + margin[i]!)));
      expect(Math.abs(p - predictions.get(r.match_id!)!)).toBeLessThan(1e-5);
      if (Math.abs(p - a) > 1e-4) moved++;
    });
    expect(moved).toBeGreaterThan(test.length / 2);
  }, 60_000);
});
