// The feature versions this Worker builds, one per sport: the one list the feature stores' reads, the freshness of a
// KV feature state and the prediction write queue's vector check all take their versions from. A sport not listed
// has no features, so it is served market-only.
import { FEATURE_COUNT, FEATURE_SPORT, FEATURE_VERSION } from './names';
import { NBA_FEATURE_COUNT, NBA_FEATURE_SPORT, NBA_FEATURE_VERSION } from './basketball/names';

export interface BuiltFeatureVersion {
  /** sports.key. */
  sport: string;
  version: string;
  /** The vector's length. */
  length: number;
}

export const BUILT_FEATURE_VERSIONS: readonly BuiltFeatureVersion[] = [
  { sport: FEATURE_SPORT, version: FEATURE_VERSION, length: FEATURE_COUNT },
  { sport: NBA_FEATURE_SPORT, version: NBA_FEATURE_VERSION, length: NBA_FEATURE_COUNT },
];

/** The version built for a sport's matches; undefined for a sport without features. */
export const builtVersionOfSport = (sport: string): BuiltFeatureVersion | undefined => BUILT_FEATURE_VERSIONS.find((v) => v.sport === sport);

/** A version this Worker builds; undefined for another (an older deploy's, say). */
export const builtVersion = (version: string): BuiltFeatureVersion | undefined => BUILT_FEATURE_VERSIONS.find((v) => v.version === version);
