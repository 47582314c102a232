// PredictionCache: every KV key, TTL, isolate memo and invalidation of the prediction path, in one place.
// - `pred:v2:{run}:{match}`: the full (unshaped) prediction. The key carries the model run, so activating
//   another run changes the prefix and old entries simply stop being read (they expire on their TTL); new odds
//   for a match delete its key under every run that may still be cached (the odds job, invalidateMatch).
//   (v2: markets carry `kind` and the prediction `model`; a v1 entry has neither and is never read.)
// - `pred:v2:market-only:{match}`: the market-only prediction of a match of a sport without a model. It is made
//   from the live odds alone, so it lives no longer than they stay fresh (the odds poll's shortest period,
//   PREDICTION_CACHE_TTL_SECONDS) and new odds delete it with the match's other keys.
// - `feat:{featureVersion}:{match}`: the match's feature state, a copy of the feature store's rows for it
//   (src/services/feature-store). Its `staleAfter` decides whether it is used; the TTL is a safety net.
// - `model:active:v1`: serving's copy of the active model run; activation deletes it. The isolate keeps its
//   own copy for ACTIVE_RUN_ISOLATE_TTL_MS on top.
// Isolate memos of predictions and feature states (what a KV read returned, parsed, kept for a few seconds):
// - Only what was read from KV is memoised, never what this isolate computed or wrote: a put deletes the
//   memo's entry instead, so the next read goes to KV.
// - Staleness: another isolate's invalidation (the odds job deletes a match's cached prediction) reaches this
//   isolate's memo within PREDICTION_MEMO_TTL_MS, on top of KV's own propagation (up to 60 s across
//   locations); an invalidation made in this isolate (invalidateMatch) clears the memo at once. A feature
//   state is rewritten only when the store advances (results) and carries its own `staleAfter`, which is
//   checked on every use, memoised or not; its memo lives FEATURE_STATE_MEMO_TTL_MS.
// - A match's kind (whether its sport has a model), learnt from what a read returned: a run's prediction or a
//   feature state exists only for a sport with a model, a market-only prediction only for one without. Only
//   one of a match's two prediction keys can ever be written (sportHasModel is fixed per deployment and a
//   match's sport never changes), so once the kind is known the lookup reads that key alone instead of both:
//   it skips a read whose answer is known to be null, so it serves nothing staler. Kept MATCH_KIND_MEMO_TTL_MS.
// - Bounded: MEMO_MAX_ENTRIES each, the oldest entry dropped first. Memoised objects are shared between
//   requests and must not be mutated (shaping copies).
import { FEATURE_VERSION } from '../features';
import type { MatchFeatureState } from '../feature-store';
import type { ActiveRun, MatchPrediction } from './types';

export const ACTIVE_RUN_KV_KEY = 'model:active:v1';
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
export const featureStateKey = (matchId: number): string => `feat:${FEATURE_VERSION}:${matchId}`;

/** How long the isolate serves a prediction it read from KV before reading KV again (see the header). */
export const PREDICTION_MEMO_TTL_MS = 5_000;
/** How long the isolate uses a feature state it read from KV before reading KV again (see the header). */
export const FEATURE_STATE_MEMO_TTL_MS = 30_000;
/** How long the isolate keeps a match's kind (see the header); it never changes, the bound is the memo's size. */
export const MATCH_KIND_MEMO_TTL_MS = 3_600_000;
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
const predictionMemo = new IsolateMemo<MatchPrediction>(PREDICTION_MEMO_TTL_MS);
const featureStateMemo = new IsolateMemo<MatchFeatureState>(FEATURE_STATE_MEMO_TTL_MS);
/** Match id → whether its sport has a model (true: its prediction is a run's; false: market-only). */
const matchKindMemo = new IsolateMemo<boolean>(MATCH_KIND_MEMO_TTL_MS);
let activeMemo: { run: ActiveRun | null; until: number } | undefined;
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
  matchKindMemo.clear();
  counters.hits = 0;
  counters.misses = 0;
}

