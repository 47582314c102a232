// The sport data files as modules, for code that runs in the Worker (which has no file system): the ingestion
// jobs read each competition's live settings from here. db:migrate reads the same files from disk
// (scripts/lib/sports.ts); test/node/sports-data.test.ts fails when a file in data/sports/ is missing here, so
// adding a sport is its data file plus one line below.
import basketball from '../../../data/sports/basketball.json';
import { H2H_THREE_WAY, H2H_TWO_WAY, type H2hOutcomes } from '../odds/live';
import { LIVE_MARKETS, parseSportDefinition, type LiveSettings, type SportDefinition } from './definition';

export const SPORT_DEFINITIONS: readonly SportDefinition[] = [parseSportDefinition(basketball, 'data/sports/basketball.json')];

/** Football is not a data file yet (docs/sports.md): a competition no file declares is soccer. */
export const DEFAULT_SPORT_KEY = 'soccer';

/** The ± hours a fixture of a sport without live settings joins a match of the same teams (football). */
export const DEFAULT_MATCH_WINDOW_HOURS = 36;

/** What the odds job asks The Odds API for when a sport declares nothing (football): every stored market. */
export const DEFAULT_LIVE_MARKETS: readonly (typeof LIVE_MARKETS)[number][] = LIVE_MARKETS;

export interface CompetitionLive {
  sportKey: string;
  sportName: string | null;
  /** The data file's live settings for The Odds API, or null (football: the Worker's configuration). */
  oddsApi: LiveSettings | null;
}

const BY_COMPETITION = new Map<string, CompetitionLive>(
  SPORT_DEFINITIONS.flatMap((def) =>
    def.competitions.map((c) => [c.key, { sportKey: def.key, sportName: def.name, oddsApi: def.live?.['the-odds-api'] ?? null }] as const),
  ),
);

/** The sport and live settings of a competition key (The Odds API's sport key): its data file's, else soccer's. */
export function competitionLive(competitionKey: string, definitions?: readonly SportDefinition[]): CompetitionLive {
  if (definitions) {
    for (const def of definitions) {
      if (def.competitions.some((c) => c.key === competitionKey)) return { sportKey: def.key, sportName: def.name, oddsApi: def.live?.['the-odds-api'] ?? null };
    }
  } else {
    const found = BY_COMPETITION.get(competitionKey);
    if (found) return found;
  }
  return { sportKey: DEFAULT_SPORT_KEY, sportName: null, oddsApi: null };
}

const H2H_BY_COMPETITION = new Map<string, H2hOutcomes>(
  SPORT_DEFINITIONS.flatMap((def) => def.competitions.map((c) => [c.key, def.h2hOutcomes?.length === 2 ? H2H_TWO_WAY : H2H_THREE_WAY] as const)),
);

/**
 * The h2h outcomes of a complete book in a competition's sport (its data file's `h2hOutcomes`), else football's
 * 3-way: what MatchOdds needs to give a 2-way moneyline its margin-free consensus.
 */
export function h2hOutcomesOf(competitionKey: string): H2hOutcomes {
  return H2H_BY_COMPETITION.get(competitionKey) ?? H2H_THREE_WAY;
}

const H2H_BY_SPORT = new Map<string, H2hOutcomes>(SPORT_DEFINITIONS.map((def) => [def.key, def.h2hOutcomes?.length === 2 ? H2H_TWO_WAY : H2H_THREE_WAY] as const));

/** The h2h outcomes of a sport by its key (its data file's `h2hOutcomes`), else football's 3-way. */
export function h2hOutcomesOfSport(sportKey: string): H2hOutcomes {
  return H2H_BY_SPORT.get(sportKey) ?? H2H_THREE_WAY;
}
