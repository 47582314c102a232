// FeatureStateSource: a match's feature state for the prediction path. The per-match KV entry first (what the
// feature queue's consumer keeps current after each advance of the store); when it is missing or stale, the
// feature store in Postgres, one statement of primary-key lookups, written back to KV off the response path.
// A request never reads more than the match's two teams, its pair and its league (football), or its two teams'
// states (basketball).
//
// Two repositories over the same store: a request's single match is read over Neon's HTTP endpoint (`pointReads`,
// one fetch, no connection to open: see src/db/client.ts), the warm-up's hundreds of matches over the Pool
// (`store`). An HTTP answer is one JSON document, encoded and decoded whole, and Neon caps its size; a refresh
// of every upcoming match is megabytes of team states.
import type { Logger } from '../../lib/logging';
import { isFresh, sportOfState, type FeatureStateRepository, type SportMatchFeatureState, type StoredMatch } from '../feature-store';
import { builtVersionOfSport } from '../features/versions';
import type { PredictionCache } from './cache';

/** An open match priced market-only: all its prediction needs besides its live odds. */
export interface MarketOnlyMatch {
  matchId: number;
  sport: string;
  startAt: number;
}

/** An open match with its sport's feature state. */
export interface UpcomingMatch {
  sport: string;
  state: SportMatchFeatureState;
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
    // A sport without a feature store never has a KV feature state: once the isolate knows the match is one, no read.
    const sport = this.cache.knownSport(matchId);
    const entry = sport !== undefined && builtVersionOfSport(sport) === undefined ? null : await this.cache.featureState(matchId);
    // An entry of a version this Worker does not build (an older deploy's) says nothing: the store answers.
    const entrySport = entry ? sportOfState(entry) : undefined;
    if (entry && entrySport && now >= entry.match.startAt) return { kind: 'started', sport: entrySport, startAt: entry.match.startAt };
    if (entry && entrySport && isFresh(entry, now)) return { kind: 'upcoming', sport: entrySport, state: entry };
    const stored = await this.pointReads.forMatch(matchId, now);
    if (stored?.kind === 'upcoming') {
      // On the request's line (requestLog): which misses were cold, and why.
      this.logger.annotate({ featureState: entry ? 'store: stale in KV' : 'store: missing in KV' });
      this.defer(this.cache.putFeatureState(stored.state));
    }
    return stored;
  }

  /**
   * The states of upcoming matches among `matchIds`, from their sports' stores, written to KV (the warm-up); beside
   * them the open matches of sports without a feature store, which can only be warmed market-only, and the ids
   * among `matchIds` that are no longer open, whose KV states are deleted.
   */
  async refresh(matchIds: readonly number[], now: number): Promise<{ upcoming: UpcomingMatch[]; marketOnly: MarketOnlyMatch[]; closed: number[] }> {
    const upcoming: UpcomingMatch[] = [];
    const marketOnly: MarketOnlyMatch[] = [];
    const stored = await this.store.forMatches(matchIds, now);
    for (const [matchId, match] of stored) {
      if (match.kind === 'upcoming') upcoming.push({ sport: match.sport, state: match.state });
      else if (match.kind === 'market-only') marketOnly.push({ matchId, sport: match.sport, startAt: match.startAt });
    }
    // A match that is no longer open (moved to a kick-off already past, finished, deleted) loses its KV state: its
    // old `staleAfter` (the old kick-off) would otherwise keep it open for requests until then.
    const closed = [...new Set(matchIds)].filter((id) => stored.get(id)?.kind !== 'upcoming' && stored.get(id)?.kind !== 'market-only');
    await Promise.all([...upcoming.map((u) => this.cache.putFeatureState(u.state)), ...closed.map((id) => this.cache.deleteFeatureState(id))]);
    return { upcoming, marketOnly, closed };
  }

  upcomingMatchIds(now: number, horizonMs: number): Promise<number[]> {
    return this.store.upcomingMatchIds(now, horizonMs);
  }
}
