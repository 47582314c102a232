// PredictionCache: every KV key, TTL, isolate memo and invalidation of the prediction path, in one place.
// - `pred:v2:{run}:{match}`: the full (unshaped) prediction. The key carries the model run, so activating
//   another run changes the prefix and old entries simply stop being read (they expire on their TTL); new odds
//   for a match delete its key under every run that may still be cached (the odds job, invalidateMatch).
//   (v2: markets carry `kind` and the prediction `model`; a v1 entry has neither and is never read.)
// - `pred:v2:market-only:{match}`: the market-only prediction of a match of a sport without an active run. It is
//   made from the live odds alone, so it lives no longer than they stay fresh (the odds poll's shortest period,
//   PREDICTION_CACHE_TTL_SECONDS) and new odds delete it with the match's other keys. Its KV metadata names the
//   match's sport: once that sport has an active run, the entry is not served.
// - `feat:match:{match}`: the match's feature state, a copy of its sport's feature store's rows for it
//   (src/services/feature-store); the state names its feature version. Its `staleAfter` decides whether it is
//   used; the TTL is a safety net.
// - `odds:v1:match:{match}`: the match's live odds (LiveState) as its MatchOdds object stored them with its last
//   write, published by the odds job with that write (invalidateMatch, publishLiveOdds). A prediction miss reads
//   this copy instead of calling the object: a KV read at the edge where the object may be a continent away, and
//   no wake of an object evicted after 10 s idle. The object stays the writer and the judge: a change the job could
//   not apply, a match the fixtures or results job touched, or a poll whose publication failed deletes the copy (or
//   leaves an older one at most LIVE_ODDS_MAX_TTL_SECONDS), and a miss without a copy calls the object. The copy
//   expires at kick-off: a started match serves its stored prediction and never reads live odds.
// - `model:active:v2`: serving's copy of the active model runs, one per sport at most; activation deletes it. The
//   isolate keeps its own copy for ACTIVE_RUN_ISOLATE_TTL_MS on top.
// Isolate memos of predictions and feature states (what a KV read returned, parsed, kept for a few seconds):
// - Only what was read from KV is memoised, never what this isolate computed or wrote: a put deletes the
//   memo's entry instead, so the next read goes to KV.
// - Staleness: another isolate's invalidation (the odds job deletes a match's cached prediction) reaches this
//   isolate's memo within PREDICTION_MEMO_TTL_MS, on top of KV's own propagation (up to 60 s across
//   locations); an invalidation made in this isolate (invalidateMatch) clears the memo at once. A feature
//   state is rewritten only when the store advances (results) and carries its own `staleAfter`, which is
//   checked on every use, memoised or not; its memo lives FEATURE_STATE_MEMO_TTL_MS.
// - A match's sport, learnt from what a read returned (a run's prediction, a market-only one's metadata, a feature
//   state). A match's sport never changes, and which of its keys can hold a servable prediction follows from it:
//   its sport's active run's, or the market-only one when the sport has none. Once the sport is known the lookup
//   reads that key alone instead of every active run's and the market-only one: it skips reads whose answer
//   could not be served, so it serves nothing staler. Kept MATCH_SPORT_MEMO_TTL_MS.
// - Bounded: MEMO_MAX_ENTRIES each, the oldest entry dropped first. Memoised objects are shared between
//   requests and must not be mutated (shaping copies).
// A miss's inputs in one KV read: when the feature state is not memoised, its read takes the published live odds in
// the same bulk read, kept as text for the request. The lookup reads the prediction keys alone: a hit (most
// requests) reads and pays for no more than it serves, since KV bills every key of a bulk read.
import type { LiveState } from '../../../durable-objects/match-odds';
import type { SportMatchFeatureState } from '../feature-store';
import type { ActiveRun, MatchPrediction } from './types';

export const ACTIVE_RUN_KV_KEY = 'model:active:v2';
/** How long the isolate trusts its copy of the active run before asking KV again. */
export const ACTIVE_RUN_ISOLATE_TTL_MS = 15_000;
/** How long KV keeps the active run (KV's minimum TTL is 60 s). Activation takes effect within this. */
export const ACTIVE_RUN_KV_TTL_SECONDS = 60;
/**
 * Seconds a cached prediction lives: the odds job's shortest poll period (every 5 minutes), so a cached prediction is
 * never older than the live odds it was made from by more than one poll. New odds delete it sooner.
 */
export const PREDICTION_CACHE_TTL_SECONDS = 300;
/** Feature state entries outlive their freshness only as a safety net; `staleAfter` decides whether they are used. */
export const FEATURE_STATE_TTL_SECONDS = 14 * 86_400;

