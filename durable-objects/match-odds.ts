import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../src/env';
import { bestPriceByOutcome } from '../src/services/ev';
import { removeMargin } from '../src/services/margin';

/**
 * One instance per match, named `match:<id>` (`matchOddsName`): the live odds state of the match and the
 * WebSocket fan-out to its live stream.
 *
 * - `applyOdds(rows, meta)` merges provider prices: the latest price per line (bookmaker, market, outcome,
 *   point), the opening price per line, and returns the lines whose price changed. Every change is pushed to
 *   the connected sockets.
 * - `state()` is the whole picture: lines, best price, margin-free consensus and movement since opening.
 * - `fetch()` accepts a WebSocket upgrade forwarded by the Worker's live route, after consuming the caller's
 *   single-use ticket (the Worker has already checked its signature, expiry and match).
 * - The alarm evicts everything (and closes the sockets) `EVICT_AFTER_MS` after kick-off.
 *
 * Sockets use the hibernation API, so an idle match with many listeners costs no duration. Nothing is held
 * in memory between calls: every read comes from SQLite, which is what survives hibernation.
 * See "Live odds state and stream" in docs/decisions.md.
 */

export type LiveMarket = 'h2h' | 'totals' | 'spreads';

export interface OddsRowInput {
  bookmaker: string;
  market: LiveMarket;
  outcome: string;
  /** The line for totals and spreads (spreads: the line of that side); null for h2h. */
  point: number | null;
  /** Decimal odds, finite and > 1. */
  price: number;
  /** ISO-8601 instant. */
  capturedAt: string;
}

export interface MatchMeta {
  matchId: number;
  /** Kick-off, ISO-8601. */
  startAt: string;
}

export interface LiveLine {
  bookmaker: string;
  market: LiveMarket;
  outcome: string;
  point: number | null;
  price: number;
  capturedAt: string;
  /** The price of the earliest capture seen for this line. */
  openingPrice: number;
  openingAt: string;
}

export interface BestLine {
  market: LiveMarket;
  point: number | null;
  outcome: string;
  price: number;
  bookmaker: string;
}

export interface ConsensusMarket {
  market: LiveMarket;
  /** The line; for spreads the home side's line (the away side of the same line carries the opposite sign). */
  point: number | null;
  method: 'multiplicative';
  /** Bookmakers quoting at least one outcome of this line. */
  bookmakers: number;
  /** Booksum of the median prices minus 1. */
  overround: number;
  outcomes: Array<{ outcome: string; medianPrice: number; probability: number }>;
}

export interface MovementSnapshot {
  /** Median of the bookmakers' prices. */
  consensusPrice: number;
  bestPrice: number;
  /** Margin-free probability of the consensus; null when the line's book is incomplete. */
  probability: number | null;
}

export interface Movement {
  market: LiveMarket;
  /** As in ConsensusMarket: spreads use the home side's line. */
  point: number | null;
  outcome: string;
  opening: MovementSnapshot;
  current: MovementSnapshot;
  /** current − opening, field by field (probability null when either side is null). */
  change: MovementSnapshot;
}

export interface Summary {
  best: BestLine[];
  consensus: ConsensusMarket[];
  movement: Movement[];
}

export interface LiveState extends Summary {
  matchId: number | null;
  startAt: string | null;
  /** The newest capturedAt of any line; null before the first price. */
  updatedAt: string | null;
  lines: LiveLine[];
}

export interface ApplyResult {
  /** Lines that are new or whose price changed (a newer capture at the same price is stored but not a change). */
  changed: LiveLine[];
  /** Rows older than the price held for their line (or equal to it). */
  ignored: number;
}

export type StateMessage = { type: 'state' } & LiveState;
export type UpdateMessage = { type: 'update'; matchId: number | null; updatedAt: string | null; changed: LiveLine[] } & Summary;
export type EndMessage = { type: 'end'; reason: string };

