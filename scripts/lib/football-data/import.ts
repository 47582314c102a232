// Loads football-data.co.uk CSV files into Postgres: sports, competitions, teams (with provider aliases),
// matches and odds_snapshots. Each file is one transaction and one ingestion_jobs row, so a file that fails
// leaves nothing behind and says why; a second run over the same files inserts nothing.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type pg from 'pg';
import { competitionForDivision } from '../../../src/providers/football-data/competitions';
import {
  FOOTBALL_DATA_PROVIDER,
  parseFootballDataCsv,
  type ParsedFile,
  type ParsedMatch,
  type RowProblem,
} from '../../../src/providers/football-data/parse';
import { addCapture, widenOddsRanges, type CaptureRanges } from '../../../src/services/ingestion/odds-ranges';
import { pgQuery } from '../ingestion/pg-sql';

export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface FileSummary {
  file: string;
  jobId: string;
  status: 'succeeded' | 'failed';
  error?: string;
  teamsCreated: number;
  matches: WriteCounts;
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
  durationMs: number;
}

const ODDS_BATCH_ROWS = 5000;
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
  options: { onFile?: (summary: FileSummary) => void } = {},
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
    durationMs: 0,
  };
  for (const path of paths) {
    const parsed = parseFootballDataCsv(await readFile(path, 'utf8'), basename(path));
    const fileSummary = await importParsedFile(pool, parsed);
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
  summary.durationMs = performance.now() - started;
  return summary;
}

async function importParsedFile(pool: pg.Pool, parsed: ParsedFile): Promise<FileSummary> {
  const result: FileSummary = {
    file: parsed.file,
    jobId: '',
    status: 'succeeded',
    teamsCreated: 0,
    matches: emptyCounts(),
    odds: emptyCounts(),
    rejected: parsed.rejected,
    invalidPrices: parsed.invalidPrices,
  };
  const job = await pool.query<{ id: string }>(
    `insert into ingestion_jobs (kind, provider, stats) values ('import', $1, $2) returning id`,
    [FOOTBALL_DATA_PROVIDER, { file: parsed.file }],
  );
  result.jobId = job.rows[0]!.id;
  const client = await pool.connect();
  try {
    await client.query('begin');
    await writeFile(client, parsed.matches, result);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    result.status = 'failed';
    result.error = (error as Error).message;
    result.teamsCreated = 0;
    result.matches = emptyCounts();
    result.odds = emptyCounts();
  } finally {
    client.release();
  }
  await pool.query(`update ingestion_jobs set status = $2, finished_at = now(), stats = $3, error = $4 where id = $1`, [
    result.jobId,
    result.status,
    {
      file: parsed.file,
      teamsCreated: result.teamsCreated,
      matches: result.matches,
      odds: result.odds,
      rejected: result.rejected.length,
      invalidPrices: result.invalidPrices.length,
    },
    result.error ?? null,
  ]);
  return result;
}

