// football-data.co.uk behind the provider interface. The site publishes one CSV per league-season, rewritten
// as the season goes on, so every call reads the configured files and maps their rows: fixtures, odds (the
// bookmaker columns, pre-match and closing as parse.ts tells them apart) and results with their statistics.
// Runtime-neutral (fetch, TextDecoder): the Worker's daily job fetches URLs, the Node importer hands over text.
import type { MatchStats } from '../../db/schema';
import {
  ProviderError,
  type FetchWindow,
  type FixturesResult,
  type OddsProvider,
  type OddsResult,
  type ProviderCall,
  type ProviderFixture,
  type ProviderOddsRow,
  type ProviderResult,
  type ResultsResult,
} from '../types';
import { competitionForDivision } from './competitions';
import { FOOTBALL_DATA_PROVIDER, parseFootballDataCsv, type ParsedFile, type Phase, type RowProblem } from './parse';

export { FOOTBALL_DATA_PROVIDER };

/** The provider-neutral fixture, plus what a CSV row knows that a live feed does not promise. */
export interface FootballDataFixture extends ProviderFixture {
  division: string;
  /** The file's season (`2023-24`), not the row's: July games of a late season stay in it. */
  season: string;
  /** False when the row has no `Time`: commenceTime is then 00:00 UTC of the match day. */
  startTimeKnown: boolean;
}

/** CSV prices are snapshots the site took, not quotes at fetch time: the phase says which one. */
export interface FootballDataOddsRow extends ProviderOddsRow {
  phase: Phase;
}

export interface FootballDataResult extends ProviderResult {
  homeHalfTimeScore: number | null;
  awayHalfTimeScore: number | null;
  stats: MatchStats | null;
  referee: string | null;
}

export interface FootballDataFileReport {
  /** The file name (or URL) rows are reported against. */
  file: string;
  rows: number;
  /** Rows skipped whole, with file:line and why. */
  rejected: RowProblem[];
  /** Single prices dropped because they are not decimal odds above 1. */
  invalidPrices: RowProblem[];
}

/** Everything the configured files hold, already in the provider-neutral shapes. */
export interface FootballDataSnapshot {
  files: FootballDataFileReport[];
  fixtures: FootballDataFixture[];
  odds: FootballDataOddsRow[];
  results: FootballDataResult[];
  calls: ProviderCall[];
}

export interface FootballDataProviderOptions {
  /** CSV URLs, e.g. https://www.football-data.co.uk/mmz4281/2425/E0.csv. */
  urls: readonly string[];
  fetch?: typeof fetch;
  /** Per file, covering the body. Default 30 s (a season file is ~200 KB). */
  timeoutMs?: number;
  now?: () => Date;
}

/** One parsed file → the provider shapes. Pure: the importer calls it on local files, the provider on fetched ones. */
export function snapshotFromCsv(text: string, file: string): Omit<FootballDataSnapshot, 'calls'> {
  return snapshotOf(parseFootballDataCsv(text, file));
}

export function snapshotOf(parsed: ParsedFile): Omit<FootballDataSnapshot, 'calls'> {
  const fixtures: FootballDataFixture[] = [];
  const odds: FootballDataOddsRow[] = [];
  const results: FootballDataResult[] = [];
  for (const m of parsed.matches) {
    const fixture: FootballDataFixture = {
      eventId: m.externalId,
      competitionKey: competitionForDivision(m.division).key,
      commenceTime: m.startAt,
      homeTeam: m.homeTeam,
      awayTeam: m.awayTeam,
      division: m.division,
      season: m.season,
      startTimeKnown: m.startTimeKnown,
    };
    fixtures.push(fixture);
    for (const o of m.odds) {
      odds.push({
        eventId: m.externalId,
        bookmaker: o.bookmaker,
        market: o.market,
        outcome: o.outcome as FootballDataOddsRow['outcome'],
        point: o.point,
        price: o.price,
        lastUpdate: o.capturedAt,
        capturedAt: o.capturedAt,
        phase: o.phase,
      });
    }
    const completed = m.status === 'finished';
    results.push({
      eventId: m.externalId,
      competitionKey: fixture.competitionKey,
      commenceTime: m.startAt,
      homeTeam: m.homeTeam,
      awayTeam: m.awayTeam,
      completed,
      scores: completed ? [{ name: m.homeTeam, score: m.homeScore! }, { name: m.awayTeam, score: m.awayScore! }] : null,
      homeScore: m.homeScore,
      awayScore: m.awayScore,
      // The files carry no update time; a finished row is final from the end of its match day.
      lastUpdate: null,
      homeHalfTimeScore: m.homeHalfTimeScore,
      awayHalfTimeScore: m.awayHalfTimeScore,
      stats: m.stats,
      referee: m.referee,
    });
  }
  return {
    files: [{ file: parsed.file, rows: parsed.matches.length, rejected: parsed.rejected, invalidPrices: parsed.invalidPrices }],
    fixtures,
    odds,
    results,
  };
}

export class FootballDataProvider implements OddsProvider {
  readonly name = FOOTBALL_DATA_PROVIDER;

