import { DurableObject } from 'cloudflare:workers';

/**
 * One instance per rate-limit subject. The caller picks the object name: `user:<uuid>` for authenticated
 * requests (API keys included: they count against their owner), `ip:<addr>` for anonymous ones and `/auth/*`.
 *
 * `consume()` decides one request in one RPC: the sliding-window rate limit, counted exactly from a log of
 * admitted requests, and optionally the free tier's daily quota of distinct matches. `usage()` is the
 * read-only view for `GET /me`. The clock is injected (`now`), so tests can drive any time line.
 * See "Rate limiting" in docs/decisions.md for the algorithm, the ordering and the cleanup.
 */

export interface ConsumeRequest {
  /** Caller's clock in ms since epoch (a safe integer >= 0). The Worker passes Date.now(); tests pass any time. */
  now: number;
  /** Requests allowed per window (integer >= 1). */
  limit: number;
  /** Window length in ms; default 60_000. */
  windowMs?: number;
  /** How many requests this one counts as (integer, 1..limit); default 1. */
  cost?: number;
  /** Free-tier daily prediction quota: distinct match ids per UTC day. A repeat of a match already counted today costs nothing. */
  quota?: { matchId: string; dailyLimit: number };
  /**
   * For access-token callers: when the token was issued (ms). A token issued at or before the subject's
   * revokeTokens() instant is refused (`revoked`), which is how a deleted account's stateless tokens die.
   */
  tokenIssuedAt?: number;
  /** For access-token callers: the token's epoch. One below the subject's raiseTokenEpoch() floor is refused (`revoked`). */
  tokenEpoch?: number;
}

export interface RateDecision {
  /** Whether the rate limit alone admits this request (see ConsumeResult.allowed for the verdict). */
  allowed: boolean;
  limit: number;
  /** Capacity left in the window after this decision (>= 0). */
  remaining: number;
  /** Seconds until the oldest counted request leaves the window (RateLimit-Reset); 0 when nothing is counted. */
  resetSeconds: number;
  /** Set when the rate limit denies: seconds until enough capacity frees up for this request's cost (>= 1). */
  retryAfterSeconds?: number;
}

export interface QuotaDecision {
  /** Whether the quota alone admits this request (see ConsumeResult.allowed for the verdict). */
  allowed: boolean;
  limit: number;
  /** Distinct matches counted today after this decision. */
  used: number;
  remaining: number;
  /** Seconds to the next UTC midnight. */
  resetSeconds: number;
  /** The match was already counted today, so this request costs no quota. */
  repeat: boolean;
}

export interface ConsumeResult {
  /** The verdict: rate.allowed && (quota?.allowed ?? true) && !revoked. Nothing was recorded unless this is true. */
  allowed: boolean;
  /** The caller's token was issued before the subject revoked its tokens (the account was deleted). */
  revoked?: boolean;
  rate: RateDecision;
  quota?: QuotaDecision;
}

export interface Usage {
  /** Sum of costs admitted after now - windowMs (the count consume() checks against the limit). */
  requestsInWindow: number;
  /** Distinct matches counted on now's UTC day. */
  quotaUsedToday: number;
}

export const DEFAULT_WINDOW_MS = 60_000;
const DAY_MS = 86_400_000;
const MAX_MATCH_ID_LENGTH = 256;

interface ValidRequest {
  now: number;
  limit: number;
  windowMs: number;
  cost: number;
  quota?: { matchId: string; dailyLimit: number };
}

const utcDay = (ms: number) => Math.floor(ms / DAY_MS);
const ceilSeconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

function checkNow(now: unknown): number {
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0) {
    throw new TypeError(`RateLimiter: now must be an integer number of ms since the epoch, got ${String(now)}`);
  }
  return now;
}

function checkWindow(windowMs: unknown): number {
  if (windowMs === undefined) return DEFAULT_WINDOW_MS;
  if (typeof windowMs !== 'number' || !Number.isSafeInteger(windowMs) || windowMs <= 0) {
    throw new TypeError(`RateLimiter: windowMs must be an integer > 0, got ${String(windowMs)}`);
  }
  return windowMs;
}

