// The inference service behind GET /matches/{id}/predictions and the queue warm-up. forMatch is one sequence
// of steps, each owned by one collaborator:
//   1. the active runs, one per sport at most (PredictionCache: isolate memo, then KV, then Postgres);
//   2. the cached prediction (PredictionCache.lookup): its sport's run's or the market-only one; a hit ends here;
//   3. the match's feature state (FeatureStateSource: the KV entry, else its sport's feature store's rows; never
//      the history), which also says whether the match exists, has started, and its sport;
//   4. the live odds (PredictionCache: the copy the odds job published to KV, else the match's MatchOdds object)
//      and the model runtime (ModelRuntimeProvider), together;
//   5. features, inference, anchors, EV and Kelly (compute.ts for football, basketball.ts for the NBA; pure);
//   6. the writes (PredictionWriter: KV put and the write queue, off the response path).
// A sport with no active run skips 4's runtime and 5's model (market-only.ts): its prediction is the live odds'
// margin-free prices with best price, EV and Kelly (`model: null`), cached and persisted the same way. Which
// sports have a model is the registry's answer (the active runs), not code's.
// Started matches never get a new prediction: the last one stored before kick-off is returned.
import type { Database } from '../../db/client';
import type { PgDb } from '../../db/pg';
import type { LiveState, MatchOdds } from '../../../durable-objects/match-odds';
import type { Logger } from '../../lib/logging';
import { NotFoundError } from '../../lib/errors';
import { span } from '../../lib/tracing';
import { anchorProbabilities } from '../../domain/odds';
import { h2hOutcomesOfSport } from '../../domain/sports/catalog';
import { FeatureStateRepository, isNbaState, type MatchFeatureState, type NbaMatchFeatureState, type SportMatchFeatureState, type StoredMatch } from '../feature-store';
import type { ModelRegistryService } from '../models';
import { moneylineAnchor, nbaBasePrediction, nbaLiveFeatures, withModelMoneyline } from './basketball';
import { PredictionCache } from './cache';
import { buildMatchPrediction, firstRow, liveInputs, type PredictionSettings } from './compute';
import { FeatureStateSource, type MarketOnlyMatch } from './feature-state';
import { buildMarketOnlyPrediction } from './market-only';
import { ModelRuntimeProvider, ModelUnavailableError, type ActiveRun, type ServingRuntime } from './model-service';
import type { PredictionStore } from './store';
import type { MatchPrediction } from './types';
import { PredictionWriter } from './writer';

export { resetPredictionMemos } from './cache';

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
  /** One-statement reads over Neon's HTTP endpoint (no connection to open): a cold miss's feature state. */
  reads: () => PgDb;
  registry: ModelRegistryService;
  store: Pick<PredictionStore, 'persistMany' | 'latestBefore'>;
  /** The prediction write queue (PREDICTION_QUEUE): a miss's prediction is persisted by its consumer. */
  writes: Pick<Queue<unknown>, 'send'>;
  settings: PredictionSettings;
  defer: (work: Promise<unknown>) => void;
  logger: Logger;
  now?: () => number;
}

/** A prediction and the feature vector it was made from. */
export interface ComputedPrediction {
  prediction: MatchPrediction;
  features: Float64Array;
}

export class PredictionService {
  private readonly now: () => number;
  readonly cache: PredictionCache;
  readonly featureStates: FeatureStateSource;
  readonly runtimes: ModelRuntimeProvider;
  readonly writer: PredictionWriter;

  constructor(private readonly deps: PredictionDeps) {
    this.now = deps.now ?? Date.now;
    this.cache = new PredictionCache(deps.kv, this.now);
    this.featureStates = new FeatureStateSource(this.cache, new FeatureStateRepository(deps.db), new FeatureStateRepository(deps.reads), deps.defer, deps.logger);
    this.runtimes = new ModelRuntimeProvider(deps.models);
    this.writer = new PredictionWriter({ cache: this.cache, store: deps.store, queue: deps.writes, defer: deps.defer, logger: deps.logger });
  }

  /** The active runs: at most one per sport; empty when none is active. */
  activeRuns(): Promise<ActiveRun[]> {
    return this.cache.activeRuns(() => this.activeFromDatabase(), this.deps.defer, this.now());
  }

  async forMatch(matchId: number): Promise<PredictionResult> {
    const runs = await this.activeRuns();
    const cached = await this.cache.lookup(runs, matchId);
    // On the request's own line (requestLog), which already names the cache result and the run.
    this.deps.logger.annotate(this.cache.count(cached ? 'HIT' : 'MISS'));
    // Cached before kick-off, so after it this is the stored pre-kick-off prediction and says so.
    if (cached) return { prediction: cached, cache: 'HIT', source: this.now() >= Date.parse(cached.kickoff) ? 'stored' : 'live' };
    const now = this.now();
    // The live odds (a KV read, else a Durable Object call) are read only once the match is known to be open:
    // started beside the feature state, every 404 and every started match would read them too, and the overlap
    // did not show in bench/predictions.ts (docs/benchmarks.md, run 5).
    const stored = await this.featureState(matchId, now);
    this.cache.rememberSport(matchId, stored.sport);
    // A started match of any sport serves what was stored before kick-off, which needs no active run.
    if (stored.kind === 'started') return this.stored(matchId, new Date(stored.startAt));
    const run = runs.find((r) => r.sport === stored.sport);
    if (!run) {
      const prediction = await this.computeMarketOnly({ matchId, sport: stored.sport, startAt: stored.kind === 'upcoming' ? stored.state.match.startAt : stored.startAt }, now);
      this.writer.afterMiss(prediction, stored.sport);
      return { prediction, cache: 'MISS', source: 'live' };
    }
    if (stored.kind === 'market-only') {
      throw new ModelUnavailableError(`model run ${run.id} (${run.name}) prices ${stored.sport}, whose features this Worker does not build`);
    }
    const { prediction, features } = await this.compute(run, stored.state, now);
    this.writer.afterMiss(prediction, stored.sport, features);
    return { prediction, cache: 'MISS', source: 'live' };
  }