async function writeFile(client: pg.PoolClient, matches: ParsedMatch[], result: FileSummary): Promise<void> {
  if (matches.length === 0) return;
  const sportId = await upsertReturningId(client, `insert into sports (key, name) values ('soccer', 'Soccer') on conflict (key) do nothing`, `select id from sports where key = 'soccer'`);

  const competitionIds = new Map<string, number>();
  for (const division of new Set(matches.map((m) => m.division))) {
    const info = competitionForDivision(division);
    competitionIds.set(
      division,
      await upsertReturningId(
        client,
        `insert into competitions (sport_id, key, name, country) values (${sportId}, $1, $2, $3) on conflict (key) do nothing`,
        `select id from competitions where key = $1`,
        [info.key, info.name, info.country],
      ),
    );
  }

  const teamIds = await resolveTeams(client, sportId, [...new Set(matches.flatMap((m) => [m.homeTeam, m.awayTeam]))], result);

  // Matches: one statement. Only rows whose data changed are rewritten, so a re-run touches nothing.
  const upserted = await client.query<{ inserted: boolean }>(
    `insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status,
                          provider, external_match_id, home_score, away_score, home_ht_score, away_ht_score, stats, referee)
     select $1, m.competition_id, m.season, m.home_team_id, m.away_team_id, m.start_at, m.start_time_known, m.status,
            $2, m.external_match_id, m.home_score, m.away_score, m.home_ht_score, m.away_ht_score, m.stats, m.referee
     from unnest($3::int[], $4::text[], $5::int[], $6::int[], $7::timestamptz[], $8::bool[], $9::text[], $10::text[],
                 $11::int[], $12::int[], $13::int[], $14::int[], $15::jsonb[], $16::text[])
          as m(competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, external_match_id,
               home_score, away_score, home_ht_score, away_ht_score, stats, referee)
     on conflict (provider, external_match_id) do update set
       competition_id = excluded.competition_id, season = excluded.season, home_team_id = excluded.home_team_id,
       away_team_id = excluded.away_team_id, start_at = excluded.start_at, start_time_known = excluded.start_time_known,
       status = excluded.status, home_score = excluded.home_score, away_score = excluded.away_score,
       home_ht_score = excluded.home_ht_score, away_ht_score = excluded.away_ht_score, stats = excluded.stats,
       referee = excluded.referee, updated_at = now()
     where (matches.competition_id, matches.season, matches.home_team_id, matches.away_team_id, matches.start_at,
            matches.start_time_known, matches.status, matches.home_score, matches.away_score, matches.home_ht_score,
            matches.away_ht_score, matches.stats, matches.referee)
       is distinct from
           (excluded.competition_id, excluded.season, excluded.home_team_id, excluded.away_team_id, excluded.start_at,
            excluded.start_time_known, excluded.status, excluded.home_score, excluded.away_score, excluded.home_ht_score,
            excluded.away_ht_score, excluded.stats, excluded.referee)
     returning (xmax = 0) as inserted`,
    [
      sportId,
      FOOTBALL_DATA_PROVIDER,
      matches.map((m) => competitionIds.get(m.division)!),
      matches.map((m) => m.season),
      matches.map((m) => teamIds.get(m.homeTeam)!),
      matches.map((m) => teamIds.get(m.awayTeam)!),
      matches.map((m) => m.startAt.toISOString()),
      matches.map((m) => m.startTimeKnown),
      matches.map((m) => m.status),
      matches.map((m) => m.externalId),
      matches.map((m) => m.homeScore),
      matches.map((m) => m.awayScore),
      matches.map((m) => m.homeHalfTimeScore),
      matches.map((m) => m.awayHalfTimeScore),
      matches.map((m) => (m.stats ? JSON.stringify(m.stats) : null)),
      matches.map((m) => m.referee),
    ],
  );
  result.matches = tally(upserted.rows, matches.length);

  const ids = await client.query<{ id: string; external_match_id: string }>(
    `select id, external_match_id from matches where provider = $1 and external_match_id = any($2::text[])`,
    [FOOTBALL_DATA_PROVIDER, matches.map((m) => m.externalId)],
  );
  const matchIds = new Map(ids.rows.map((r) => [r.external_match_id, r.id]));

  const odds = matches.flatMap((m) => m.odds.map((o) => ({ ...o, matchId: matchIds.get(m.externalId)! })));
  if (odds.length === 0) return;
  const months = [...new Set(odds.map((o) => o.capturedAt.toISOString().slice(0, 7)))].map((m) => `${m}-01`);
  await client.query(`select ensure_month_partition('odds_snapshots', m) from unnest($1::date[]) as m`, [months]);

  // Compare with what is stored for these matches first. A re-run then costs one indexed read per file
  // instead of a conflict per row, and inserted, corrected and unchanged prices are counted exactly.
  const times = odds.map((o) => o.capturedAt.getTime());
  const stored = await client.query<{ key: string; price: string; phase: string }>(
    `select concat_ws('|', match_id, bookmaker, market, outcome, coalesce(point::float8::text, ''),
                      (extract(epoch from captured_at) * 1000)::bigint) as key, price::float8::text as price, phase
     from odds_snapshots
     where provider = $1 and match_id = any($2::bigint[]) and captured_at between $3 and $4`,
    [FOOTBALL_DATA_PROVIDER, [...new Set(odds.map((o) => o.matchId))], new Date(Math.min(...times)).toISOString(), new Date(Math.max(...times)).toISOString()],
  );
  const existing = new Map(stored.rows.map((r) => [r.key, r]));
  const toInsert: typeof odds = [];
  const toUpdate: typeof odds = [];
  for (const o of odds) {
    const key = [o.matchId, o.bookmaker, o.market, o.outcome, o.point === null ? '' : String(o.point), o.capturedAt.getTime()].join('|');
    const before = existing.get(key);
    if (!before) toInsert.push(o);
    else if (Number(before.price) !== Math.round(o.price * 1000) / 1000 || before.phase !== o.phase) toUpdate.push(o);
  }

  const unnested = `unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::text[], $9::timestamptz[])
            as o(match_id, bookmaker, market, outcome, point, price, phase, captured_at)`;
  const params = (batch: typeof odds) => [
    FOOTBALL_DATA_PROVIDER,
    batch.map((o) => o.matchId),
    batch.map((o) => o.bookmaker),
    batch.map((o) => o.market),
    batch.map((o) => o.outcome),
    batch.map((o) => o.point),
    batch.map((o) => o.price),
    batch.map((o) => o.phase),
    batch.map((o) => o.capturedAt.toISOString()),
  ];
  for (let start = 0; start < toInsert.length; start += ODDS_BATCH_ROWS) {
    const batch = toInsert.slice(start, start + ODDS_BATCH_ROWS);
    const inserted = await client.query(
      `insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at)
       select o.match_id, $1, o.bookmaker, o.market, o.outcome, o.point, o.price, o.phase, o.captured_at from ${unnested}
       on conflict (match_id, provider, bookmaker, market, outcome, point, captured_at) do nothing`,
      params(batch),
    );
    result.odds.inserted += inserted.rowCount ?? 0;
  }
  for (let start = 0; start < toUpdate.length; start += ODDS_BATCH_ROWS) {
    const batch = toUpdate.slice(start, start + ODDS_BATCH_ROWS);
    const updated = await client.query(
      `update odds_snapshots s set price = o.price, phase = o.phase, ingested_at = now()
       from ${unnested}
       where s.match_id = o.match_id and s.provider = $1 and s.bookmaker = o.bookmaker and s.market = o.market
         and s.outcome = o.outcome and s.point is not distinct from o.point and s.captured_at = o.captured_at`,
      params(batch),
    );
    result.odds.updated += updated.rowCount ?? 0;
  }
  result.odds.unchanged = odds.length - result.odds.inserted - result.odds.updated;

  // Keep each match's odds capture range (which lets odds reads prune partitions) covering what is stored.
  const ranges: CaptureRanges = new Map();
  for (const o of odds) addCapture(ranges, o.matchId, o.capturedAt.getTime());
  await widenOddsRanges(pgQuery(client), ranges);
}