  constructor(private readonly options: FootballDataProviderOptions) {}

  /** Fetches and parses every configured file; any file failing fails the whole read (a job retries tomorrow). */
  async fetchAll(): Promise<FootballDataSnapshot> {
    const snapshot: FootballDataSnapshot = { files: [], fixtures: [], odds: [], results: [], calls: [] };
    for (const url of this.options.urls) {
      const text = await this.fetchText(url, snapshot.calls);
      const part = snapshotFromCsv(text, url);
      const header = part.files[0]!.rejected.find((r) => r.line === 1 && /not a football-data\.co\.uk file/.test(r.reason));
      if (header) {
        throw new ProviderError('invalid_payload', `football-data ${url}: ${header.reason}`, {
          provider: this.name,
          endpoint: url,
          status: 200,
          attempts: 1,
          calls: snapshot.calls,
        });
      }
      snapshot.files.push(...part.files);
      snapshot.fixtures.push(...part.fixtures);
      snapshot.odds.push(...part.odds);
      snapshot.results.push(...part.results);
    }
    return snapshot;
  }

  async fetchFixtures(window: FetchWindow): Promise<FixturesResult> {
    const all = await this.fetchAll();
    return { fixtures: all.fixtures.filter((f) => inWindow(f, window)), calls: all.calls };
  }

  async fetchOdds(window: FetchWindow): Promise<OddsResult> {
    const all = await this.fetchAll();
    const fixtures = all.fixtures.filter((f) => inWindow(f, window));
    const ids = new Set(fixtures.map((f) => f.eventId));
    return { fixtures, odds: all.odds.filter((o) => ids.has(o.eventId)), calls: all.calls };
  }

  /** `daysFrom` keeps matches that kicked off within that many days before now; without it, every row. */
  async fetchResults(options: { competitionKey: string; daysFrom?: number; eventIds?: string[] }): Promise<ResultsResult> {
    const all = await this.fetchAll();
    const now = (this.options.now?.() ?? new Date()).getTime();
    const from = options.daysFrom === undefined ? -Infinity : now - options.daysFrom * 86_400_000;
    const ids = options.eventIds?.length ? new Set(options.eventIds) : null;
    const results = all.results.filter(
      (r) =>
        r.competitionKey === options.competitionKey &&
        r.commenceTime.getTime() >= from &&
        r.commenceTime.getTime() <= now &&
        (!ids || ids.has(r.eventId)),
    );
    return { results, calls: all.calls };
  }

  private async fetchText(url: string, calls: ProviderCall[]): Promise<string> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const fail = (kind: ConstructorParameters<typeof ProviderError>[0], message: string, status?: number) =>
      new ProviderError(kind, `football-data ${url}: ${message}`, {
        provider: this.name,
        endpoint: url,
        attempts: 1,
        calls,
        ...(status === undefined ? {} : { status }),
      });
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, { headers: { accept: 'text/csv, text/plain, */*' }, signal });
    } catch (error) {
      if (signal.aborted) throw fail('timeout', `no response within ${timeoutMs} ms`);
      throw fail('network', `request failed: ${(error as Error).message}`);
    }
    calls.push({
      endpoint: url,
      status: response.status,
      at: this.options.now?.() ?? new Date(),
      attempt: 1,
      requestsRemaining: null,
      requestsUsed: null,
      requestsLast: null,
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const kind = response.status === 404 ? 'not_found' : response.status === 429 ? 'rate_limited' : response.status >= 500 ? 'server_error' : 'invalid_request';
      throw fail(kind, `HTTP ${response.status}`, response.status);
    }
    let bytes: ArrayBuffer;
    try {
      bytes = await response.arrayBuffer();
    } catch (error) {
      if (signal.aborted) throw fail('timeout', `the body did not arrive within ${timeoutMs} ms`, response.status);
      throw fail('invalid_payload', `truncated body: ${(error as Error).message}`, response.status);
    }
    const declared = response.headers.get('content-length');
    if (declared !== null && Number(declared) > bytes.byteLength && !response.headers.get('content-encoding')) {
      throw fail('invalid_payload', `truncated body: ${bytes.byteLength} of ${declared} bytes`, response.status);
    }
    return decodeCsv(bytes);
  }
}

/** The site's files are ASCII or UTF-8, but older ones were saved as Windows-1252: accept both. */
export function decodeCsv(bytes: ArrayBuffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Latin-1 agrees with Windows-1252 on every letter a club name uses.
    let text = '';
    const view = new Uint8Array(bytes);
    for (let i = 0; i < view.length; i += 8192) text += String.fromCharCode(...view.subarray(i, i + 8192));
    return text;
  }
}

function inWindow(f: FootballDataFixture, window: FetchWindow): boolean {
  const t = f.commenceTime.getTime();
  return (
    f.competitionKey === window.competitionKey &&
    (!window.commenceTimeFrom || t >= window.commenceTimeFrom.getTime()) &&
    (!window.commenceTimeTo || t <= window.commenceTimeTo.getTime()) &&
    (!window.eventIds?.length || window.eventIds.includes(f.eventId))
  );
}
