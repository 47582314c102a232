// npm run evaluate -- --sport basketball on real NBA seasons the database has never seen: it imports them, trains
// the moneyline model per test season (models/train_nba.py --smoke, so seconds) and reports it beside the
// margin-free closing line on the same games, in the window's JSON shape and as the rolling table.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeMargin, type MarginMethod } from '../../src/domain/odds';
import { isolatedDatabase } from './support/isolated-database';
import { hasSystemPackages, pythonCanImport } from './support/system-packages';

const trainable = hasSystemPackages({
  testFile: import.meta.url,
  what: "Debian's Python with xgboost and onnx (models/train_nba.py)",
  packages: ['python3-xgboost', 'python3-sklearn', 'python3-onnx', 'python3-numpy'],
  isAvailable: () => pythonCanImport('/usr/bin/python3', ['xgboost', 'sklearn', 'onnx', 'numpy', 'scipy']),
});

const db = isolatedDatabase();
let scratch: string;
const SEASONS = ['nba_2019-20.csv', 'nba_2020-21.csv', 'nba_2021-22.csv'];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'senzu-evaluate-nba-'));
  for (const f of SEASONS) await copyFile(join(__dirname, '../../data/nba', f), join(scratch, f));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

const evaluate = (...args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile('node_modules/.bin/tsx', ['scripts/evaluate.ts', '--', ...args], { env: { ...process.env, DATABASE_URL: db.url }, maxBuffer: 64 * 1024 * 1024 }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });

interface MarketOut {
  predictor: string;
  rows: { input: number; evaluated: number; voidPush: number; droppedNoClosing: number };
  marginMethods: Partial<Record<MarginMethod, number>>;
  metrics: { model: { logLoss: number; brier: number; ece: number }; closing: { logLoss: number; brier: number; ece: number } };
  logLossDifference: { estimate: number; lower: number; upper: number; rows: number; baseline: string };
}

describe.runIf(trainable)('npm run evaluate -- --sport basketball', () => {
  it('imports unseen seasons and reports each market of a window beside the margin-free closing line', async () => {
    const { code, stdout, stderr } = await evaluate('--sport', 'basketball', '--data', scratch, '--from', '2022-01-01', '--to', '2022-02-28', '--smoke', '--json');
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout) as {
      model: { featureVersion: string; folds: Array<{ season: string; validationSeason: string; trees: number; marginMethod: MarginMethod }> };
      window: { from: string; to: string };
      matches: number;
      report: { schemaVersion: number; markets: Record<'h2h' | 'spreads' | 'totals', MarketOut> };
    };
    expect(out.model.featureVersion).toBe('nba-v1');
    expect(out.model.folds).toMatchObject([{ season: '2021-22', validationSeason: '2020-21' }]);
    expect(out.window).toEqual({ from: '2022-01-01', to: '2022-02-28' });

    // The games and the baseline, recomputed from the database without the evaluation code.
    const { rows } = await db.pool.query<{ home: number; away: number; ph: number; pa: number }>(
      `select m.home_score as home, m.away_score as away, h.price::float8 as ph, a.price::float8 as pa
       from matches m
       join sports s on s.id = m.sport_id and s.key = 'basketball'
       join odds_snapshots h on h.match_id = m.id and h.market = 'h2h' and h.outcome = 'home' and h.bookmaker = 'consensus'
       join odds_snapshots a on a.match_id = m.id and a.market = 'h2h' and a.outcome = 'away' and a.bookmaker = 'consensus'
       where m.status = 'finished' and m.start_at >= '2022-01-01' and m.start_at < '2022-03-01'`,
    );
    expect(rows.length).toBeGreaterThan(300);
    const method = out.model.folds[0]!.marginMethod;
    const closingLogLoss = rows.reduce((sum, r) => {
      const [pHome, pAway] = removeMargin([r.ph, r.pa], method).probabilities;
      return sum - Math.log(r.home > r.away ? pHome! : pAway!);
    }, 0) / rows.length;

    const h2h = out.report.markets.h2h;
    expect(h2h.predictor).toBe('model');
    expect(h2h.rows.evaluated).toBe(rows.length);
    const { rows: [window] } = await db.pool.query<{ n: number }>(
      `select count(*)::int as n from matches m join sports s on s.id = m.sport_id and s.key = 'basketball'
       where m.status = 'finished' and m.start_at >= '2022-01-01' and m.start_at < '2022-03-01'`,
    );
    expect(out.matches).toBe(window!.n);
    expect(h2h.marginMethods).toEqual({ [method]: rows.length });
    expect(h2h.metrics.closing.logLoss).toBeCloseTo(closingLogLoss, 12);
    expect(h2h.metrics.model.logLoss).toBeGreaterThan(0.5);
    expect(h2h.metrics.model.logLoss).toBeLessThan(0.75);
    expect(h2h.logLossDifference.baseline).toBe('consensus_closing');
    expect(h2h.logLossDifference.estimate).toBeCloseTo(h2h.metrics.model.logLoss - h2h.metrics.closing.logLoss, 12);
    expect(h2h.logLossDifference.lower).toBeLessThanOrEqual(h2h.logLossDifference.estimate);
    expect(h2h.logLossDifference.upper).toBeGreaterThanOrEqual(h2h.logLossDifference.estimate);
    // A correction on top of a sharp close is small: a model far from it is not anchored on it.
    expect(Math.abs(h2h.logLossDifference.estimate)).toBeLessThan(0.02);
    // With no trees the model is the close itself; with trees it must differ from it.
    if (out.model.folds[0]!.trees === 0) expect(Math.abs(h2h.logLossDifference.estimate)).toBeLessThan(1e-12);
    else expect(Math.abs(h2h.logLossDifference.estimate)).toBeGreaterThan(0);

    // Spreads and totals have no model: the margin-free close is their predictor, pushes are void.
    const pushes = await db.pool.query<{ spreads: number; totals: number }>(
      `select count(*) filter (where m.home_score - m.away_score + s.point = 0)::int as spreads,
              count(*) filter (where m.home_score + m.away_score = t.point)::int as totals
       from matches m
       join odds_snapshots s on s.match_id = m.id and s.market = 'spreads' and s.outcome = 'home'
       join odds_snapshots t on t.match_id = m.id and t.market = 'totals' and t.outcome = 'over'
       where m.status = 'finished' and m.start_at >= '2022-01-01' and m.start_at < '2022-03-01'`,
    );
    for (const market of ['spreads', 'totals'] as const) {
      const m = out.report.markets[market];
      expect(m.rows.voidPush).toBe(pushes.rows[0]![market]);
      expect(m.predictor).toBe('market');
      expect(m.rows.evaluated + m.rows.voidPush + m.rows.droppedNoClosing).toBe(m.rows.input);
      expect(m.rows.evaluated).toBeGreaterThan(300);
      expect(m.metrics.closing.logLoss).toBeCloseTo(Math.log(2), 12); // −110 on both sides: 50/50
    }
  }, 60_000);

  it('reports the rolling evaluation per season and pooled with the gate, and imports nothing the second time', async () => {
    const { code, stdout, stderr } = await evaluate('--sport', 'basketball', '--data', scratch, '--rolling', '--seasons', '2021-22', '--smoke');
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('imported: 0 new games');
    expect(stdout).toMatch(/^2021-22 +\d{4} +\d+ (multiplicative|shin|power) /m);
    expect(stdout).toMatch(/^pooled +\d{4} /m);
    expect(stdout).toMatch(/activation gate: (PASSES|REFUSES)/);
    expect(stdout).toMatch(/the model (does not beat|beats|is worse than) the margin-free closing moneyline/);
    expect(stdout).toMatch(/^spreads: no model yet, the margin-free close is served/m);
  }, 60_000);
});