/** The state is evicted this long after kick-off: a football match with stoppages and extra time is over. */
export const EVICT_AFTER_MS = 3 * 60 * 60 * 1000;
/** Without a kick-off time, the state is evicted after this long without a change. */
export const IDLE_EVICT_MS = 24 * 60 * 60 * 1000;
/** Headers the Worker's live route sets on the upgrade request it forwards here. */
/**
 * Live sockets one user may hold on one match. Tickets are cheap to get (one request each), so without a cap
 * a premium user could hold hundreds of sockets, each a share of this single-threaded object's fan-out.
 */
export const LIVE_SOCKETS_PER_USER = 3;
/**
 * {"type":"state"} requests a socket may send per window. Each recomputes the whole state in this one-threaded
 * object; past the budget a request gets an error instead, and past twice the budget the socket is closed (1008).
 */
export const LIVE_STATE_REQUESTS_PER_WINDOW = 5;
export const LIVE_STATE_WINDOW_MS = 10_000;

interface SocketAttachment {
  userId: string | null;
  connectedAt: number;
  /** When this socket's recent messages arrived (ms), within the last LIVE_STATE_WINDOW_MS. */
  recent?: number[];
}

export const TICKET_ID_HEADER = 'x-live-ticket-id';
export const TICKET_EXPIRES_HEADER = 'x-live-ticket-expires';
export const TICKET_USER_HEADER = 'x-live-user';

export const matchOddsName = (matchId: number) => `match:${matchId}`;

/** The MatchOdds object of one match in a namespace (a traced one keeps its calls traced). */
export const matchOddsStub = (namespace: DurableObjectNamespace<MatchOdds>, matchId: number) =>
  namespace.get(namespace.idFromName(matchOddsName(matchId)));

/** The outcomes that make a complete book, per market; other outcome names are refused. */
export const MARKET_OUTCOMES: Record<LiveMarket, readonly string[]> = {
  h2h: ['home', 'draw', 'away'],
  totals: ['over', 'under'],
  spreads: ['home', 'away'],
};

const MAX_ROWS = 10_000;
const MAX_NAME_LENGTH = 64;

interface ValidRow {
  bookmaker: string;
  market: LiveMarket;
  outcome: string;
  point: number | null;
  /** '' for null, else the number's shortest string: the primary key cannot hold NULL. */
  pointKey: string;
  price: number;
  capturedMs: number;
}

type LineRow = {
  bookmaker: string;
  market: LiveMarket;
  outcome: string;
  point: number | null;
  price: number;
  captured_ms: number;
  opening_price: number;
  opening_ms: number;
};

const iso = (ms: number) => new Date(ms).toISOString();

// The Worker (ingestion) is the only caller and validates provider payloads first, so bad input is our own
// bug: fail loudly instead of storing a NaN that every listener would then receive.
function validateRow(row: unknown, index: number): ValidRow {
  const fail = (what: string): never => {
    throw new TypeError(`MatchOdds: rows[${index}]: ${what}`);
  };
  if (typeof row !== 'object' || row === null) fail('must be an object');
  const r = row as Record<string, unknown>;
  const { bookmaker, market, outcome, point, price, capturedAt } = r;
  if (typeof bookmaker !== 'string' || bookmaker.length === 0 || bookmaker.length > MAX_NAME_LENGTH) fail('bookmaker must be a non-empty string');
  if (typeof market !== 'string' || !(market in MARKET_OUTCOMES)) fail(`market must be one of ${Object.keys(MARKET_OUTCOMES).join(', ')}`);
  const m = market as LiveMarket;
  if (typeof outcome !== 'string' || !MARKET_OUTCOMES[m].includes(outcome)) fail(`outcome of ${m} must be one of ${MARKET_OUTCOMES[m].join(', ')}`);
  if (m === 'h2h' ? point !== null : !(typeof point === 'number' && Number.isFinite(point))) {
    fail(m === 'h2h' ? 'point must be null for h2h' : `point must be a finite number for ${m}`);
  }
  if (!(typeof price === 'number' && price > 1 && price < Infinity)) fail('price must be finite decimal odds > 1');
  const capturedMs = typeof capturedAt === 'string' ? Date.parse(capturedAt) : NaN;
  if (!Number.isFinite(capturedMs)) fail('capturedAt must be an ISO-8601 instant');
  const p = point as number | null;
  // -0 and 0 are one line.
  const normalisedPoint = p === null ? null : p === 0 ? 0 : p;
  return {
    bookmaker: bookmaker as string,
    market: m,
    outcome: outcome as string,
    point: normalisedPoint,
    pointKey: normalisedPoint === null ? '' : String(normalisedPoint),
    price: price as number,
    capturedMs,
  };
}

