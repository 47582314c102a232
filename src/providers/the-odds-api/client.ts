// The Odds API v4 client (../shared/docs/the-odds-api-v4.md). Worker-safe: global fetch, AbortSignal and
// Web APIs only. Every payload is validated with zod before anything is mapped, and outcomes are resolved to
// home/draw/away/over/under by name.
//
// Retry policy, and why:
// - 5xx, 429, timeouts and network errors before a response are retried with exponential backoff and full
//   jitter (429 waits Retry-After instead). Failed calls cost no credits.
// - 401 (bad key, OUT_OF_USAGE_CREDITS) and 422 fail at once: no retry can fix them.
// - A 200 whose body is malformed, truncated or invalid is NOT retried in the same call: the provider has
//   already charged for it (x-requests-last), so the job fails visibly and the next scheduled run tries again.
import type { z } from 'zod';
import {
  ProviderError,
  type FetchWindow,
  type FixturesResult,
  type OddsMarket,
  type OddsOutcome,
  type OddsProvider,
  type OddsResult,
  type ProviderCall,
  type ProviderErrorKind,
  type ProviderFixture,
  type ProviderOddsRow,
  type ProviderResult,
  type ResultsResult,
} from '../types';
import {
  ErrorBodySchema,
  EventsSchema,
  FEATURED_MARKETS,
  OddsEventsSchema,
  ScoreEventsSchema,
  SportsSchema,
  type OddsApiEvent,
  type OddsApiOddsEvent,
  type OddsApiScoreEvent,
  type OddsApiSport,
} from './schemas';

export const THE_ODDS_API_PROVIDER = 'the-odds-api';
export const THE_ODDS_API_BASE_URL = 'https://api.the-odds-api.com';

export interface TheOddsApiOptions {
  apiKey: string;
  /** Default https://api.the-odds-api.com; the stand-in's loopback URL in tests and `npm start`. */
  baseUrl?: string;
  /** Comma-separated regions for /odds (default `eu`, where Pinnacle is). Ignored when `bookmakers` is set. */
  regions?: string;
  bookmakers?: string[];
  markets?: OddsMarket[];
  /** Per attempt, covering the response body too. Default 10 s. */
  timeoutMs?: number;
  /** Attempts per call including the first. Default 4. */
  maxAttempts?: number;
  /** First backoff ceiling; doubles each retry. Default 500 ms. */
  baseDelayMs?: number;
  /** Backoff ceiling. Default 8 s. */
  maxDelayMs?: number;
  /** A Retry-After longer than this fails the call instead of sleeping (a cron run must not stall). Default 60 s. */
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  /** [0, 1); the jitter source. */
  random?: () => number;
}