/** Rows returned by an upsert are the inserted and the updated ones; the rest were already identical. */
function tally(rows: Array<{ inserted: boolean }>, total: number): WriteCounts {
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted, unchanged: total - rows.length };
}

async function upsertReturningId(client: pg.PoolClient, insert: string, select: string, params: unknown[] = []): Promise<number> {
  await client.query(insert, params);
  const { rows } = await client.query<{ id: number }>(select, params.slice(0, 1));
  return Number(rows[0]!.id);
}

/**
 * Provider spelling → canonical team, through team_aliases. A name never seen before becomes a team of its
 * own with an alias, so an unseen league imports without preparation; merging two spellings of one club is
 * an alias update, not an import change.
 */
async function resolveTeams(client: pg.PoolClient, sportId: number, names: string[], result: FileSummary): Promise<Map<string, number>> {
  const known = await client.query<{ alias: string; team_id: number }>(
    `select a.alias, a.team_id from team_aliases a join teams t on t.id = a.team_id
     where a.provider = $1 and t.sport_id = $2 and a.alias = any($3::text[])`,
    [FOOTBALL_DATA_PROVIDER, sportId, names],
  );
  const ids = new Map(known.rows.map((r) => [r.alias, Number(r.team_id)]));
  const missing = names.filter((n) => !ids.has(n));
  if (missing.length > 0) {
    const created = await client.query(
      `insert into teams (sport_id, name) select $1, unnest($2::text[]) on conflict (sport_id, name) do nothing`,
      [sportId, missing],
    );
    result.teamsCreated = created.rowCount ?? 0;
    const rows = await client.query<{ id: number; name: string }>(`select id, name from teams where sport_id = $1 and name = any($2::text[])`, [
      sportId,
      missing,
    ]);
    for (const r of rows.rows) ids.set(r.name, Number(r.id));
    await client.query(
      `insert into team_aliases (team_id, provider, alias) select unnest($1::int[]), $2, unnest($3::text[]) on conflict (provider, alias) do nothing`,
      [missing.map((n) => ids.get(n)!), FOOTBALL_DATA_PROVIDER, missing],
    );
  }
  return ids;
}