// The Worker is the only caller, so bad input is our own bug: fail loudly rather than guess.
function validate(req: unknown): ValidRequest {
  if (typeof req !== 'object' || req === null) throw new TypeError('RateLimiter: consume() needs a request object');
  const r = req as Record<string, unknown>;
  const now = checkNow(r.now);
  const { limit } = r;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new TypeError(`RateLimiter: limit must be an integer >= 1, got ${String(limit)}`);
  }
  const windowMs = checkWindow(r.windowMs);
  const cost = r.cost === undefined ? 1 : r.cost;
  if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 1) {
    throw new TypeError(`RateLimiter: cost must be an integer >= 1, got ${String(cost)}`);
  }
  if (cost > limit) {
    throw new TypeError(`RateLimiter: cost ${cost} exceeds limit ${limit}, so the request could never be admitted`);
  }
  if (r.quota === undefined) return { now, limit, windowMs, cost };
  if (typeof r.quota !== 'object' || r.quota === null) throw new TypeError('RateLimiter: quota must be an object');
  const { matchId, dailyLimit } = r.quota as Record<string, unknown>;
  if (typeof matchId !== 'string' || matchId.length === 0 || matchId.length > MAX_MATCH_ID_LENGTH) {
    throw new TypeError(`RateLimiter: quota.matchId must be a non-empty string of at most ${MAX_MATCH_ID_LENGTH} characters`);
  }
  if (typeof dailyLimit !== 'number' || !Number.isSafeInteger(dailyLimit) || dailyLimit < 0) {
    throw new TypeError(`RateLimiter: quota.dailyLimit must be an integer >= 0, got ${String(dailyLimit)}`);
  }
  return { now, limit, windowMs, cost, quota: { matchId, dailyLimit } };
}

// The object reads none of the Worker's bindings, so it takes the ambient Env: importing src/env.ts would make
// env.ts (which names this class) and the object import each other.
type ObjectEnv = Cloudflare.Env;

export class RateLimiter extends DurableObject<ObjectEnv> {
  private readonly sql: SqlStorage;
  /** Whether this instance knows an alarm is pending; unknown (false) after a restart, so the first write sets one. */
  private alarmPending = false;

  constructor(ctx: DurableObjectState, env: ObjectEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // One row per distinct timestamp: a burst within one millisecond is one row, so the log holds at most
    // `limit` rows per window whatever the burst. The primary key is the index the window scan uses.
    this.sql.exec('CREATE TABLE IF NOT EXISTS rl_hits (at INTEGER PRIMARY KEY, cost INTEGER NOT NULL) WITHOUT ROWID');
    this.sql.exec(
      'CREATE TABLE IF NOT EXISTS rl_quota (day INTEGER NOT NULL, match_id TEXT NOT NULL, PRIMARY KEY (day, match_id)) WITHOUT ROWID',
    );
    // The alarm cannot trust the wall clock alone, because tests inject their own: it extrapolates from the
    // latest injected time and the wall time at which it was seen.
    // Kept apart from the counters, which the alarm wipes when idle: a revocation must outlive idleness.
    this.sql.exec('CREATE TABLE IF NOT EXISTS rl_revocation (id INTEGER PRIMARY KEY CHECK (id = 0), tokens_before INTEGER NOT NULL)');
    // Matches this user got live-stream tickets for: where their sockets may be, to close them on a downgrade.
    this.sql.exec('CREATE TABLE IF NOT EXISTS rl_live_matches (match_id INTEGER PRIMARY KEY, ticket_at INTEGER NOT NULL) WITHOUT ROWID');
    // Present while the user's email is unverified: the daily prediction quota is then 0.
    this.sql.exec('CREATE TABLE IF NOT EXISTS rl_email_unverified (id INTEGER PRIMARY KEY CHECK (id = 0))');
    this.sql.exec('CREATE TABLE IF NOT EXISTS rl_token_epoch (id INTEGER PRIMARY KEY CHECK (id = 0), min_epoch INTEGER NOT NULL)');
    this.sql.exec(
      'CREATE TABLE IF NOT EXISTS rl_meta (id INTEGER PRIMARY KEY CHECK (id = 0), latest_now INTEGER NOT NULL, latest_wall INTEGER NOT NULL, max_window_ms INTEGER NOT NULL)',
    );
  }