function validateMeta(meta: unknown): MatchMeta & { startMs: number } {
  if (typeof meta !== 'object' || meta === null) throw new TypeError('MatchOdds: meta must be an object');
  const { matchId, startAt } = meta as Record<string, unknown>;
  if (typeof matchId !== 'number' || !Number.isSafeInteger(matchId) || matchId < 1) throw new TypeError('MatchOdds: meta.matchId must be a positive integer');
  const startMs = typeof startAt === 'string' ? Date.parse(startAt) : NaN;
  if (!Number.isFinite(startMs)) throw new TypeError('MatchOdds: meta.startAt must be an ISO-8601 instant');
  return { matchId, startAt: iso(startMs), startMs };
}

/** The median of a non-empty list; for an even count, the mean of the middle two. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The line a quote belongs to for consensus and movement: spreads pair home −x with away +x. */
const bookPoint = (market: LiveMarket, outcome: string, point: number | null): number | null =>
  market === 'spreads' && outcome === 'away' && point !== null ? (point === 0 ? 0 : -point) : point;

interface Quote {
  bookmaker: string;
  market: LiveMarket;
  outcome: string;
  point: number | null;
  price: number;
}

interface BookSummary {
  market: LiveMarket;
  point: number | null;
  bookmakers: number;
  /** Per outcome (in MARKET_OUTCOMES order, only the quoted ones): median and best price. */
  outcomes: Map<string, { median: number; best: number; bestBookmaker: string }>;
  /** Complete books only. */
  margin?: { overround: number; probabilities: Map<string, number> };
}

const groupKey = (market: string, point: number | null) => `${market}|${point === null ? '' : point}`;

/** Summarises quotes per (market, line): median and best price per outcome, and the margin-free consensus. */
function summarise(quotes: readonly Quote[]): Map<string, BookSummary> {
  const groups = new Map<string, { market: LiveMarket; point: number | null; quotes: Quote[] }>();
  for (const q of quotes) {
    const point = bookPoint(q.market, q.outcome, q.point);
    const key = groupKey(q.market, point);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { market: q.market, point, quotes: [] }));
    group.quotes.push(q);
  }
  const summaries = new Map<string, BookSummary>();
  for (const [key, group] of groups) {
    const best = bestPriceByOutcome(group.quotes);
    const outcomes = new Map<string, { median: number; best: number; bestBookmaker: string }>();
    for (const outcome of MARKET_OUTCOMES[group.market]) {
      const prices = group.quotes.filter((q) => q.outcome === outcome).map((q) => q.price);
      const top = best[outcome];
      if (prices.length > 0 && top) outcomes.set(outcome, { median: median(prices), best: top.price, bestBookmaker: top.bookmaker });
    }
    const summary: BookSummary = {
      market: group.market,
      point: group.point,
      bookmakers: new Set(group.quotes.map((q) => q.bookmaker)).size,
      outcomes,
    };
    const expected = MARKET_OUTCOMES[group.market];
    if (expected.every((o) => outcomes.has(o))) {
      const removal = removeMargin(
        expected.map((o) => outcomes.get(o)!.median),
        'multiplicative',
      );
      summary.margin = {
        overround: removal.overround,
        probabilities: new Map(expected.map((o, i) => [o, removal.probabilities[i]!])),
      };
    }
    summaries.set(key, summary);
  }
  return summaries;
}

