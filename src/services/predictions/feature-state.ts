// FeatureStateSource: a match's feature state for the prediction path. The per-match KV entry first (what the
// feature queue's consumer keeps current after each advance of the store); when it is missing or stale, the
// feature store in Postgres, one statement of primary-key lookups, written back to KV off the response path.
// A request never reads more than the match's two teams, its pair and its league.
//
// Two repositories over the same store: a request's single match is read over Neon's HTTP endpoint (`pointReads`,
// one fetch, no connection to open: see src/db/client.ts), the warm-up's hundreds of matches over the Pool
// (`store`). An HTTP answer is one JSON document, encoded and decoded whole, and Neon caps its size; a refresh
// of every upcoming match is megabytes of team states.
import type { Logger } from '../../lib/logging';
import { isFresh, type FeatureStateRepository, type MatchFeatureState, type StoredMatch } from '../feature-store';
import { FEATURE_SPORT } from '../features';
import type { PredictionCache } from './cache';

/** An open match of a sport without a model: all a market-only prediction needs besides its live odds. */
export interface MarketOnlyMatch {
  matchId: number;
  sport: string;
  startAt: number;
}

export class FeatureStateSource {
  constructor(
    private readonly cache: PredictionCache,
    private readonly store: FeatureStateRepository,
    private readonly pointReads: FeatureStateRepository,
    private readonly defer: (work: Promise<unknown>) => void,
    private readonly logger: Logger,
  ) {}

  /** The match's state at `now`, or null for an unknown match. */
  async forMatch(matchId: number, now: number): Promise<StoredMatch | null> {
    // A sport without a model never has a KV feature state: once the isolate knows the match is one, no read.
    const entry = this.cache.knownKind(matchId) === false ? null : await this.cache.featureState(matchId);
    if (entry && now >= entry.match.startAt) return { kind: 'started', sport: FEATURE_SPORT, startAt: entry.match.startAt };
    if (entry && isFresh(entry, now)) return { kind: 'upcoming', state: entry };
    const stored = await this.pointReads.forMatch(matchId, now);
    if (stored?.kind === 'upcoming') {
      this.logger.info('feature state read from the store', { matchId, reason: entry ? 'stale in KV' : 'missing in KV' });
      this.defer(this.cache.putFeatureState(stored.state));
    }
    return stored;
  }

  /**
   * The states of upcoming matches among `matchIds`, from the store, written to KV (the warm-up); beside them the
   * open matches of sports without a model, which have no feature state but can be warmed market-only.
   */
  async refresh(matchIds: readonly number[], now: number): Promise<{ states: MatchFeatureState[]; marketOnly: MarketOnlyMatch[] }> {
    const states: MatchFeatureState[] = [];
    const marketOnly: MarketOnlyMatch[] = [];
    for (const [matchId, stored] of await this.store.forMatches(matchIds, now)) {
      if (stored.kind === 'upcoming') states.push(stored.state);
      else if (stored.kind === 'market-only') marketOnly.push({ matchId, sport: stored.sport, startAt: stored.startAt });
    }
    await Promise.all(states.map((s) => this.cache.putFeatureState(s)));
    return { states, marketOnly };
  }

  upcomingMatchIds(now: number, horizonMs: number): Promise<number[]> {
    return this.store.upcomingMatchIds(now, horizonMs);
  }
}