  /**
   * Decides one request. All reads and writes below run synchronously before the first await, so under the
   * object's input gate each call is atomic: concurrent calls cannot interleave between check and record.
   */
  async consume(req: ConsumeRequest): Promise<ConsumeResult> {
    const { now, limit, windowMs, cost, quota } = validate(req);
    const { tokenIssuedAt, tokenEpoch } = req;
    let revoked = false;
    if (tokenIssuedAt !== undefined) {
      checkNow(tokenIssuedAt);
      const revocation = this.sql.exec<{ tokens_before: number }>('SELECT tokens_before FROM rl_revocation').toArray()[0];
      revoked = revocation !== undefined && tokenIssuedAt <= revocation.tokens_before;
    }
    if (tokenEpoch !== undefined && !revoked) {
      if (typeof tokenEpoch !== 'number' || !Number.isSafeInteger(tokenEpoch) || tokenEpoch < 0) {
        throw new TypeError(`RateLimiter: tokenEpoch must be an integer >= 0, got ${String(tokenEpoch)}`);
      }
      const floor = this.sql.exec<{ min_epoch: number }>('SELECT min_epoch FROM rl_token_epoch').toArray()[0];
      revoked = floor !== undefined && tokenEpoch < floor.min_epoch;
    }
    if (revoked) return { allowed: false, revoked: true, rate: { allowed: false, limit, remaining: 0, resetSeconds: 0 } };

    // Every hit after now - windowMs counts, including ones stamped later than `now` (a caller whose clock
    // lags slightly): any hit closer than windowMs to this one can share a window with it.
    const window = this.sql
      .exec<{ used: number; oldest: number | null }>(
        'SELECT coalesce(sum(cost), 0) AS used, min(at) AS oldest FROM rl_hits WHERE at > ?',
        now - windowMs,
      )
      .one();
    const rateAllows = window.used + cost <= limit;

    let quotaState: { day: number; repeat: boolean; used: number; allows: boolean } | undefined;
    if (quota && this.sql.exec('SELECT 1 FROM rl_email_unverified').toArray().length > 0) quota.dailyLimit = 0;
    if (quota) {
      const day = utcDay(now);
      const repeat = this.sql.exec('SELECT 1 FROM rl_quota WHERE day = ? AND match_id = ?', day, quota.matchId).toArray().length > 0;
      const used = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM rl_quota WHERE day = ?', day).one().n;
      quotaState = { day, repeat, used, allows: repeat || used < quota.dailyLimit };
    }

    // Neither check writes until both pass, so a denial by either leaves no trace in the other.
    const allowed = rateAllows && (quotaState?.allows ?? true);
    if (allowed) {
      this.sql.exec('INSERT INTO rl_hits (at, cost) VALUES (?, ?) ON CONFLICT (at) DO UPDATE SET cost = cost + excluded.cost', now, cost);
      if (quota && quotaState && !quotaState.repeat) {
        this.sql.exec('INSERT INTO rl_quota (day, match_id) VALUES (?, ?)', quotaState.day, quota.matchId);
        quotaState.used += 1;
      }
      this.sql.exec(
        `INSERT INTO rl_meta (id, latest_now, latest_wall, max_window_ms) VALUES (0, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
           latest_wall = CASE WHEN excluded.latest_now >= latest_now THEN excluded.latest_wall ELSE latest_wall END,
           latest_now = max(latest_now, excluded.latest_now),
           max_window_ms = max(max_window_ms, excluded.max_window_ms)`,
        now,
        Date.now(),
        windowMs,
      );
    }

    const rate = this.rateDecision(now, limit, windowMs, cost, window.used, window.oldest, rateAllows, allowed);
    const result: ConsumeResult = { allowed, rate };
    if (quota && quotaState) {
      result.quota = {
        allowed: quotaState.allows,
        limit: quota.dailyLimit,
        used: quotaState.used,
        remaining: Math.max(0, quota.dailyLimit - quotaState.used),
        resetSeconds: ceilSeconds((quotaState.day + 1) * DAY_MS - now),
        repeat: quotaState.repeat,
      };
    }

    if (allowed && !this.alarmPending) await this.scheduleCleanup(now, Date.now());
    return result;
  }

