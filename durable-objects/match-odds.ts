import { DurableObject } from 'cloudflare:workers';
import type { Refusal } from '../src/lib/errors';
import { asH2hOutcomes, H2H_THREE_WAY, MARKET_OUTCOMES, summariseLines, type H2hOutcomes, type LiveLine, type LiveMarket, type OddsRowInput, type Summary } from '../src/domain/odds';

export type { AggregateLine, BestLine, ConsensusMarket, LiveLine, LiveMarket, Movement, MovementSnapshot, OddsRowInput, Summary } from '../src/domain/odds';
export { MARKET_OUTCOMES } from '../src/domain/odds';

/**
 * One instance per match, named `match:<id>` (`matchOddsName`): the live odds state of the match and the
 * WebSocket fan-out to its live stream.
 *
 * - `applyOdds(rows, meta)` merges provider prices: the latest price per line (bookmaker, market, outcome,
 *   point), the opening price per line, and returns the lines whose price changed and the state it stored. Every
 *   change is pushed to the connected sockets; the odds job publishes the state to KV, where prediction misses read
 *   it (src/services/predictions/cache.ts). `meta` is the match, its kick-off and its sport's h2h outcomes (a 2-way moneyline's
 *   book is complete without a draw); it is kept with the lines.
 * - `state()` is the whole picture: lines and their summary (src/domain/odds/live.ts: best price, margin-free
 *   consensus, movement since opening, the market list's aggregates), made once per change.
 * - `fetch()` accepts a WebSocket upgrade forwarded by the Worker's live route, after consuming the caller's
 *   single-use ticket (the Worker has already checked its signature, expiry and match).
 * - The alarm evicts everything (and closes the sockets) `EVICT_AFTER_MS` after kick-off.
 *
 * Sockets use the hibernation API, so an idle match with many listeners costs no duration. SQLite holds
 * everything, which is what survives hibernation: the lines, and beside them the state they summarise to, which
 * applyOdds stores with every write that changes it. The one thing kept in memory is that state: a prediction miss
 * that finds no published copy and every socket's state request read it. A woken object parses the stored one on
 * its first state().
 * See "Live odds state and stream" in docs/decisions.md.
 */

export interface MatchMeta {
  matchId: number;
  /** Kick-off, ISO-8601. */
  startAt: string;
  /**
   * The h2h outcomes of a complete book in the match's sport (`h2hOutcomesOf`, src/domain/sports/catalog.ts):
   * `['home', 'away']` for a moneyline without a draw. Kept with the match until the next meta that names it;
   * never named (objects from before, callers that do not know the sport): football's 3-way.
   */
  h2hOutcomes?: H2hOutcomes;
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
  /**
   * The state this call stored: present when it wrote a line or moved the match's meta, absent when it left the
   * stored state as it was. The odds job publishes it to KV, where a prediction miss reads it (cache.ts).
   */
  state?: LiveState;
}

// The stream carries what its OpenAPI description lists; the market list's aggregates are for the Worker.
export type StateMessage = { type: 'state' } & Omit<LiveState, 'aggregates'>;
export type UpdateMessage = { type: 'update'; matchId: number | null; updatedAt: string | null; changed: LiveLine[] } & Omit<Summary, 'aggregates'>;
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
 * {"type":"state"} requests a socket may send per window. Each sends the whole state from this one-threaded
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
  const { matchId, startAt, h2hOutcomes } = meta as Record<string, unknown>;
  if (typeof matchId !== 'number' || !Number.isSafeInteger(matchId) || matchId < 1) throw new TypeError('MatchOdds: meta.matchId must be a positive integer');
  const startMs = typeof startAt === 'string' ? Date.parse(startAt) : NaN;
  if (!Number.isFinite(startMs)) throw new TypeError('MatchOdds: meta.startAt must be an ISO-8601 instant');
  if (h2hOutcomes === undefined) return { matchId, startAt: iso(startMs), startMs };
  const outcomes = asH2hOutcomes(h2hOutcomes);
  if (!outcomes) throw new TypeError('MatchOdds: meta.h2hOutcomes must be ["home", "draw", "away"] or ["home", "away"]');
  return { matchId, startAt: iso(startMs), startMs, h2hOutcomes: outcomes };
}

// The object reads none of the Worker's bindings, so it takes the ambient Env: importing src/env.ts would make
// env.ts (which names this class) and the object import each other.
type ObjectEnv = Cloudflare.Env;

