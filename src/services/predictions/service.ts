// The inference service behind GET /matches/{id}/predictions and the queue warm-up.
//
// Warm path (nothing waits for Postgres): active run (isolate / KV) → KV cache → on a miss, the match's
// precomputed feature state (KV) and live odds (MatchOdds DO) → ONNX → EV and Kelly; the result is put in
// KV and, in waitUntil, handed to the prediction write queue, whose consumer persists misses in batches.
// Cold path: when the feature state is missing or stale, it is computed from Postgres once (the history is
// shared by concurrent misses in the isolate) and written to KV off the response path. The caller gets a
// correct prediction a little later rather than an error or one made from stale form.
// Started matches never get a new prediction: the last one stored before kick-off is returned.
import type { Database } from '../../db/client';
import type { MatchOdds } from '../../../durable-objects/match-odds';
import type { Logger } from '../../lib/logging';
import { NotFoundError, UnavailableError } from '../../lib/errors';
import { span } from '../../lib/tracing';
import { FEATURE_VERSION, type TimelineMatch } from '../features';
import type { ModelRegistryService } from '../models';
import { readCachedPrediction, writeCachedPrediction } from './cache';
import { anchorProbabilities } from '../../domain/odds';
import { buildMatchPrediction, firstRow, liveInputs, type LiveOdds, type PredictionSettings } from './compute';
import { activeRun, ModelUnavailableError, runtimeFor, type ActiveRun } from './model-service';
import type { PredictionStore } from './store';
import {
  computeMatchFeatureStates,
  isFresh,
  loadTimeline,
  matchExists,
  readMatchFeatureState,
  upcomingMatchIds,
  writeMatchFeatureState,
  type MatchFeatureState,
} from './team-state-kv';
import type { MatchPrediction } from './types';

export type CacheStatus = 'HIT' | 'MISS';

export interface PredictionResult {
  prediction: MatchPrediction;
  cache: CacheStatus;
  /** `live`: made now or served from the cache; `stored`: the match has started, this is its last pre-kick-off prediction. */
  source: 'live' | 'stored';
}

export interface PredictionDeps {
  kv: KVNamespace;
  models: R2Bucket;
  /** The match's MatchOdds object (Services.matchOdds, so calls are traced). */
  matchOdds: (matchId: number) => DurableObjectStub<MatchOdds>;
  db: () => Database;
  registry: ModelRegistryService;
  store: Pick<PredictionStore, 'persist' | 'latestBefore'>;
  /** The prediction write queue (PREDICTION_QUEUE): a miss's prediction is persisted by its consumer. */
  writes: Pick<Queue<MatchPrediction>, 'send'>;
  settings: PredictionSettings;
  defer: (work: Promise<unknown>) => void;
  logger: Logger;
  now?: () => number;
}

/** A cold miss re-reads the whole history; concurrent cold misses in one isolate share one read for this long. */
const TIMELINE_REUSE_MS = 30_000;
let timelineMemo: { at: number; timeline: Promise<TimelineMatch[]> } | undefined;
/** Per-isolate counters behind the `hitRate` log field. */
const cacheCounters = { hits: 0, misses: 0 };

export function resetPredictionMemos(): void {
  timelineMemo = undefined;
  cacheCounters.hits = 0;
  cacheCounters.misses = 0;
}

export class PredictionService {
  private readonly now: () => number;