  /**
   * Refuses, from now on, every access token of this subject issued at or before `before` (ms). Used when an
   * account is deleted: access tokens are stateless, but every authenticated request passes through here.
   */
  revokeTokens(before: number): void {
    checkNow(before);
    this.sql.exec(
      'INSERT INTO rl_revocation (id, tokens_before) VALUES (0, ?) ON CONFLICT (id) DO UPDATE SET tokens_before = max(tokens_before, excluded.tokens_before)',
      before,
    );
  }

  /**
   * Whether this user's email is verified. Registration marks it false before the account exists; verification
   * marks it true. Subjects never marked (accounts older than verification) count as verified.
   */
  setEmailVerified(verified: boolean): void {
    if (verified) this.sql.exec('DELETE FROM rl_email_unverified');
    else this.sql.exec('INSERT INTO rl_email_unverified (id) VALUES (0) ON CONFLICT (id) DO NOTHING');
  }

  /** Records that this user got a live-stream ticket for `matchId` at `at` (ms); see liveMatches(). */
  rememberLiveMatch(matchId: number, at: number): void {
    checkNow(at);
    if (!Number.isSafeInteger(matchId) || matchId < 1) throw new TypeError(`RateLimiter: matchId must be a positive integer, got ${String(matchId)}`);
    // A socket lives at most until its match's state is evicted (a day idle, or 3 hours after kick-off), so
    // a week-old ticket can have no socket left: forget it, which keeps the table small.
    this.sql.exec('DELETE FROM rl_live_matches WHERE ticket_at < ?', at - 7 * DAY_MS);
    this.sql.exec(
      'INSERT INTO rl_live_matches (match_id, ticket_at) VALUES (?, ?) ON CONFLICT (match_id) DO UPDATE SET ticket_at = max(ticket_at, excluded.ticket_at)',
      matchId,
      at,
    );
  }

  /** The matches this user may hold live sockets on (tickets of the last week). */
  liveMatches(): number[] {
    return this.sql.exec<{ match_id: number }>('SELECT match_id FROM rl_live_matches').toArray().map((r) => r.match_id);
  }

  /**
   * Gives back `cost` of a hit admitted by consume() at `at` (the same `now`). Used to reserve capacity before
   * work whose outcome decides whether it should count: a credential check reserves a failure before it touches
   * the database and releases it when the credential was good, so concurrent attempts can never exceed the
   * limit, yet good credentials cost nothing.
   */
  release(at: number, cost = 1): void {
    checkNow(at);
    if (!Number.isSafeInteger(cost) || cost < 1) throw new TypeError(`RateLimiter: cost must be an integer >= 1, got ${String(cost)}`);
    this.sql.exec('UPDATE rl_hits SET cost = cost - ? WHERE at = ?', cost, at);
    this.sql.exec('DELETE FROM rl_hits WHERE at = ? AND cost <= 0', at);
  }