export interface QuotaState {
  requestsRemaining: number | null;
  requestsUsed: number | null;
  requestsLast: number | null;
  at: Date;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TheOddsApiClient implements OddsProvider {
  readonly name = THE_ODDS_API_PROVIDER;
  private readonly baseUrl: string;
  private readonly log: ProviderCall[] = [];
  private latestQuota: QuotaState | null = null;

  constructor(private readonly options: TheOddsApiOptions) {
    if (!options.apiKey) throw new TypeError('The Odds API client needs an apiKey');
    this.baseUrl = (options.baseUrl ?? THE_ODDS_API_BASE_URL).replace(/\/+$/, '');
  }

  /** Every HTTP call made by this client so far (retries included), oldest first. */
  get calls(): readonly ProviderCall[] {
    return this.log;
  }

  /** The usage headers of the most recent response that carried them. */
  get quota(): QuotaState | null {
    return this.latestQuota;
  }

  // --- raw endpoints -------------------------------------------------------------------------------

  async sports(all = false): Promise<{ data: OddsApiSport[]; calls: ProviderCall[] }> {
    return this.get('/v4/sports', all ? { all: 'true' } : {}, SportsSchema);
  }

  async events(window: FetchWindow): Promise<{ data: OddsApiEvent[]; calls: ProviderCall[] }> {
    return this.get(`/v4/sports/${encodeURIComponent(window.competitionKey)}/events`, windowParams(window), EventsSchema);
  }

  async odds(window: FetchWindow): Promise<{ data: OddsApiOddsEvent[]; calls: ProviderCall[] }> {
    const params: Record<string, string> = {
      markets: (window.markets ?? this.options.markets ?? FEATURED_MARKETS).join(','),
      oddsFormat: 'decimal',
      dateFormat: 'iso',
      ...windowParams(window),
    };
    if (this.options.bookmakers?.length) params.bookmakers = this.options.bookmakers.join(',');
    else params.regions = window.regions ?? this.options.regions ?? 'eu';
    return this.get(`/v4/sports/${encodeURIComponent(window.competitionKey)}/odds`, params, OddsEventsSchema);
  }

  async scores(options: { competitionKey: string; daysFrom?: number; eventIds?: string[] }): Promise<{ data: OddsApiScoreEvent[]; calls: ProviderCall[] }> {
    const params: Record<string, string> = { dateFormat: 'iso' };
    if (options.daysFrom !== undefined) {
      if (!Number.isInteger(options.daysFrom) || options.daysFrom < 1 || options.daysFrom > 3) {
        throw new RangeError(`daysFrom must be a whole number from 1 to 3, not ${options.daysFrom}`);
      }
      params.daysFrom = String(options.daysFrom);
    }
    if (options.eventIds?.length) params.eventIds = options.eventIds.join(',');
    return this.get(`/v4/sports/${encodeURIComponent(options.competitionKey)}/scores`, params, ScoreEventsSchema);
  }

  // --- the provider interface ----------------------------------------------------------------------

  async fetchFixtures(window: FetchWindow): Promise<FixturesResult> {
    const { data, calls } = await this.events(window);
    return { fixtures: data.map(toFixture), calls };
  }

  async fetchOdds(window: FetchWindow): Promise<OddsResult> {
    const { data, calls } = await this.odds(window);
    const capturedAt = this.now();
    return { fixtures: data.map(toFixture), odds: data.flatMap((event) => oddsRows(event, capturedAt)), calls };
  }

  async fetchResults(options: { competitionKey: string; daysFrom?: number; eventIds?: string[] }): Promise<ResultsResult> {
    const { data, calls } = await this.scores(options);
    return { results: data.map(toResult), calls };
  }

  // --- transport -----------------------------------------------------------------------------------

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private async get<S extends z.ZodType>(path: string, params: Record<string, string>, schema: S): Promise<{ data: z.infer<S>; calls: ProviderCall[] }> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    url.searchParams.set('apiKey', this.options.apiKey);
    const endpoint = path;
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 4);
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const calls: ProviderCall[] = [];
    const fail = (kind: ProviderErrorKind, message: string, attempts: number, extra: { status?: number; errorCode?: string; path?: string } = {}) =>
      new ProviderError(kind, `The Odds API ${endpoint}: ${message}`, { provider: this.name, endpoint, attempts, calls, ...extra });

    for (let attempt = 1; ; attempt++) {
      let retryable: ProviderError;
      let retryAfterMs: number | null = null;
      const signal = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await (this.options.fetch ?? fetch)(url, { headers: { accept: 'application/json', 'accept-encoding': 'gzip' }, signal });
      } catch (error) {
        retryable = isTimeout(error, signal)
          ? fail('timeout', `no response within ${timeoutMs} ms (attempt ${attempt} of ${maxAttempts})`, attempt)
          : fail('network', `request failed: ${(error as Error).message} (attempt ${attempt} of ${maxAttempts})`, attempt);
        if (attempt >= maxAttempts) throw retryable;
        await this.sleep(this.backoffMs(attempt));
        continue;
      }
      this.record(calls, endpoint, response, attempt);