  constructor(private readonly deps: PredictionDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The active run, or null when none is active. */
  activeRun(): Promise<ActiveRun | null> {
    return activeRun(this.deps.kv, () => this.activeFromDatabase(), this.deps.defer, this.now());
  }

  /** The active run, or a 503 problem when none is active. */
  async requireActiveRun(): Promise<ActiveRun> {
    const run = await this.activeRun();
    if (!run) throw new UnavailableError('No model is active; an admin activates one with POST /models/{modelId}/activate');
    return run;
  }

  async forMatch(matchId: number): Promise<PredictionResult> {
    const run = await this.requireActiveRun();
    const cached = await readCachedPrediction(this.deps.kv, run.id, matchId);
    if (cached) {
      this.count('HIT', matchId, run.id);
      // Cached before kick-off, so after it this is the stored pre-kick-off prediction and says so.
      return { prediction: cached, cache: 'HIT', source: this.now() >= Date.parse(cached.kickoff) ? 'stored' : 'live' };
    }
    this.count('MISS', matchId, run.id);
    const now = this.now();
    let state = await readMatchFeatureState(this.deps.kv, matchId);
    if (state && now >= state.match.startAt) return this.stored(matchId, new Date(state.match.startAt));
    if (!state || !isFresh(state, now)) {
      const cold = await this.coldState(matchId, now);
      if ('startedAt' in cold) return this.stored(matchId, cold.startedAt);
      state = cold.state;
      this.deps.defer(writeMatchFeatureState(this.deps.kv, state));
    }
    const prediction = await this.compute(run, state, now);
    this.deps.defer(writeCachedPrediction(this.deps.kv, prediction));
    this.deps.defer(this.persistLater(prediction));
    return { prediction, cache: 'MISS', source: 'live' };
  }

  /** A new prediction from a fresh feature state and the match's live odds (no Postgres). */
  async compute(run: ActiveRun, state: MatchFeatureState, now: number): Promise<MatchPrediction> {
    if (run.featureVersion !== FEATURE_VERSION) {
      throw new ModelUnavailableError(`model run ${run.id} needs features ${run.featureVersion}; this Worker builds ${FEATURE_VERSION}`);
    }
    const [runtime, live] = await Promise.all([runtimeFor(this.deps.models, run, now), this.liveOdds(state.matchId)]);
    const inputs = liveInputs(state, live, now, runtime.marginMethods);
    const probabilities = firstRow(
      await span('inference', () => runtime.predict([{ features: inputs.features, anchors: anchorProbabilities(inputs.anchors) }]), { 'model.run': run.id }),
    );
    return buildMatchPrediction({
      matchId: state.matchId,
      modelRunId: run.id,
      featureVersion: FEATURE_VERSION,
      predictedAt: now,
      kickoff: state.match.startAt,
      probabilities,
      anchors: inputs.anchors,
      anchorInfo: inputs.anchorInfo,
      lines: live.lines,
      settings: this.deps.settings,
    });
  }

  /** Scheduled matches kicking off within `horizonMs` of `now`. */
  upcomingMatchIds(now: number, horizonMs: number): Promise<number[]> {
    return upcomingMatchIds(this.deps.db(), new Date(now), horizonMs);
  }

  persist(prediction: MatchPrediction): Promise<void> {
    return this.deps.store.persist(prediction);
  }

  /**
   * Queues the prediction for the batch writer. Should the queue refuse it, it is written here and now: one
   * connection's cost instead of a prediction that a started match could no longer be served from.
   */
  async persistLater(prediction: MatchPrediction): Promise<void> {
    try {
      await this.deps.writes.send(prediction, { contentType: 'json' });
    } catch (error) {
      this.deps.logger.warn('prediction queue refused a write; persisting directly', {
        errorCode: 'prediction-queue-unavailable',
        matchId: prediction.matchId,
        error: (error as Error).message,
      });
      await this.deps.store.persist(prediction);
    }
  }

  /** The match's lines and their summary, made once by its MatchOdds object. */
  async liveOdds(matchId: number): Promise<LiveOdds> {
    const { lines, aggregates } = await this.deps.matchOdds(matchId).state();
    return { lines, aggregates };
  }

  /**
   * The history, read once per TIMELINE_REUSE_MS per isolate however many cold misses need it; `readSince`
   * forces a read made no earlier than that instant (a match created after the shared read).
   */
  timeline(now: number, readSince = -Infinity): Promise<TimelineMatch[]> {
    if (!timelineMemo || now - timelineMemo.at >= TIMELINE_REUSE_MS || timelineMemo.at < readSince) {
      const memo = { at: now, timeline: loadTimeline(this.deps.db()) };
      memo.timeline.catch(() => {
        if (timelineMemo === memo) timelineMemo = undefined;
      });
      timelineMemo = memo;
    }
    return timelineMemo.timeline;
  }

  private async coldState(matchId: number, now: number): Promise<{ state: MatchFeatureState } | { startedAt: Date }> {
    let timeline = await this.timeline(now);
    let match = timeline.find((m) => m.matchId === matchId);
    // A match created since the shared read (a new fixture) is not in it: without this it was a 404 for up to
    // TIMELINE_REUSE_MS. The primary-key lookup keeps unknown ids from costing a history read each.
    if (!match && (await matchExists(this.deps.db(), matchId))) {
      timeline = await this.timeline(now, now);
      match = timeline.find((m) => m.matchId === matchId);
    }
    if (!match) throw NotFoundError.of('match', matchId);
    if (match.status !== 'scheduled' || now >= match.startAt) return { startedAt: new Date(match.startAt) };
    const [state] = computeMatchFeatureStates(timeline, [matchId], now);
    this.deps.logger.info('feature state computed on request', { matchId, reason: 'missing or stale in KV' });
    return { state: state! };
  }

  private async stored(matchId: number, kickoff: Date): Promise<PredictionResult> {
    const prediction = await this.deps.store.latestBefore(matchId, kickoff);
    if (!prediction) {
      throw new NotFoundError(`Match ${matchId} has started and no prediction was made for it before kick-off`);
    }
    return { prediction, cache: 'MISS', source: 'stored' };
  }

  private async activeFromDatabase(): Promise<ActiveRun | null> {
    const run = await this.deps.registry.active();
    if (!run) return null;
    return { id: run.id, name: run.name, featureVersion: run.featureVersion, artifactKey: run.artifactKey, artifactSha256: run.artifactSha256 };
  }

  private count(status: CacheStatus, matchId: number, modelRunId: string): void {
    if (status === 'HIT') cacheCounters.hits++;
    else cacheCounters.misses++;
    const total = cacheCounters.hits + cacheCounters.misses;
    this.deps.logger.info('prediction cache', {
      matchId,
      modelRunId,
      cache: status,
      isolateHits: cacheCounters.hits,
      isolateMisses: cacheCounters.misses,
      hitRate: Number((cacheCounters.hits / total).toFixed(4)),
    });
  }
}