// A database as a fresh clone's: migrated, no NBA game. The documented command must work on it as it is.
const empty = isolatedDatabase();

describe.runIf(trainable)('npm run evaluate -- --sport basketball on a database without NBA games', () => {
  it("imports the repo's archive once, then evaluates", async () => {
    const run = () =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          'node_modules/.bin/tsx',
          ['scripts/evaluate.ts', '--', '--sport', 'basketball', '--from', '2022-01-01', '--to', '2022-01-08', '--smoke', '--json'],
          { env: { ...process.env, DATABASE_URL: empty.url }, maxBuffer: 64 * 1024 * 1024 },
          (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
    const games = async () =>
      Number((await empty.pool.query<{ n: string }>(`select count(*) as n from matches m join sports s on s.id = m.sport_id where s.key = 'basketball'`)).rows[0]!.n);
    expect(await games()).toBe(0);
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    // --json keeps stdout for the report; what was imported is not announced there, so it is read from the database.
    const loaded = await games();
    expect(loaded).toBeGreaterThan(19_000);
    expect((JSON.parse(first.stdout) as { matches: number }).matches).toBeGreaterThan(40);
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(await games()).toBe(loaded);
  }, 180_000);
});

describe('npm run evaluate -- --sport basketball, bad arguments', () => {
  it('refuses what does not apply to basketball with exit code 2 and says why', async () => {
    const model = await evaluate('--sport', 'basketball', '--from', '2022-01-01', '--to', '2022-01-31', '--model', 'x');
    expect(model).toMatchObject({ code: 2, stdout: '' });
    expect(model.stderr).toContain('--model, --margin and --threshold do not apply');
    const live = await evaluate('--sport', 'basketball', '--live');
    expect(live).toMatchObject({ code: 2, stdout: '' });
    const sport = await evaluate('--sport', 'curling', '--rolling');
    expect(sport.code).toBe(2);
    expect(sport.stderr).toContain('--sport must be football or basketball');
  });
});