      if (response.ok) {
        let text: string;
        try {
          text = await response.text();
        } catch (error) {
          if (isTimeout(error, signal)) throw fail('timeout', `the response body did not arrive within ${timeoutMs} ms`, attempt, { status: response.status });
          throw fail('invalid_payload', `truncated body: the connection closed mid-response (${(error as Error).message})`, attempt, { status: response.status });
        }
        const declared = Number(response.headers.get('content-length'));
        const received = new TextEncoder().encode(text).byteLength;
        if (response.headers.get('content-length') !== null && Number.isFinite(declared) && received < declared) {
          throw fail('invalid_payload', `truncated body: ${received} of ${declared} bytes`, attempt, { status: response.status });
        }
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw fail('invalid_payload', `malformed JSON (${(error as Error).message})`, attempt, { status: response.status });
        }
        const parsed = schema.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          const where = formatPath(issue.path);
          throw fail('invalid_payload', `invalid payload at ${where}: ${issue.message}`, attempt, { status: response.status, path: where });
        }
        return { data: parsed.data, calls };
      }

      const body = await readErrorBody(response);
      const reason = `${response.status}${body.error_code ? ` ${body.error_code}` : ''}${body.message ? `: ${body.message}` : ''}`;
      const extra = { status: response.status, ...(body.error_code ? { errorCode: body.error_code } : {}) };
      if (response.status === 401) {
        throw fail(body.error_code === 'OUT_OF_USAGE_CREDITS' ? 'out_of_credits' : 'unauthorized', reason, attempt, extra);
      }
      if (response.status === 429) {
        retryable = fail('rate_limited', `${reason} (attempt ${attempt} of ${maxAttempts})`, attempt, extra);
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
        const ceiling = this.options.maxRetryAfterMs ?? 60_000;
        if (retryAfterMs !== null && retryAfterMs > ceiling) {
          throw fail('rate_limited', `${reason}; Retry-After ${retryAfterMs} ms exceeds the ${ceiling} ms this client waits`, attempt, extra);
        }
      } else if (response.status >= 500) {
        retryable = fail('server_error', `${reason} (attempt ${attempt} of ${maxAttempts})`, attempt, extra);
      } else {
        throw fail(response.status === 404 ? 'not_found' : 'invalid_request', reason, attempt, extra);
      }
      if (attempt >= maxAttempts) throw retryable;
      await this.sleep(retryAfterMs ?? this.backoffMs(attempt));
    }
  }

  /** Full jitter: uniform in [0, min(max, base·2^(attempt−1))]. */
  private backoffMs(attempt: number): number {
    const ceiling = Math.min(this.options.maxDelayMs ?? 8_000, (this.options.baseDelayMs ?? 500) * 2 ** (attempt - 1));
    return Math.round(ceiling * (this.options.random ?? Math.random)());
  }

  private sleep(ms: number): Promise<void> {
    return (this.options.sleep ?? defaultSleep)(ms);
  }

  private record(calls: ProviderCall[], endpoint: string, response: Response, attempt: number): void {
    const header = (name: string) => {
      const raw = response.headers.get(name);
      const value = raw === null || raw.trim() === '' ? NaN : Number(raw);
      return Number.isFinite(value) ? value : null;
    };
    const call: ProviderCall = {
      endpoint,
      status: response.status,
      at: this.now(),
      attempt,
      requestsRemaining: header('x-requests-remaining'),
      requestsUsed: header('x-requests-used'),
      requestsLast: header('x-requests-last'),
    };
    calls.push(call);
    this.log.push(call);
    if (call.requestsRemaining !== null || call.requestsUsed !== null) {
      this.latestQuota = { requestsRemaining: call.requestsRemaining, requestsUsed: call.requestsUsed, requestsLast: call.requestsLast, at: call.at };
    }
  }
}

function windowParams(window: FetchWindow): Record<string, string> {
  const params: Record<string, string> = {};
  // The API takes `YYYY-MM-DDTHH:MM:SSZ`; milliseconds are refused.
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (window.commenceTimeFrom) params.commenceTimeFrom = iso(window.commenceTimeFrom);
  if (window.commenceTimeTo) params.commenceTimeTo = iso(window.commenceTimeTo);
  if (window.eventIds?.length) params.eventIds = window.eventIds.join(',');
  return params;
}

function isTimeout(error: unknown, signal: AbortSignal): boolean {
  const name = (error as { name?: string })?.name;
  return signal.aborted || name === 'TimeoutError' || name === 'AbortError';
}

async function readErrorBody(response: Response): Promise<{ message?: string; error_code?: string }> {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(await response.text()));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** Retry-After is delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

function toFixture(event: OddsApiEvent): ProviderFixture {
  return {
    eventId: event.id,
    competitionKey: event.sport_key,
    commenceTime: new Date(event.commence_time),
    homeTeam: event.home_team,
    awayTeam: event.away_team,
  };
}

/** The schema has already proved every name resolves; this only translates it. */
function outcomeByName(event: OddsApiEvent, market: OddsMarket, name: string): OddsOutcome {
  if (market === 'totals') return name === 'Over' ? 'over' : 'under';
  if (name === event.home_team) return 'home';
  if (name === event.away_team) return 'away';
  return 'draw';
}

function oddsRows(event: OddsApiOddsEvent, capturedAt: Date): ProviderOddsRow[] {
  const rows: ProviderOddsRow[] = [];
  for (const bookmaker of event.bookmakers) {
    for (const market of bookmaker.markets) {
      // Markets outside the featured three (e.g. Betfair's h2h_lay) are not stored.
      if (!(FEATURED_MARKETS as readonly string[]).includes(market.key)) continue;
      const key = market.key as OddsMarket;
      const lastUpdate = new Date(market.last_update ?? bookmaker.last_update);
      for (const outcome of market.outcomes) {
        rows.push({
          eventId: event.id,
          bookmaker: bookmaker.key,
          market: key,
          outcome: outcomeByName(event, key, outcome.name),
          point: key === 'h2h' ? null : (outcome.point ?? null),
          price: outcome.price,
          lastUpdate,
          capturedAt,
        });
      }
    }
  }
  return rows;
}

function toResult(event: OddsApiScoreEvent): ProviderResult {
  const scores = event.scores?.map((s) => ({ name: s.name, score: Number(s.score) })) ?? null;
  const scoreOf = (team: string) => scores?.find((s) => s.name === team)?.score ?? null;
  return {
    ...toFixture(event),
    completed: event.completed,
    scores,
    homeScore: scoreOf(event.home_team),
    awayScore: scoreOf(event.away_team),
    lastUpdate: event.last_update ? new Date(event.last_update) : null,
  };
}