  /**
   * Refuses, from now on, every access token of this subject whose epoch is below `epoch`. Called after a
   * change of role or tier bumped the user's token_epoch in Postgres: new tokens carry the new epoch, old ones
   * die at once instead of claiming the old role or tier for up to 15 minutes. Never lowers the floor, so
   * calls arriving out of order are harmless.
   */
  raiseTokenEpoch(epoch: number): void {
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
      throw new TypeError(`RateLimiter: epoch must be an integer >= 0, got ${String(epoch)}`);
    }
    this.sql.exec(
      'INSERT INTO rl_token_epoch (id, min_epoch) VALUES (0, ?) ON CONFLICT (id) DO UPDATE SET min_epoch = max(min_epoch, excluded.min_epoch)',
      epoch,
    );
  }

  /**
   * Read-only usage for `GET /me`: the cost counted in the window ending at `now` (the same count consume()
   * uses, so `limit - requestsInWindow` is what a request would see as remaining) and the distinct matches
   * counted on now's UTC day. Records nothing.
   */
  usage(now: number, windowMs: number = DEFAULT_WINDOW_MS): Usage {
    checkNow(now);
    const window = checkWindow(windowMs);
    const requestsInWindow = this.sql
      .exec<{ used: number }>('SELECT coalesce(sum(cost), 0) AS used FROM rl_hits WHERE at > ?', now - window)
      .one().used;
    const quotaUsedToday = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM rl_quota WHERE day = ?', utcDay(now)).one().n;
    return { requestsInWindow, quotaUsedToday };
  }

  /**
   * Deletes hits that no window can reach any more and quota rows of past UTC days, then re-arms itself
   * while anything is left. It only ever deletes what is dead at the extrapolated injected time, so it is
   * safe to run at any moment, early or late.
   */
  override async alarm(): Promise<void> {
    const meta = this.sql
      .exec<{ latest_now: number; latest_wall: number; max_window_ms: number }>('SELECT latest_now, latest_wall, max_window_ms FROM rl_meta')
      .toArray()[0];
    const wall = Date.now();
    if (meta) {
      // The injected clock is assumed to run at the wall clock's pace since it was last seen. In production
      // both are Date.now(), so this is just the wall clock.
      const effectiveNow = meta.latest_now + Math.max(0, wall - meta.latest_wall);
      this.sql.exec('DELETE FROM rl_hits WHERE at <= ?', effectiveNow - meta.max_window_ms);
      this.sql.exec('DELETE FROM rl_quota WHERE day < ?', utcDay(effectiveNow));
      const rearmed = this.scheduleCleanup(effectiveNow, wall, meta);
      if (rearmed) return rearmed;
    }
    // Nothing left (or no meta, which only a hand-edited store could produce): forget everything.
    this.sql.exec('DELETE FROM rl_hits');
    this.sql.exec('DELETE FROM rl_quota');
    this.sql.exec('DELETE FROM rl_meta');
    this.alarmPending = false;
    await this.ctx.storage.deleteAlarm();
  }

  private rateDecision(
    now: number,
    limit: number,
    windowMs: number,
    cost: number,
    usedBefore: number,
    oldestBefore: number | null,
    rateAllows: boolean,
    recorded: boolean,
  ): RateDecision {
    const used = recorded ? usedBefore + cost : usedBefore;
    const oldest = recorded ? Math.min(oldestBefore ?? now, now) : oldestBefore;
    const decision: RateDecision = {
      allowed: rateAllows,
      limit,
      remaining: Math.max(0, limit - used),
      resetSeconds: oldest === null ? 0 : ceilSeconds(oldest + windowMs - now),
    };
    if (!rateAllows) {
      // Walk the log oldest first until the hits that have left the window free enough room for this cost;
      // the last of them leaves at its timestamp + windowMs. cost <= limit, so the walk always ends.
      const needed = usedBefore + cost - limit;
      let freed = 0;
      let freeAt = now + windowMs;
      for (const hit of this.sql.exec<{ at: number; cost: number }>('SELECT at, cost FROM rl_hits WHERE at > ? ORDER BY at', now - windowMs)) {
        freed += hit.cost;
        if (freed >= needed) {
          freeAt = hit.at + windowMs;
          break;
        }
      }
      decision.retryAfterSeconds = Math.max(1, ceilSeconds(freeAt - now));
    }
    return decision;
  }

  /**
   * Arms the alarm for when everything stored now is dead: the newest hit leaving the longest window, or the
   * end of the oldest stored quota day, whichever comes first. Returns the pending setAlarm, or undefined
   * (and arms nothing) when nothing is stored. `now` is the injected time corresponding to the wall time `wall`.
   */
  private scheduleCleanup(now: number, wall: number, meta?: { max_window_ms: number }): Promise<void> | undefined {
    const maxWindow = meta?.max_window_ms ?? this.sql.exec<{ w: number }>('SELECT max_window_ms AS w FROM rl_meta').one().w;
    const state = this.sql
      .exec<{ newest_hit: number | null; oldest_day: number | null }>(
        'SELECT (SELECT max(at) FROM rl_hits) AS newest_hit, (SELECT min(day) FROM rl_quota) AS oldest_day',
      )
      .one();
    const targets: number[] = [];
    if (state.newest_hit !== null) targets.push(state.newest_hit + maxWindow);
    if (state.oldest_day !== null) targets.push((state.oldest_day + 1) * DAY_MS);
    if (targets.length === 0) return undefined;
    // Never in the past: an overdue alarm would fire at once and find nothing to delete yet.
    const delay = Math.max(1000, Math.min(...targets) - now + 1);
    this.alarmPending = true;
    return this.ctx.storage.setAlarm(wall + delay);
  }
}