const MARKET_ORDER: Record<LiveMarket, number> = { h2h: 0, totals: 1, spreads: 2 };
const byLine = (a: { market: LiveMarket; point: number | null }, b: { market: LiveMarket; point: number | null }) =>
  MARKET_ORDER[a.market] - MARKET_ORDER[b.market] || (a.point ?? -Infinity) - (b.point ?? -Infinity);

export class MatchOdds extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.createTables();
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  private createTables(): void {
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS mo_lines (
         bookmaker TEXT NOT NULL, market TEXT NOT NULL, outcome TEXT NOT NULL, point_key TEXT NOT NULL,
         point REAL, price REAL NOT NULL, captured_ms INTEGER NOT NULL,
         opening_price REAL NOT NULL, opening_ms INTEGER NOT NULL,
         PRIMARY KEY (bookmaker, market, outcome, point_key)) WITHOUT ROWID`,
    );
    this.sql.exec(
      'CREATE TABLE IF NOT EXISTS mo_meta (id INTEGER PRIMARY KEY CHECK (id = 0), match_id INTEGER, start_ms INTEGER, touched_ms INTEGER NOT NULL)',
    );
    this.sql.exec('CREATE TABLE IF NOT EXISTS mo_tickets (id TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL) WITHOUT ROWID');
  }

  /**
   * Merges prices. Per line, a row replaces the held one when its capture is newer, or equally new with a
   * higher price: a total order, so the result does not depend on the order rows arrive in, and applying the
   * same rows again changes nothing. The opening price is the earliest capture seen, so a late-arriving older
   * row can still correct it (without touching the latest price). Runs synchronously up to the broadcast, so
   * concurrent calls cannot interleave.
   */
  async applyOdds(rows: OddsRowInput[], meta?: MatchMeta): Promise<ApplyResult> {
    if (!Array.isArray(rows)) throw new TypeError('MatchOdds: rows must be an array');
    if (rows.length > MAX_ROWS) throw new TypeError(`MatchOdds: at most ${MAX_ROWS} rows per call`);
    const valid = rows.map(validateRow);
    const validMeta = meta === undefined ? undefined : validateMeta(meta);

    let ignored = 0;
    let openingMoved = false;
    const changedKeys = new Set<string>();
    const changed: LiveLine[] = [];
    for (const row of valid) {
      const held = this.sql
        .exec<{ price: number; captured_ms: number; opening_price: number; opening_ms: number }>(
          'SELECT price, captured_ms, opening_price, opening_ms FROM mo_lines WHERE bookmaker = ? AND market = ? AND outcome = ? AND point_key = ?',
          row.bookmaker,
          row.market,
          row.outcome,
          row.pointKey,
        )
        .toArray()[0];
      if (!held) {
        this.sql.exec(
          'INSERT INTO mo_lines (bookmaker, market, outcome, point_key, point, price, captured_ms, opening_price, opening_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          row.bookmaker,
          row.market,
          row.outcome,
          row.pointKey,
          row.point,
          row.price,
          row.capturedMs,
          row.price,
          row.capturedMs,
        );
        changedKeys.add(`${row.bookmaker}|${row.market}|${row.outcome}|${row.pointKey}`);
        continue;
      }
      const opensEarlier = row.capturedMs < held.opening_ms || (row.capturedMs === held.opening_ms && row.price > held.opening_price);
      if (opensEarlier) {
        this.sql.exec(
          'UPDATE mo_lines SET opening_price = ?, opening_ms = ? WHERE bookmaker = ? AND market = ? AND outcome = ? AND point_key = ?',
          row.price,
          row.capturedMs,
          row.bookmaker,
          row.market,
          row.outcome,
          row.pointKey,
        );
        openingMoved = true;
      }
      // Only a later capture replaces the price: a stamp the provider reuses with another price keeps its first
      // one, as odds_snapshots does (its natural key includes the stamp, and the insert does nothing on a conflict).
      // Both see the rows in the same order (the job writes Postgres, then sends the same rows here), so the live
      // state and the record agree, and the Worker never anchors on a price the record does not hold.
      const newer = row.capturedMs > held.captured_ms;
      if (!newer) {
        ignored++;
        continue;
      }
      this.sql.exec(
        'UPDATE mo_lines SET price = ?, captured_ms = ? WHERE bookmaker = ? AND market = ? AND outcome = ? AND point_key = ?',
        row.price,
        row.capturedMs,
        row.bookmaker,
        row.market,
        row.outcome,
        row.pointKey,
      );
      if (row.price !== held.price) changedKeys.add(`${row.bookmaker}|${row.market}|${row.outcome}|${row.pointKey}`);
    }

    const metaBefore = this.meta();
    const startMs = validMeta?.startMs ?? metaBefore?.start_ms ?? null;
    const matchId = validMeta?.matchId ?? metaBefore?.match_id ?? null;
    const anything = changedKeys.size > 0 || openingMoved;
    this.sql.exec(
      `INSERT INTO mo_meta (id, match_id, start_ms, touched_ms) VALUES (0, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET match_id = excluded.match_id, start_ms = excluded.start_ms,
         touched_ms = CASE WHEN ? THEN excluded.touched_ms ELSE touched_ms END`,
      matchId,
      startMs,
      Date.now(),
      anything ? 1 : 0,
    );

    if (changedKeys.size > 0) {
      for (const line of this.lines()) {
        if (changedKeys.has(`${line.bookmaker}|${line.market}|${line.outcome}|${line.point === null ? '' : String(line.point)}`)) changed.push(line);
      }
    }
    if (anything) {
      const state = this.state();
      const message: UpdateMessage = {
        type: 'update',
        matchId: state.matchId,
        updatedAt: state.updatedAt,
        changed,
        best: state.best,
        consensus: state.consensus,
        movement: state.movement,
      };
      this.broadcast(JSON.stringify(message));
    }
    if (anything || (validMeta && validMeta.startMs !== metaBefore?.start_ms)) await this.scheduleEviction();
    return { changed, ignored };
  }

  /** The whole live picture of the match. */
  state(): LiveState {
    const meta = this.meta();
    const lines = this.lines();
    const current = summarise(lines);
    const opening = summarise(lines.map((l) => ({ ...l, price: l.openingPrice })));

    const best: BestLine[] = [];
    const byExactLine = new Map<string, LiveLine[]>();
    for (const line of lines) {
      const key = groupKey(line.market, line.point);
      const group = byExactLine.get(key);
      if (group) group.push(line);
      else byExactLine.set(key, [line]);
    }
    for (const group of byExactLine.values()) {
      const { market, point } = group[0]!;
      for (const [outcome, top] of Object.entries(bestPriceByOutcome(group))) {
        if (top) best.push({ market, point, outcome, price: top.price, bookmaker: top.bookmaker });
      }
    }
    best.sort((a, b) => byLine(a, b) || MARKET_OUTCOMES[a.market].indexOf(a.outcome) - MARKET_OUTCOMES[b.market].indexOf(b.outcome));

    const consensus: ConsensusMarket[] = [];
    const movement: Movement[] = [];
    for (const [key, now] of [...current].sort(([, a], [, b]) => byLine(a, b))) {
      if (now.margin) {
        consensus.push({
          market: now.market,
          point: now.point,
          method: 'multiplicative',
          bookmakers: now.bookmakers,
          overround: now.margin.overround,
          outcomes: [...now.outcomes].map(([outcome, o]) => ({ outcome, medianPrice: o.median, probability: now.margin!.probabilities.get(outcome)! })),
        });
      }
      const then = opening.get(key)!;
      for (const [outcome, o] of now.outcomes) {
        const open = then.outcomes.get(outcome)!;
        const currentSnap: MovementSnapshot = { consensusPrice: o.median, bestPrice: o.best, probability: now.margin?.probabilities.get(outcome) ?? null };
        const openingSnap: MovementSnapshot = { consensusPrice: open.median, bestPrice: open.best, probability: then.margin?.probabilities.get(outcome) ?? null };
        movement.push({
          market: now.market,
          point: now.point,
          outcome,
          opening: openingSnap,
          current: currentSnap,
          change: {
            consensusPrice: currentSnap.consensusPrice - openingSnap.consensusPrice,
            bestPrice: currentSnap.bestPrice - openingSnap.bestPrice,
            probability: currentSnap.probability !== null && openingSnap.probability !== null ? currentSnap.probability - openingSnap.probability : null,
          },
        });
      }
    }

    const newest = lines.reduce<string | null>((max, l) => (max === null || l.capturedAt > max ? l.capturedAt : max), null);
    return {
      matchId: meta?.match_id ?? null,
      startAt: meta?.start_ms === null || meta?.start_ms === undefined ? null : iso(meta.start_ms),
      updatedAt: newest,
      lines,
      best,
      consensus,
      movement,
    };
  }

  /**
   * The live route's upgrade, forwarded by the Worker with the ticket it verified. The ticket is consumed
   * here, synchronously, so two connections racing with one ticket cannot both get in.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return refusal(400, 'Expected a WebSocket upgrade');
    const ticketId = request.headers.get(TICKET_ID_HEADER);
    const expiresMs = Number(request.headers.get(TICKET_EXPIRES_HEADER));
    if (!ticketId || !Number.isSafeInteger(expiresMs)) return refusal(401, 'The ticket is missing');
    const now = Date.now();
    if (expiresMs <= now) return refusal(401, 'The ticket has expired');
    const userId = request.headers.get(TICKET_USER_HEADER) ?? 'unknown';
    // Before the ticket is consumed, so a refused upgrade leaves it usable once a socket closes.
    if (this.ctx.getWebSockets(`user:${userId}`).length >= LIVE_SOCKETS_PER_USER) {
      return refusal(429, `At most ${LIVE_SOCKETS_PER_USER} live connections per user and match; close one first`);
    }
    this.sql.exec('DELETE FROM mo_tickets WHERE expires_ms <= ?', now);
    if (this.sql.exec('SELECT 1 FROM mo_tickets WHERE id = ?', ticketId).toArray().length > 0) {
      return refusal(401, 'The ticket has already been used');
    }
    this.sql.exec('INSERT INTO mo_tickets (id, expires_ms) VALUES (?, ?)', ticketId, expiresMs);

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [`user:${userId}`]);
    server.serializeAttachment({ userId: request.headers.get(TICKET_USER_HEADER), connectedAt: now } satisfies SocketAttachment);
    const message: StateMessage = { type: 'state', ...this.state() };
    server.send(JSON.stringify(message));
    // A ticket row must not outlive its match's state; without odds yet there is no eviction alarm.
    if ((await this.ctx.storage.getAlarm()) === null) await this.scheduleEviction();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Clients may ask for the full state again with {"type":"state"}; "ping" is answered by the runtime. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const attachment = (ws.deserializeAttachment() ?? { userId: null, connectedAt: 0 }) as SocketAttachment;
    const now = Date.now();
    const recent = (attachment.recent ?? []).filter((at) => at > now - LIVE_STATE_WINDOW_MS);
    recent.push(now);
    if (recent.length > 2 * LIVE_STATE_REQUESTS_PER_WINDOW) {
      ws.close(1008, 'too many messages');
      return;
    }
    ws.serializeAttachment({ ...attachment, recent } satisfies SocketAttachment);
    if (recent.length > LIVE_STATE_REQUESTS_PER_WINDOW) {
      ws.send(JSON.stringify({ type: 'error', detail: `At most ${LIVE_STATE_REQUESTS_PER_WINDOW} messages per ${LIVE_STATE_WINDOW_MS / 1000} s; updates keep coming without asking` }));
      return;
    }
    let type: unknown;
    try {
      type = typeof message === 'string' ? (JSON.parse(message) as { type?: unknown })?.type : undefined;
    } catch {
      type = undefined;
    }
    if (type === 'state') {
      const reply: StateMessage = { type: 'state', ...this.state() };
      ws.send(JSON.stringify(reply));
    } else {
      ws.send(JSON.stringify({ type: 'error', detail: 'Send {"type":"state"} for the full state, or "ping"' }));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // 1005/1006 are reserved and may not be sent back.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed (the runtime may have answered the close frame itself).
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    try {
      ws.close(1011, 'error');
    } catch {
      // Already closed.
    }
  }

  /**
   * Closes every socket of one user (1008): their tier no longer includes the stream, or the account is gone.
   * Returns how many were closed.
   */
  disconnectUser(userId: string, reason: string): number {
    const sockets = this.ctx.getWebSockets(`user:${userId}`);
    for (const ws of sockets) {
      try {
        ws.send(JSON.stringify({ type: 'end', reason } satisfies EndMessage));
        ws.close(1008, reason.slice(0, 120));
      } catch {
        // Already closing.
      }
    }
    return sockets.length;
  }

  /** The match is over: tell the listeners, close their sockets and forget everything. */
  override async alarm(): Promise<void> {
    const end: EndMessage = { type: 'end', reason: 'The match is over; its live odds have been evicted' };
    const text = JSON.stringify(end);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
        ws.close(1000, 'match over');
      } catch {
        // A socket that is already closing needs nothing more.
      }
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll drops the tables with the rows; the object may be called again (odds for a rescheduled match).
    this.createTables();
  }

  private meta() {
    return this.sql
      .exec<{ match_id: number | null; start_ms: number | null; touched_ms: number }>('SELECT match_id, start_ms, touched_ms FROM mo_meta')
      .toArray()[0];
  }

  private lines(): LiveLine[] {
    return this.sql
      .exec<LineRow>(
        `SELECT bookmaker, market, outcome, point, price, captured_ms, opening_price, opening_ms FROM mo_lines
         ORDER BY CASE market WHEN 'h2h' THEN 0 WHEN 'totals' THEN 1 ELSE 2 END, point, bookmaker, outcome`,
      )
      .toArray()
      .map((r) => ({
        bookmaker: r.bookmaker,
        market: r.market,
        outcome: r.outcome,
        point: r.point,
        price: r.price,
        capturedAt: iso(r.captured_ms),
        openingPrice: r.opening_price,
        openingAt: iso(r.opening_ms),
      }));
  }

  private broadcast(text: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        // A socket that closed between getWebSockets() and send(); the close handler cleans it up.
      }
    }
  }

  /**
   * One alarm, always at the eviction time: kick-off + EVICT_AFTER_MS when the kick-off is known, else
   * IDLE_EVICT_MS after the last change. Because it is re-armed whenever that time moves, a firing alarm is
   * always the current eviction, and alarm() need not compare clocks.
   */
  private async scheduleEviction(): Promise<void> {
    const meta = this.meta();
    const at = meta?.start_ms != null ? meta.start_ms + EVICT_AFTER_MS : (meta?.touched_ms ?? Date.now()) + IDLE_EVICT_MS;
    await this.ctx.storage.setAlarm(at);
  }
}

function refusal(status: 400 | 401 | 429, reason: string): Response {
  return new Response(JSON.stringify({ reason }), { status, headers: { 'content-type': 'application/json' } });
}