export class MatchOdds extends DurableObject<ObjectEnv> {
  private readonly sql: SqlStorage;
  /**
   * The tables are made with the object's first write (odds, or a live ticket), not when it wakes: a read of an
   * object that holds nothing (a match no book quotes yet) then writes nothing, so it leaves no object behind.
   */
  private tables = false;
  /**
   * state() as last read or made; every write that can change it (applyOdds, the eviction) drops it first, and
   * applyOdds makes it again and stores it (`mo_meta.state_json`), so an object woken from storage parses one
   * row instead of reading and summarising every line.
   */
  private current: LiveState | undefined;

  constructor(ctx: DurableObjectState, env: ObjectEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Waking is one statement: whether the tables exist, and whether they are this version's. Only an object
    // stored by an earlier version runs the DDL (createTables) again; re-running it on every wake was five
    // statements before the first read.
    const [schema] = this.sql
      .exec<{ tables: number; current: number }>(
        `SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('mo_lines', 'mo_meta', 'mo_tickets')) AS tables,
                (SELECT count(*) FROM pragma_table_info('mo_meta') WHERE name IN ('h2h_outcomes', 'state_json')) AS current`,
      )
      .toArray();
    if (schema!.tables === 3 && schema!.current === 2) this.tables = true;
    else if (schema!.tables > 0) this.createTables();
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  /** Idempotent: also brings an object stored by an earlier version up to date. */
  private createTables(): void {
    this.tables = true;
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
    // Added with sport-aware h2h books: an object stored before has the table without it. NULL (never named)
    // is football's 3-way, which is what those objects summarised with.
    const columns = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('mo_meta')").toArray();
    if (!columns.some((c) => c.name === 'h2h_outcomes')) this.sql.exec('ALTER TABLE mo_meta ADD COLUMN h2h_outcomes TEXT');
    // Added with the stored state: NULL until the next applyOdds, and state() summarises the lines meanwhile.
    if (!columns.some((c) => c.name === 'state_json')) this.sql.exec('ALTER TABLE mo_meta ADD COLUMN state_json TEXT');
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
    if (!this.tables) this.createTables();
    // Before the first write: nothing can read the held state between here and the broadcast (no await).
    this.current = undefined;

    let ignored = 0;
    let written = 0;
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
        written++;
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
        written++;
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
      written++;
      if (row.price !== held.price) changedKeys.add(`${row.bookmaker}|${row.market}|${row.outcome}|${row.pointKey}`);
    }

    const metaBefore = this.meta();
    const startMs = validMeta?.startMs ?? metaBefore?.start_ms ?? null;
    const matchId = validMeta?.matchId ?? metaBefore?.match_id ?? null;
    const h2hOutcomes = validMeta?.h2hOutcomes?.join(',') ?? metaBefore?.h2h_outcomes ?? null;
    // Another h2h book (NULL and 3-way are the same one) re-forms the h2h consensus: the listeners get it.
    const h2hChanged = metaBefore !== undefined && this.h2hOutcomes(h2hOutcomes) !== this.h2hOutcomes(metaBefore.h2h_outcomes);
    const anything = changedKeys.size > 0 || openingMoved || h2hChanged;
    this.sql.exec(
      `INSERT INTO mo_meta (id, match_id, start_ms, touched_ms, h2h_outcomes) VALUES (0, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET match_id = excluded.match_id, start_ms = excluded.start_ms,
         h2h_outcomes = excluded.h2h_outcomes, touched_ms = CASE WHEN ? THEN excluded.touched_ms ELSE touched_ms END`,
      matchId,
      startMs,
      Date.now(),
      h2hOutcomes,
      anything ? 1 : 0,
    );
    // The state these writes leave, held and stored with them (still no await: nothing reads in between). A call
    // that wrote no line and moved none of the state's meta (a poll that brought nothing new) leaves the stored
    // state as it is, and makes none.
    const metaMoved = metaBefore === undefined || matchId !== metaBefore.match_id || startMs !== metaBefore.start_ms || h2hOutcomes !== metaBefore.h2h_outcomes;
    let stored: LiveState | undefined;
    if (written > 0 || metaMoved) {
      stored = this.current = this.readState();
      this.sql.exec('UPDATE mo_meta SET state_json = ? WHERE id = 0', JSON.stringify(stored));
    }

    if (changedKeys.size > 0) {
      for (const line of this.state().lines) {
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
    return stored ? { changed, ignored, state: stored } : { changed, ignored };
  }

  /** The whole live picture of the match: held since the last change, else as stored with it, else summarised now. */
  state(): LiveState {
    return (this.current ??= this.storedState() ?? this.readState());
  }

  /** The state applyOdds stored with its last write; undefined for an object that holds nothing, or none yet. */
  private storedState(): LiveState | undefined {
    if (!this.tables) return undefined;
    const stored = this.sql.exec<{ state_json: string | null }>('SELECT state_json FROM mo_meta').toArray()[0]?.state_json;
    return stored ? (JSON.parse(stored) as LiveState) : undefined;
  }

  private readState(): LiveState {
    const meta = this.meta();
    const lines = this.lines();
    const newest = lines.reduce<string | null>((max, l) => (max === null || l.capturedAt > max ? l.capturedAt : max), null);
    return {
      matchId: meta?.match_id ?? null,
      startAt: meta?.start_ms === null || meta?.start_ms === undefined ? null : iso(meta.start_ms),
      updatedAt: newest,
      lines,
      ...summariseLines(lines, this.h2hOutcomes(meta?.h2h_outcomes ?? null)),
    };
  }

  /**
   * The live route's upgrade, forwarded by the Worker with the ticket it verified. The ticket is consumed
   * here, synchronously, so two connections racing with one ticket cannot both get in.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return refusal('invalid', 'Expected a WebSocket upgrade');
    const ticketId = request.headers.get(TICKET_ID_HEADER);
    const expiresMs = Number(request.headers.get(TICKET_EXPIRES_HEADER));
    if (!ticketId || !Number.isSafeInteger(expiresMs)) return refusal('unauthorized', 'The ticket is missing');
    const now = Date.now();
    if (expiresMs <= now) return refusal('unauthorized', 'The ticket has expired');
    const userId = request.headers.get(TICKET_USER_HEADER) ?? 'unknown';
    // Before the ticket is consumed, so a refused upgrade leaves it usable once a socket closes.
    if (this.ctx.getWebSockets(`user:${userId}`).length >= LIVE_SOCKETS_PER_USER) {
      return refusal('rate-limited', `At most ${LIVE_SOCKETS_PER_USER} live connections per user and match; close one first`);
    }
    if (!this.tables) this.createTables();
    this.sql.exec('DELETE FROM mo_tickets WHERE expires_ms <= ?', now);
    if (this.sql.exec('SELECT 1 FROM mo_tickets WHERE id = ?', ticketId).toArray().length > 0) {
      return refusal('unauthorized', 'The ticket has already been used');
    }
    this.sql.exec('INSERT INTO mo_tickets (id, expires_ms) VALUES (?, ?)', ticketId, expiresMs);

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [`user:${userId}`]);
    server.serializeAttachment({ userId: request.headers.get(TICKET_USER_HEADER), connectedAt: now } satisfies SocketAttachment);
    const message = this.stateMessage();
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
      const reply = this.stateMessage();
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
    // deleteAll drops the tables with the rows; the next write (odds for a rescheduled match) makes them again.
    this.tables = false;
    this.current = undefined;
  }

  private stateMessage(): StateMessage {
    const { aggregates: _, ...state } = this.state();
    return { type: 'state', ...state };
  }

  private meta() {
    if (!this.tables) return undefined;
    return this.sql
      .exec<{ match_id: number | null; start_ms: number | null; touched_ms: number; h2h_outcomes: string | null }>(
        'SELECT match_id, start_ms, touched_ms, h2h_outcomes FROM mo_meta',
      )
      .toArray()[0];
  }

  /** The stored h2h outcome set ('home,away'); NULL, as in an object stored before it was kept, is football's. */
  private h2hOutcomes(stored: string | null): H2hOutcomes {
    return (stored === null ? null : asH2hOutcomes(stored.split(','))) ?? H2H_THREE_WAY;
  }

  private lines(): LiveLine[] {
    if (!this.tables) return [];
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

const REFUSAL_STATUS = { invalid: 400, unauthorized: 401, 'rate-limited': 429 } as const;

/** A refusal in the app's error codes (src/lib/errors.ts), which the Worker's route turns into the same problem. */
function refusal(code: keyof typeof REFUSAL_STATUS, detail: string): Response {
  const body: Refusal = { code, detail };
  return new Response(JSON.stringify(body), { status: REFUSAL_STATUS[code], headers: { 'content-type': 'application/json' } });
}