  /**
   * The market-only prediction of an open match of a sport without an active run: its MatchOdds state alone. The
   * miss and the feature queue's warm-up both make it here.
   */
  async computeMarketOnly(match: MarketOnlyMatch, now: number): Promise<MatchPrediction> {
    return buildMarketOnlyPrediction({
      matchId: match.matchId,
      kickoff: match.startAt,
      predictedAt: now,
      h2hOutcomes: h2hOutcomesOfSport(match.sport),
      odds: await this.liveOdds(match.matchId),
      settings: this.deps.settings,
    });
  }

  /** A new prediction by `run` from a fresh feature state of its sport and the match's live odds (no Postgres). */
  async compute(run: ActiveRun, state: SportMatchFeatureState, now: number): Promise<ComputedPrediction> {
    if (run.featureVersion !== state.featureVersion) {
      throw new ModelUnavailableError(`model run ${run.id} needs features ${run.featureVersion}; this Worker builds ${state.featureVersion} for its sport`);
    }
    const [serving, live] = await Promise.all([this.runtimes.forRun(run, now), this.liveOdds(state.matchId)]);
    return isNbaState(state) ? this.computeNba(run, serving, state, live, now) : this.computeFootball(run, serving, state, live, now);
  }

  private async computeFootball(run: ActiveRun, serving: ServingRuntime, state: MatchFeatureState, live: LiveState, now: number): Promise<ComputedPrediction> {
    if (serving.kind !== 'football') throw new ModelUnavailableError(`model run ${run.id} (${run.name}) is not a football bundle`);
    const runtime = serving.runtime;
    const inputs = liveInputs(state, live, now, runtime.marginMethods);
    const probabilities = firstRow(
      await span('inference', () => runtime.predict([{ features: inputs.features, anchors: anchorProbabilities(inputs.anchors) }]), { 'model.run': run.id }),
    );
    const prediction = buildMatchPrediction({
      matchId: state.matchId,
      model: { runId: run.id, name: run.name, featureVersion: run.featureVersion },
      predictedAt: now,
      kickoff: state.match.startAt,
      probabilities,
      anchors: inputs.anchors,
      anchorInfo: inputs.anchorInfo,
      lines: live.lines,
      settings: this.deps.settings,
    });
    return { prediction, features: inputs.features };
  }

  /** The NBA run prices the moneyline; spreads and totals stay the market's (basketball.ts). */
  private async computeNba(run: ActiveRun, serving: ServingRuntime, state: NbaMatchFeatureState, live: LiveState, now: number): Promise<ComputedPrediction> {
    if (serving.kind !== 'moneyline') throw new ModelUnavailableError(`model run ${run.id} (${run.name}) is not a moneyline bundle`);
    const runtime = serving.runtime;
    const settings = this.deps.settings;
    const base = nbaBasePrediction({ state, live, marginMethod: runtime.marginMethod, predictedAt: now, settings });
    const features = nbaLiveFeatures(state, live);
    const anchor = moneylineAnchor(base);
    const [probabilities] = await span('inference', () => runtime.predict([{ features, anchor }]), { 'model.run': run.id });
    const model = { runId: run.id, name: run.name, featureVersion: run.featureVersion };
    return { prediction: withModelMoneyline(base, probabilities ?? null, model, settings), features };
  }

  /** The match's live odds: the copy the odds job published with its MatchOdds object's last write, else the object's own. */
  private async liveOdds(matchId: number): Promise<LiveState> {
    return (await this.cache.liveOdds(matchId)) ?? this.deps.matchOdds(matchId).state();
  }

  private async featureState(matchId: number, now: number): Promise<StoredMatch> {
    const stored = await this.featureStates.forMatch(matchId, now);
    if (!stored) throw NotFoundError.of('match', matchId);
    return stored;
  }

  private async stored(matchId: number, kickoff: Date): Promise<PredictionResult> {
    const prediction = await this.deps.store.latestBefore(matchId, kickoff);
    if (!prediction) {
      throw new NotFoundError(`Match ${matchId} has started and no prediction was made for it before kick-off`);
    }
    return { prediction, cache: 'MISS', source: 'stored' };
  }

  private async activeFromDatabase(): Promise<ActiveRun[]> {
    return (await this.deps.registry.activeRuns()).map((run) => ({
      id: run.id,
      name: run.name,
      sport: run.sport,
      featureVersion: run.featureVersion,
      artifactKey: run.artifactKey,
      artifactSha256: run.artifactSha256,
    }));
  }
}
