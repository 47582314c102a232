// A loopback HTTP server that speaks The Odds API v4 (../shared/docs/the-odds-api-v4.md): paths, query
// parameters, apiKey, usage headers and error bodies. It replays a real season from the repo's CSV files on an
// injected clock, and a small control API makes it fail on demand, so the client and the ingestion jobs are
// tested against real HTTP without the real provider.
//
// Football (`soccer_*`, regions uk/eu) replays data/football-data/ with the site's real bookmaker prices. The NBA
// (`basketball_nba`, region us; `nbaSeason`, or NBA events passed in `events`) replays data/nba/ with SYNTHETIC
// PRICES BUILT AROUND REAL CLOSING LINES: the archive has one consensus closing moneyline, spread and total per
// game, and ./nba.ts makes the books, their opening lines, their ±0.5 shading and their −105/−115 prices around
// them (its header says exactly how).
//
// Control API (no apiKey; loopback only):
//   POST /__control {"mode": <fault>, "count": 1, "path": "/odds", "retryAfter": 1}  fail the next `count`
//        API calls whose path contains `path` (all calls when omitted)
//   POST /__control {"reset": true}                   drop pending faults, zero the credits used
//   POST /__control {"creditLimit": n, "creditsUsed": n}  set the quota
//   POST /__control {"now": "2023-09-29T12:00:00Z"}   set the replay clock (null: back to the injected one)
//   GET  /__control                                   {faults, creditsUsed, creditLimit, requests, now}
// Fault modes: server_error (500), timeout (no answer until the client gives up), rate_limit (429 with
// Retry-After), out_of_credits (401 OUT_OF_USAGE_CREDITS), malformed (200, invalid JSON), truncated (200, the
// connection closes halfway through the declared body), and for /odds bodies: missing_outcomes, bad_price,
// unknown_outcome.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { decimalToAmerican } from '../../../src/domain/odds/american';
import { createPrng } from '../../../src/lib/prng';
import type { OddsMarket, OddsOutcome } from '../../../src/providers/types';
import { DEFAULT_DIVISIONS, loadSeason, quoteMarket, sportInfo, type ReplayEvent } from './season';
import { loadNbaSeason } from './nba';

export const FAULT_MODES = [
  'server_error',
  'timeout',
  'rate_limit',
  'out_of_credits',
  'malformed',
  'truncated',
  'missing_outcomes',
  'bad_price',
  'unknown_outcome',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];
const FAULT_ALIASES: Record<string, FaultMode> = { '500': 'server_error', '429': 'rate_limit', '401': 'out_of_credits' };

export interface Fault {
  mode: FaultMode;
  remaining: number;
  path?: string;
  retryAfter: number;
}

export interface OddsApiStandinOptions {
  /** Season suffix of the CSV files, e.g. `2324` for 2023/24. */
  season?: string;
  divisions?: readonly string[];
  dataDir?: string;
  /** Also replay this NBA season from data/nba (`2021-22`): `basketball_nba` with synthetic prices around its closing lines. */
  nbaSeason?: string;
  nbaDataDir?: string;
  /** Preloaded events (skips reading the CSVs). */
  events?: ReplayEvent[];
  apiKey?: string;
  now?: () => Date;
  port?: number;
  host?: string;
  /** Monthly credits; a call that would go past it is refused with 401 OUT_OF_USAGE_CREDITS. */
  creditLimit?: number;
  /** How far ahead upcoming events are listed. Default 14 days. */
  horizonDays?: number;
  /** From kick-off until /scores reports the match completed. Default 2 h. */
  matchDurationMs?: number;
  /**
   * Relative amplitude of a deterministic wobble added to moving prices per 5-minute bucket (0.01 = ±1%), zero
   * at the pre-match capture and at kick-off. Default 0: prices move only linearly.
   */
  jitter?: number;
  /** Shuffle bookmaker and outcome order, as the real API does not promise one. Default true. */
  shuffle?: boolean;
  seed?: number;
}

