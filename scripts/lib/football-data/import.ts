// Loads football-data.co.uk CSV files into Postgres through the same path as the Worker's daily CSV job: the
// provider's mapping (snapshotFromCsv) and syncFootballData (teams, the match resolver, results, odds through
// writeOdds). Each file is one transaction and one ingestion_jobs row, so a file that fails leaves nothing
// behind and says why; a second run over the same files inserts nothing.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type pg from 'pg';
import type { RowProblem } from '../../../src/providers/football-data/parse';
import { FOOTBALL_DATA_PROVIDER, snapshotFromCsv } from '../../../src/providers/football-data/provider';
import { syncFootballData, type FootballDataRows, type WriteCounts } from '../../../src/services/ingestion/football-data-sync';
import { eq, sql } from 'drizzle-orm';
import { databaseFailure } from '../../../src/db/pg';
import { ingestionJobs } from '../../../src/db/schema';
import { nodeDatabase } from '../db';
import { advanceFeatureStore, type AdvanceSummary } from '../../../src/services/feature-store';

export type { WriteCounts };

export interface FileSummary {
  file: string;
  jobId: string;
  status: 'succeeded' | 'failed';
  error?: string;
  teamsCreated: number;
  matches: WriteCounts;
  /** Of the matches, those the live provider had already created: the CSV's data went onto them. */
  resolvedToOtherProvider: number;
  odds: WriteCounts;
  rejected: RowProblem[];
  invalidPrices: RowProblem[];
}

export interface ImportSummary {
  files: FileSummary[];
  matches: WriteCounts;
  odds: WriteCounts;
  teamsCreated: number;
  rejected: RowProblem[];
  invalidPrices: RowProblem[];
  failedFiles: number;
  /** The feature store's advance after the import; null when the caller asked for none. */
  featureStore: AdvanceSummary | null;
  durationMs: number;
}

const emptyCounts = (): WriteCounts => ({ inserted: 0, updated: 0, unchanged: 0 });

/** Files and directories (searched recursively for .csv) → a sorted, de-duplicated list of CSV files. */
export async function expandPaths(args: string[]): Promise<string[]> {
  const files = new Set<string>();
  const visit = async (path: string) => {
    const info = await stat(path).catch(() => {
      throw new Error(`${path}: no such file or directory`);
    });
    if (info.isDirectory()) {
      for (const entry of await readdir(path)) {
        const child = join(path, entry);
        if ((await stat(child)).isDirectory() || entry.toLowerCase().endsWith('.csv')) await visit(child);
      }
    } else files.add(path);
  };
  for (const arg of args) await visit(arg);
  return [...files].sort();
}

export async function importFootballData(
  pool: pg.Pool,
  paths: string[],
  options: {
    onFile?: (summary: FileSummary) => void;
    /** The instant (ms) the feature store is advanced to after the files; null leaves it alone. Default: now. */
    featureStoreAt?: number | null;
  } = {},
): Promise<ImportSummary> {
  const started = performance.now();
  const summary: ImportSummary = {
    files: [],
    matches: emptyCounts(),
    odds: emptyCounts(),
    teamsCreated: 0,
    rejected: [],
    invalidPrices: [],
    failedFiles: 0,
    featureStore: null,
    durationMs: 0,
  };
  for (const path of paths) {
    const snapshot = snapshotFromCsv(await readFile(path, 'utf8'), basename(path));
    const fileSummary = await importSnapshot(pool, snapshot.files[0]!, snapshot);
    summary.files.push(fileSummary);
    for (const key of ['inserted', 'updated', 'unchanged'] as const) {
      summary.matches[key] += fileSummary.matches[key];
      summary.odds[key] += fileSummary.odds[key];
    }
    summary.teamsCreated += fileSummary.teamsCreated;
    summary.rejected.push(...fileSummary.rejected);
    summary.invalidPrices.push(...fileSummary.invalidPrices);
    if (fileSummary.status === 'failed') summary.failedFiles++;
    options.onFile?.(fileSummary);
  }
  // The serving path reads the feature store, never the history: what was imported must be in it.
  const at = options.featureStoreAt === undefined ? Date.now() : options.featureStoreAt;
  summary.featureStore = at === null ? null : await advanceFeatureStore(nodeDatabase(pool), at);
  summary.durationMs = performance.now() - started;
  return summary;
}

async function importSnapshot(pool: pg.Pool, parsed: { file: string; rejected: RowProblem[]; invalidPrices: RowProblem[] }, rows: FootballDataRows): Promise<FileSummary> {
  const result: FileSummary = {
    file: parsed.file,
    jobId: '',
    status: 'succeeded',
    teamsCreated: 0,
    matches: emptyCounts(),
    resolvedToOtherProvider: 0,
    odds: emptyCounts(),
    rejected: parsed.rejected,
    invalidPrices: parsed.invalidPrices,
  };
  const db = nodeDatabase(pool);
  const [job] = await db
    .insert(ingestionJobs)
    .values({ kind: 'import', provider: FOOTBALL_DATA_PROVIDER, stats: { file: parsed.file } })
    .returning({ id: ingestionJobs.id });
  result.jobId = job!.id;
  try {
    const counts = await db.transaction((tx) => syncFootballData(tx, rows));
    result.teamsCreated = counts.teamsCreated;
    result.matches = { inserted: counts.matches.inserted, updated: counts.matches.updated, unchanged: counts.matches.unchanged };
    result.resolvedToOtherProvider = counts.matches.resolvedToOtherProvider;
    result.odds = counts.odds;
  } catch (error) {
    result.status = 'failed';
    result.error = (databaseFailure(error) as Error).message;
    result.teamsCreated = 0;
    result.matches = emptyCounts();
    result.resolvedToOtherProvider = 0;
    result.odds = emptyCounts();
  }
  await db
    .update(ingestionJobs)
    .set({
      status: result.status,
      finishedAt: sql`now()`,
      stats: {
        file: parsed.file,
        teamsCreated: result.teamsCreated,
        matches: result.matches,
        resolvedToOtherProvider: result.resolvedToOtherProvider,
        odds: result.odds,
        rejected: result.rejected.length,
        invalidPrices: result.invalidPrices.length,
      },
      error: result.error ?? null,
    })
    .where(eq(ingestionJobs.id, result.jobId));
  return result;
}