export const predictionCacheKey = (modelRunId: string, matchId: number): string => `pred:v2:${modelRunId}:${matchId}`;
export const marketOnlyCacheKey = (matchId: number): string => `pred:v2:market-only:${matchId}`;
/** A prediction's key: its model run's, or the market-only one (model null). */
const keyOf = (modelRunId: string | null, matchId: number) => (modelRunId === null ? marketOnlyCacheKey(matchId) : predictionCacheKey(modelRunId, matchId));
export const featureStateKey = (matchId: number): string => `feat:match:${matchId}`;
export const liveOddsKey = (matchId: number): string => `odds:v1:match:${matchId}`;
/**
 * The longest a published copy of a match's live odds lives when its kick-off is further away: a little more than
 * the slowest poll tier (every 2 h), so a copy a failed publication left behind is not served for long.
 */
export const LIVE_ODDS_MAX_TTL_SECONDS = 3 * 3600;
/** KV refuses an expiration less than 60 s away. */
const KV_MIN_TTL_SECONDS = 60;

/** What a market-only entry's KV metadata says: the sport whose lack of a model it was made for. */
interface MarketOnlyMetadata {
  sport: string;
}

/** How long the isolate serves a prediction it read from KV before reading KV again (see the header). */
export const PREDICTION_MEMO_TTL_MS = 5_000;
/** How long the isolate uses a feature state it read from KV before reading KV again (see the header). */
export const FEATURE_STATE_MEMO_TTL_MS = 30_000;
/** How long the isolate keeps a match's sport (see the header); it never changes, the bound is the memo's size. */
export const MATCH_SPORT_MEMO_TTL_MS = 3_600_000;
/** Entries per memo; a full memo drops its oldest entry. */
export const MEMO_MAX_ENTRIES = 2_000;