export interface OddsApiStandin {
  /** Base URL to give the client, e.g. `http://127.0.0.1:40123`. */
  url: string;
  port: number;
  apiKey: string;
  events: readonly ReplayEvent[];
  fail(mode: FaultMode, count?: number, options?: { path?: string; retryAfter?: number }): void;
  state(): { faults: Fault[]; creditsUsed: number; creditLimit: number; requests: number; now: string };
  close(): Promise<void>;
}

const MARKETS = ['h2h', 'spreads', 'totals', 'outrights'];
const REGIONS = ['us', 'us2', 'uk', 'eu', 'au'];
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startOddsApiStandin(options: OddsApiStandinOptions = {}): Promise<OddsApiStandin> {
  const events =
    options.events ??
    [
      ...loadSeason({
        dataDir: options.dataDir ?? fileURLToPath(new URL('../../../data/football-data', import.meta.url)),
        season: options.season ?? '2324',
        divisions: options.divisions ?? DEFAULT_DIVISIONS,
      }),
      ...(options.nbaSeason
        ? loadNbaSeason({ dataDir: options.nbaDataDir ?? fileURLToPath(new URL('../../../data/nba', import.meta.url)), season: options.nbaSeason })
        : []),
    ].sort((a, b) => a.commenceTime.getTime() - b.commenceTime.getTime() || a.id.localeCompare(b.id));
  const apiKey = options.apiKey ?? 'standin-key';
  const injectedNow = options.now ?? (() => new Date());
  let clockOverride: number | null = null;
  const now = () => (clockOverride === null ? injectedNow() : new Date(clockOverride));
  const horizonMs = (options.horizonDays ?? 14) * 86_400_000;
  const matchDurationMs = options.matchDurationMs ?? 2 * 3_600_000;
  const shuffle = options.shuffle ?? true;
  const random = createPrng(options.seed ?? 1);
  const divisions = [...new Set(events.map((e) => e.division))];
  const sports = divisions.map(sportInfo);
  let creditLimit = options.creditLimit ?? 20_000;
  let creditsUsed = 0;
  let requests = 0;
  let faults: Fault[] = [];
  const hanging = new Set<ServerResponse>();

  const shuffled = <T>(items: T[]): T[] => {
    if (!shuffle) return items;
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  };

  const send = (res: ServerResponse, status: number, body: unknown, cost = 0, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      ...usageHeaders(cost),
      ...headers,
    });
    res.end(text);
  };
  const usageHeaders = (cost: number) => ({
    'x-requests-remaining': String(Math.max(0, creditLimit - creditsUsed)),
    'x-requests-used': String(creditsUsed),
    'x-requests-last': String(cost),
  });
  const errorBody = (code: string, message: string) => ({
    message,
    error_code: code,
    details_url: `https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html#${code.toLowerCase().replace(/_/g, '-')}`,
  });

  const sportByKey = (key: string) => {
    const sport = sports.find((s) => s.key === key);
    if (!sport) throw new ApiError(404, 'UNKNOWN_SPORT', `Unknown sport. Check the sport key: ${key}`);
    return sport;
  };

  const instantParam = (q: URLSearchParams, name: string, code: string): number | null => {
    const raw = q.get(name);
    if (raw === null) return null;
    if (!ISO_SECONDS.test(raw) || Number.isNaN(Date.parse(raw))) {
      throw new ApiError(422, code, `Invalid ${name} parameter. The expected format is YYYY-MM-DDTHH:MM:SSZ`);
    }
    return Date.parse(raw);
  };

  const dateOut = (d: Date, q: URLSearchParams) => {
    const format = q.get('dateFormat') ?? 'iso';
    if (format !== 'iso' && format !== 'unix') throw new ApiError(422, 'INVALID_DATE_FORMAT', 'Invalid dateFormat. Valid values are iso and unix');
    return format === 'unix' ? Math.floor(d.getTime() / 1000) : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  };

  /** Events before kick-off, within the listing horizon and the caller's window. */
  const upcoming = (sportKey: string, q: URLSearchParams): ReplayEvent[] => {
    const from = instantParam(q, 'commenceTimeFrom', 'INVALID_COMMENCE_TIME_FROM');
    const to = instantParam(q, 'commenceTimeTo', 'INVALID_COMMENCE_TIME_TO');
    const ids = q.get('eventIds')?.split(',').filter(Boolean);
    const t = now().getTime();
    return events.filter((e) => {
      const kickoff = e.commenceTime.getTime();
      return (
        e.sportKey === sportKey &&
        kickoff > t &&
        kickoff <= t + horizonMs &&
        (from === null || kickoff >= from) &&
        (to === null || kickoff <= to) &&
        (!ids || ids.includes(e.id))
      );
    });
  };

  const eventJson = (e: ReplayEvent, q: URLSearchParams) => ({
    id: e.id,
    sport_key: e.sportKey,
    sport_title: e.sportTitle,
    commence_time: dateOut(e.commenceTime, q),
    home_team: e.homeTeam,
    away_team: e.awayTeam,
  });

  const outcomeName = (e: ReplayEvent, outcome: OddsOutcome) =>
    ({ home: e.homeTeam, away: e.awayTeam, draw: 'Draw', over: 'Over', under: 'Under' })[outcome];

  const oddsJson = (e: ReplayEvent, q: URLSearchParams, markets: OddsMarket[], bookmakerFilter: (b: { key: string; regions: string[] }) => boolean) => {
    const t = now();
    const lastUpdate = dateOut(new Date(Math.floor(Math.min(t.getTime(), e.commenceTime.getTime()) / 60_000) * 60_000), q);
    const american = q.get('oddsFormat') === 'american';
    const bookmakers = e.bookmakers.filter(bookmakerFilter).flatMap((b) => {
      const quoted = markets.flatMap((market) => {
        const outcomes = quoteMarket(e, b, market, t, { jitter: options.jitter ?? 0 });
        if (!outcomes) return [];
        return [
          {
            key: market,
            last_update: lastUpdate,
            outcomes: shuffled(
              outcomes.map((o) => ({
                name: outcomeName(e, o.outcome),
                price: american ? decimalToAmerican(o.price) : o.price,
                ...(o.point === null ? {} : { point: o.point }),
              })),
            ),
          },
        ];
      });
      return quoted.length ? [{ key: b.key, title: b.title, last_update: lastUpdate, markets: quoted }] : [];
    });
    return { ...eventJson(e, q), bookmakers: shuffled(bookmakers) };
  };

  const charge = (cost: number) => {
    if (cost > 0 && creditsUsed + cost > creditLimit) {
      throw new ApiError(401, 'OUT_OF_USAGE_CREDITS', 'Usage quota has been reached. See usage plans at https://the-odds-api.com');
    }
    creditsUsed += cost;
    return cost;
  };

  /** The API's answer to a request: status, body and cost. */
  const route = (path: string, q: URLSearchParams): { body: unknown; cost: number } => {
    if (path === '/v4/sports' || path === '/v4/sports/') {
      const all = q.get('all') === 'true';
      const t = now().getTime();
      const body = sports
        .map((s) => ({
          key: s.key,
          group: s.group,
          title: s.title,
          description: s.description,
          active: events.some((e) => e.sportKey === s.key && e.commenceTime.getTime() + matchDurationMs > t && e.commenceTime.getTime() <= t + horizonMs),
          has_outrights: false,
        }))
        .filter((s) => all || s.active);
      return { body, cost: 0 };
    }
    const m = path.match(/^\/v4\/sports\/([^/]+)\/(events|odds|scores)\/?$/);
    if (!m) throw new ApiError(404, 'NOT_FOUND', `Not found: ${path}`);
    const sport = sportByKey(decodeURIComponent(m[1]!));
    if (m[2] === 'events') return { body: upcoming(sport.key, q).map((e) => eventJson(e, q)), cost: 0 };
    if (m[2] === 'odds') {
      const bookmakerKeys = q.get('bookmakers')?.split(',').filter(Boolean);
      const regions = q.get('regions')?.split(',').filter(Boolean);
      if (!bookmakerKeys?.length && !regions?.length) throw new ApiError(422, 'MISSING_REGION', 'Missing regions or bookmakers key');
      for (const r of regions ?? []) if (!REGIONS.includes(r)) throw new ApiError(422, 'INVALID_REGION', `Invalid region: ${r}`);
      const markets = (q.get('markets') ?? 'h2h').split(',').filter(Boolean);
      for (const mk of markets) if (!MARKETS.includes(mk)) throw new ApiError(422, 'INVALID_MARKET', `Invalid market: ${mk}`);
      const format = q.get('oddsFormat') ?? 'decimal';
      if (format !== 'decimal' && format !== 'american') throw new ApiError(422, 'INVALID_ODDS_FORMAT', 'Invalid oddsFormat. Valid values are decimal and american');
      const list = upcoming(sport.key, q);
      const regionCount = bookmakerKeys?.length ? Math.ceil(bookmakerKeys.length / 10) : regions!.length;
      const cost = list.length ? charge(new Set(markets).size * regionCount) : 0;
      const wanted = markets.filter((mk): mk is OddsMarket => mk !== 'outrights');
      const filter = bookmakerKeys?.length ? (b: { key: string }) => bookmakerKeys.includes(b.key) : (b: { regions: string[] }) => b.regions.some((r) => regions!.includes(r));
      return { body: list.map((e) => oddsJson(e, q, wanted, filter)), cost };
    }
    // scores: live and upcoming games, plus games completed within `daysFrom` days.
    const daysFromRaw = q.get('daysFrom');
    let daysFrom = 0;
    if (daysFromRaw !== null) {
      daysFrom = Number(daysFromRaw);
      if (!/^\d+$/.test(daysFromRaw) || daysFrom < 1 || daysFrom > 3) throw new ApiError(422, 'INVALID_SCORES_DAYS_FROM', 'Invalid daysFrom. Valid values are 1 to 3');
    }
    const ids = q.get('eventIds')?.split(',').filter(Boolean);
    const t = now().getTime();
    const list = events.filter((e) => {
      const kickoff = e.commenceTime.getTime();
      if (e.sportKey !== sport.key || (ids && !ids.includes(e.id))) return false;
      if (kickoff + matchDurationMs <= t) return daysFrom > 0 && kickoff >= t - daysFrom * 86_400_000;
      return kickoff <= t + horizonMs;
    });
    const cost = charge(daysFrom > 0 ? 2 : 1);
    const body = list.map((e) => {
      const kickoff = e.commenceTime.getTime();
      const completed = kickoff + matchDurationMs <= t && e.homeScore !== null;
      // In play, the half-time score is known from about an hour after kick-off; before that nothing is claimed.
      const halfTimeKnown = !completed && t >= kickoff + 60 * 60_000 && e.homeHalfTimeScore !== null;
      const [home, away] = completed ? [e.homeScore, e.awayScore] : halfTimeKnown ? [e.homeHalfTimeScore, e.awayHalfTimeScore] : [null, null];
      const scores = home === null || away === null ? null : [{ name: e.homeTeam, score: String(home) }, { name: e.awayTeam, score: String(away) }];
      const lastUpdateAt = completed ? kickoff + matchDurationMs : halfTimeKnown ? kickoff + 60 * 60_000 : null;
      return {
        ...eventJson(e, q),
        completed,
        scores: scores ? shuffled(scores) : null,
        last_update: lastUpdateAt === null ? null : dateOut(new Date(lastUpdateAt), q),
      };
    });
    return { body, cost };
  };

  const takeFault = (path: string): Fault | null => {
    const fault = faults.find((f) => f.remaining > 0 && (!f.path || path.includes(f.path)));
    if (!fault) return null;
    fault.remaining--;
    faults = faults.filter((f) => f.remaining > 0);
    return { ...fault };
  };

  const addFault = (mode: FaultMode, count = 1, extra: { path?: string; retryAfter?: number } = {}) => {
    faults.push({ mode, remaining: count, retryAfter: extra.retryAfter ?? 1, ...(extra.path ? { path: extra.path } : {}) });
  };

  const state = () => ({ faults: faults.map((f) => ({ ...f })), creditsUsed, creditLimit, requests, now: now().toISOString() });

  const control = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') return send(res, 200, state());
    if (req.method !== 'POST') return send(res, 405, { message: 'GET or POST' });
    let body: Record<string, unknown>;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return send(res, 400, { message: 'body is not JSON' });
    }
    if (body.reset) {
      faults = [];
      creditsUsed = 0;
    }
    if (typeof body.creditLimit === 'number') creditLimit = body.creditLimit;
    if (typeof body.creditsUsed === 'number') creditsUsed = body.creditsUsed;
    if (body.now === null) clockOverride = null;
    else if (body.now !== undefined) {
      const at = typeof body.now === 'string' ? Date.parse(body.now) : NaN;
      if (Number.isNaN(at)) return send(res, 400, { message: 'now must be an ISO 8601 instant or null' });
      clockOverride = at;
    }
    if (body.mode !== undefined) {
      const mode = FAULT_ALIASES[String(body.mode)] ?? String(body.mode);
      if (!(FAULT_MODES as readonly string[]).includes(mode)) return send(res, 400, { message: `mode must be one of ${FAULT_MODES.join(', ')}` });
      const count = body.count === undefined ? 1 : Number(body.count);
      if (!Number.isInteger(count) || count < 1) return send(res, 400, { message: 'count must be a whole number of at least 1' });
      addFault(mode as FaultMode, count, {
        ...(typeof body.path === 'string' ? { path: body.path } : {}),
        ...(typeof body.retryAfter === 'number' ? { retryAfter: body.retryAfter } : {}),
      });
    }
    return send(res, 200, state());
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    if (url.pathname === '/__control') return control(req, res);
    requests++;
    try {
      if (req.method !== 'GET') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'Only GET is supported');
      const key = url.searchParams.get('apiKey');
      if (!key) throw new ApiError(401, 'MISSING_KEY', 'API key is missing. Get an API key at https://the-odds-api.com');
      if (key !== apiKey) throw new ApiError(401, 'INVALID_KEY', 'API key is not valid. Get an API key at https://the-odds-api.com');
      const fault = takeFault(url.pathname);
      if (fault?.mode === 'timeout') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (fault?.mode === 'server_error') return send(res, 500, errorBody('INTERNAL_ERROR', 'Internal server error'));
      if (fault?.mode === 'rate_limit') {
        return send(res, 429, errorBody('EXCEEDED_FREQ_LIMIT', 'Requests are limited to 30 per second'), 0, { 'retry-after': String(fault.retryAfter) });
      }
      if (fault?.mode === 'out_of_credits') {
        throw new ApiError(401, 'OUT_OF_USAGE_CREDITS', 'Usage quota has been reached. See usage plans at https://the-odds-api.com');
      }
      const { body, cost } = route(url.pathname, url.searchParams);
      if (!fault) return send(res, 200, body, cost);
      if (fault.mode === 'malformed') return send(res, 200, JSON.stringify(body).slice(0, 40) + '<!-- upstream error -->', cost);
      if (fault.mode === 'truncated') {
        const text = JSON.stringify(body);
        const bytes = Buffer.from(text);
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(bytes.byteLength), ...usageHeaders(cost) });
        // Half the declared body, then the connection drops, as a proxy or a reset would leave it.
        res.write(bytes.subarray(0, Math.floor(bytes.byteLength / 2)), () => res.socket?.destroy());
        return;
      }
      return send(res, 200, corrupt(body, fault.mode), cost);
    } catch (error) {
      if (error instanceof ApiError) return send(res, error.status, errorBody(error.code, error.message));
      return send(res, 500, errorBody('INTERNAL_ERROR', (error as Error).message));
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    apiKey,
    events,
    fail: addFault,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.socket?.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Breaks the first bookmaker market of the first event, the way a provider bug would. */
function corrupt(body: unknown, mode: FaultMode): unknown {
  const copy = structuredClone(body) as Array<{ bookmakers?: Array<{ markets: Array<{ outcomes?: Array<{ name: string; price: number }> }> }> }>;
  const market = Array.isArray(copy) ? copy.find((e) => e.bookmakers?.length)?.bookmakers?.[0]?.markets[0] : undefined;
  if (!market) return body;
  if (mode === 'missing_outcomes') delete market.outcomes;
  if (mode === 'bad_price') market.outcomes![0]!.price = 0.42;
  if (mode === 'unknown_outcome') market.outcomes![0]!.name = 'Nobody FC';
  return copy;
}