export class PredictionCache {
  constructor(
    private readonly kv: KVNamespace,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached prediction of a model run (null: the market-only one): the isolate's memo of an earlier KV read, else KV (then memoised). */
  async prediction(modelRunId: string | null, matchId: number): Promise<MatchPrediction | null> {
    const key = keyOf(modelRunId, matchId);
    const memoised = predictionMemo.get(key, this.now());
    if (memoised) return memoised;
    const read = await this.kv.get<MatchPrediction>(key, 'json');
    if (read) predictionMemo.set(key, read, this.now());
    return read;
  }

  /**
   * The match's cached prediction: its run's (null: no run is active) or its market-only one. Both keys are read at
   * once while the match's kind is unknown (rather than Postgres on every market-only hit); once it is known,
   * only the key that can exist.
   */
  async lookup(modelRunId: string | null, matchId: number): Promise<MatchPrediction | null> {
    const hasModel = this.knownKind(matchId);
    const [ofRun, marketOnly] = await Promise.all([
      modelRunId !== null && hasModel !== false ? this.prediction(modelRunId, matchId) : null,
      hasModel !== true ? this.prediction(null, matchId) : null,
    ]);
    if (ofRun) this.rememberKind(matchId, true);
    else if (marketOnly) this.rememberKind(matchId, false);
    return ofRun ?? marketOnly;
  }

  /** Whether the match's sport has a model, if the isolate has learnt it; undefined while unknown. */
  knownKind(matchId: number): boolean | undefined {
    return matchKindMemo.get(String(matchId), this.now());
  }

  /** Records whether the match's sport has a model, once something read has said so (see the header). */
  rememberKind(matchId: number, hasModel: boolean): void {
    matchKindMemo.set(String(matchId), hasModel, this.now());
  }

  async putPrediction(prediction: MatchPrediction): Promise<void> {
    const key = keyOf(prediction.modelRunId, prediction.matchId);
    // Before and after: a read racing the put may have memoised the entry it replaces.
    predictionMemo.delete(key);
    await this.kv.put(key, JSON.stringify(prediction), { expirationTtl: PREDICTION_CACHE_TTL_SECONDS });
    predictionMemo.delete(key);
  }

  /** Deletes the match's cached prediction under each run, and its market-only one; the odds job calls it after writing new odds. */
  async invalidateMatch(modelRunIds: readonly string[], matchId: number): Promise<void> {
    const keys = [...modelRunIds.map((runId) => predictionCacheKey(runId, matchId)), marketOnlyCacheKey(matchId)];
    // The memo goes at once (this isolate's next read is a miss), and again once KV has the deletion, in case
    // a read racing it memoised the old entry.
    for (const key of keys) predictionMemo.delete(key);
    await Promise.all(keys.map((key) => this.kv.delete(key)));
    for (const key of keys) predictionMemo.delete(key);
  }

  /** The match's feature state: the isolate's memo of an earlier KV read, else KV (then memoised). */
  async featureState(matchId: number): Promise<MatchFeatureState | null> {
    const key = featureStateKey(matchId);
    const memoised = featureStateMemo.get(key, this.now());
    if (memoised) return memoised;
    const read = await this.kv.get<MatchFeatureState>(key, 'json');
    if (read) featureStateMemo.set(key, read, this.now());
    return read;
  }

  async putFeatureState(state: MatchFeatureState): Promise<void> {
    const key = featureStateKey(state.matchId);
    featureStateMemo.delete(key);
    await this.kv.put(key, JSON.stringify(state), { expirationTtl: FEATURE_STATE_TTL_SECONDS });
    featureStateMemo.delete(key);
  }

  /**
   * The active run: from the isolate (15 s), else KV (60 s), else Postgres via `fromDatabase`, which is then
   * written back to KV in `defer`. Null when no run is active.
   */
  async activeRun(fromDatabase: () => Promise<ActiveRun | null>, defer: (work: Promise<unknown>) => void, now: number): Promise<ActiveRun | null> {
    if (activeMemo && activeMemo.until > now) return activeMemo.run;
    let run = await this.kv.get<ActiveRun>(ACTIVE_RUN_KV_KEY, 'json');
    if (!run) {
      run = await fromDatabase();
      if (run) defer(this.kv.put(ACTIVE_RUN_KV_KEY, JSON.stringify(run), { expirationTtl: ACTIVE_RUN_KV_TTL_SECONDS }));
    }
    activeMemo = { run, until: now + ACTIVE_RUN_ISOLATE_TTL_MS };
    return run;
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