/** A bounded map of values that expire, in insertion order (the oldest entry goes first when it is full). */
class IsolateMemo<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(private readonly ttlMs: number) {}

  get(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T, now: number): void {
    this.entries.delete(key);
    if (this.entries.size >= MEMO_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: now + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

// Isolate memos: they outlive a request (a PredictionCache is made per request) on purpose.
/** A cached prediction, and for a market-only one the sport its metadata names. */
interface CachedPrediction {
  prediction: MatchPrediction;
  sport?: string;
}
const predictionMemo = new IsolateMemo<CachedPrediction>(PREDICTION_MEMO_TTL_MS);
const featureStateMemo = new IsolateMemo<SportMatchFeatureState>(FEATURE_STATE_MEMO_TTL_MS);
/** Match id → its sport's key. */
const matchSportMemo = new IsolateMemo<string>(MATCH_SPORT_MEMO_TTL_MS);
let activeMemo: { runs: ActiveRun[]; until: number } | undefined;
/** Per-isolate counters behind the `hitRate` log field. */
const counters = { hits: 0, misses: 0 };

/** Forgets the isolate's copy of the active run: for tests, and after an activation made by this isolate. */
export function forgetActiveRun(): void {
  activeMemo = undefined;
}

export function resetPredictionMemos(): void {
  activeMemo = undefined;
  predictionMemo.clear();
  featureStateMemo.clear();
  matchSportMemo.clear();
  counters.hits = 0;
  counters.misses = 0;
}

export class PredictionCache {
  /** Live odds that this request's featureState() read beside the state (text; null: not in KV), by key. */
  private readonly readAlongside = new Map<string, string | null>();

  constructor(
    private readonly kv: KVNamespace,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached prediction of a model run (null: the market-only one): the isolate's memo of an earlier KV read, else KV (then memoised). */
  async prediction(modelRunId: string | null, matchId: number): Promise<CachedPrediction | null> {
    const key = keyOf(modelRunId, matchId);
    const memoised = predictionMemo.get(key, this.now());
    if (memoised) return memoised;
    if (modelRunId === null) {
      const { value, metadata } = await this.kv.getWithMetadata<MatchPrediction, MarketOnlyMetadata>(key, 'json');
      return this.remember(key, modelRunId, value, metadata);
    }
    return this.remember(key, modelRunId, await this.kv.get<MatchPrediction>(key, 'json'), null);
  }

  /**
   * The cached predictions of several runs of one match (null: the market-only one), in their order: from the memo,
   * and whatever it lacks in one bulk KV read (one operation, where a read per key was one each).
   */
  private async predictions(modelRunIds: readonly (string | null)[], matchId: number): Promise<(CachedPrediction | null)[]> {
    const keys = modelRunIds.map((runId) => keyOf(runId, matchId));
    const now = this.now();
    const memoised = keys.map((key) => predictionMemo.get(key, now) ?? null);
    const missing = keys.filter((_, i) => memoised[i] === null);
    if (missing.length === 0) return memoised;
    const read = await this.kv.getWithMetadata<MatchPrediction, MarketOnlyMetadata>(missing, 'json');
    return keys.map((key, i) => memoised[i] ?? this.remember(key, modelRunIds[i]!, read.get(key)?.value ?? null, read.get(key)?.metadata ?? null));
  }

  /** What a KV read returned, as a cached prediction, memoised; a market-only entry without its sport is not served. */
  private remember(key: string, modelRunId: string | null, value: MatchPrediction | null, metadata: MarketOnlyMetadata | null): CachedPrediction | null {
    let read: CachedPrediction | null = null;
    if (modelRunId === null) {
      // An entry without its sport cannot be checked against the active runs: not served.
      if (value && typeof metadata?.sport === 'string') read = { prediction: value, sport: metadata.sport };
    } else if (value) {
      read = { prediction: value };
    }
    if (read) predictionMemo.set(key, read, this.now());
    return read;
  }

  /**
   * The match's servable cached prediction: its sport's active run's, or the market-only one while its sport has no
   * active run. While the match's sport is unknown, every active run's key and the market-only one are read in one
   * bulk read (rather than Postgres on every hit); once it is known, only the key that can be served.
   */
  async lookup(runs: readonly ActiveRun[], matchId: number): Promise<MatchPrediction | null> {
    const sport = this.knownSport(matchId);
    if (sport !== undefined) {
      const run = runs.find((r) => r.sport === sport);
      const entry = await this.prediction(run?.id ?? null, matchId);
      return entry && (run || entry.sport === sport) ? entry.prediction : null;
    }
    const [marketOnly, ...ofRuns] = await this.predictions([null, ...runs.map((r) => r.id)], matchId);
    const hit = ofRuns.findIndex((e) => e !== null);
    if (hit >= 0) {
      // A run prices only its own sport's matches, so its entry says the match's sport.
      this.rememberSport(matchId, runs[hit]!.sport);
      return ofRuns[hit]!.prediction;
    }
    if (marketOnly?.sport !== undefined) {
      this.rememberSport(matchId, marketOnly.sport);
      if (!runs.some((r) => r.sport === marketOnly.sport)) return marketOnly.prediction;
    }
    return null;
  }

  /** The match's sport, if the isolate has learnt it; undefined while unknown. */
  knownSport(matchId: number): string | undefined {
    return matchSportMemo.get(String(matchId), this.now());
  }

  /** Records the match's sport, once something read has said it (see the header). */
  rememberSport(matchId: number, sport: string): void {
    matchSportMemo.set(String(matchId), sport, this.now());
  }

  /** Caches a prediction; a market-only one (no run) with the sport it was made for, which `sport` names. */
  async putPrediction(prediction: MatchPrediction, sport: string): Promise<void> {
    const key = keyOf(prediction.modelRunId, prediction.matchId);
    const metadata: MarketOnlyMetadata | undefined = prediction.modelRunId === null ? { sport } : undefined;
    // Before and after: a read racing the put may have memoised the entry it replaces.
    predictionMemo.delete(key);
    await this.kv.put(key, JSON.stringify(prediction), { expirationTtl: PREDICTION_CACHE_TTL_SECONDS, metadata });
    predictionMemo.delete(key);
  }

  /**
   * Deletes the match's cached prediction under each run, and its market-only one; the odds job calls it after
   * writing new odds. First it publishes `live`, the state the match's MatchOdds stored with them, or without one
   * deletes the published copy: a miss that follows the deletion reads the new odds, never the old copy.
   */
  async invalidateMatch(modelRunIds: readonly string[], matchId: number, live?: LiveState): Promise<void> {
    let unpublished: unknown;
    try {
      await this.publishLiveOdds(matchId, live);
    } catch (error) {
      // The predictions still go.
      unpublished = error;
    }
    const keys = [...modelRunIds.map((runId) => predictionCacheKey(runId, matchId)), marketOnlyCacheKey(matchId)];
    // The memo goes at once (this isolate's next read is a miss), and again once KV has the deletion, in case
    // a read racing it memoised the old entry.
    for (const key of keys) predictionMemo.delete(key);
    await Promise.all(keys.map((key) => this.kv.delete(key)));
    for (const key of keys) predictionMemo.delete(key);
    if (unpublished !== undefined) throw unpublished;
  }

  /**
   * The match's live odds as the odds job last published them (see the header); null when there is no copy, and
   * the caller asks the match's MatchOdds object. Not memoised: a copy changes with every poll that moves a price.
   */
  async liveOdds(matchId: number): Promise<LiveState | null> {
    const key = liveOddsKey(matchId);
    const text = this.readAlongside.has(key) ? this.takeAlongside(key) : await this.kv.get(key, 'text');
    return text === null ? null : (JSON.parse(text) as LiveState);
  }

  /**
   * Publishes the state a match's MatchOdds object stored with its last write, until its kick-off (at most
   * LIVE_ODDS_MAX_TTL_SECONDS); without a state, or with a kick-off too close for KV's minimum TTL, deletes the copy.
   */
  async publishLiveOdds(matchId: number, live: LiveState | undefined): Promise<void> {
    const key = liveOddsKey(matchId);
    const now = this.now();
    const kickoff = live?.startAt ? Date.parse(live.startAt) : Number.NaN;
    const expiresMs = Math.min(Number.isFinite(kickoff) ? kickoff : Number.POSITIVE_INFINITY, now + LIVE_ODDS_MAX_TTL_SECONDS * 1000);
    const expiration = Math.floor(expiresMs / 1000);
    if (!live || expiration - now / 1000 <= KV_MIN_TTL_SECONDS) {
      await this.kv.delete(key);
      return;
    }
    try {
      await this.kv.put(key, JSON.stringify(live), { expiration });
    } catch (error) {
      // The object holds newer odds than the copy: the copy must not outlive them.
      await this.kv.delete(key).catch(() => undefined);
      throw error;
    }
  }

  /** The match's feature state: the isolate's memo of an earlier KV read, else KV (then memoised). */
  async featureState(matchId: number): Promise<SportMatchFeatureState | null> {
    const key = featureStateKey(matchId);
    const oddsKey = liveOddsKey(matchId);
    // Only this call's read is taken later: an earlier call's (an instance used twice) would be stale.
    this.readAlongside.delete(oddsKey);
    const memoised = featureStateMemo.get(key, this.now());
    if (memoised) return memoised;
    // A miss reads its live odds next: one bulk read takes both, and liveOdds() parses the odds if it comes to that.
    const texts = await this.kv.get([key, oddsKey], 'text');
    this.readAlongside.set(oddsKey, texts.get(oddsKey) ?? null);
    const text = texts.get(key) ?? null;
    const read = text === null ? null : (JSON.parse(text) as SportMatchFeatureState);
    if (read) featureStateMemo.set(key, read, this.now());
    return read;
  }

  /** Live odds featureState() read beside the state, once: a second use in the request reads KV again. */
  private takeAlongside(key: string): string | null {
    const text = this.readAlongside.get(key) ?? null;
    this.readAlongside.delete(key);
    return text;
  }

  async putFeatureState(state: SportMatchFeatureState): Promise<void> {
    const key = featureStateKey(state.matchId);
    featureStateMemo.delete(key);
    await this.kv.put(key, JSON.stringify(state), { expirationTtl: FEATURE_STATE_TTL_SECONDS });
    featureStateMemo.delete(key);
  }

  /** Deletes the match's feature state: it is no longer open (started early, finished or deleted). */
  async deleteFeatureState(matchId: number): Promise<void> {
    const key = featureStateKey(matchId);
    featureStateMemo.delete(key);
    await this.kv.delete(key);
    featureStateMemo.delete(key);
  }

  /**
   * The active runs (one per sport at most): from the isolate (15 s), else KV (60 s), else Postgres via
   * `fromDatabase`, which is then written back to KV in `defer`. Empty when no run is active.
   */
  async activeRuns(fromDatabase: () => Promise<ActiveRun[]>, defer: (work: Promise<unknown>) => void, now: number): Promise<ActiveRun[]> {
    if (activeMemo && activeMemo.until > now) return activeMemo.runs;
    let runs = await this.kv.get<ActiveRun[]>(ACTIVE_RUN_KV_KEY, 'json');
    if (!Array.isArray(runs)) {
      runs = await fromDatabase();
      if (runs.length > 0) defer(this.kv.put(ACTIVE_RUN_KV_KEY, JSON.stringify(runs), { expirationTtl: ACTIVE_RUN_KV_TTL_SECONDS }));
    }
    activeMemo = { runs, until: now + ACTIVE_RUN_ISOLATE_TTL_MS };
    return runs;
  }

  /** Deletes the KV copy of the active run, so the next read goes to Postgres (call it after an activation). */
  async invalidateActiveRun(): Promise<void> {
    activeMemo = undefined;
    await this.kv.delete(ACTIVE_RUN_KV_KEY);
  }

  /** Counts a lookup in the isolate's counters; returns them for the log line. */
  count(status: 'HIT' | 'MISS'): { isolateHits: number; isolateMisses: number; hitRate: number } {
    if (status === 'HIT') counters.hits++;
    else counters.misses++;
    const total = counters.hits + counters.misses;
    return { isolateHits: counters.hits, isolateMisses: counters.misses, hitRate: Number((counters.hits / total).toFixed(4)) };
  }
}

/** Deletes the match's cached prediction under each run and its market-only one (what the odds job does after writing new odds). */
export function invalidateMatchPredictions(kv: KVNamespace, modelRunIds: string[], matchId: number): Promise<void> {
  return new PredictionCache(kv).invalidateMatch(modelRunIds, matchId);
}
