// The sport data files as modules, for code that runs in the Worker (which has no file system): the ingestion
// jobs read each competition's sport and live settings from here. db:migrate reads the same files from disk
// (scripts/lib/sports.ts); test/node/sports-data.test.ts fails when a file in data/sports/ is missing here, so
// adding a sport is its data file plus one line below.
import basketball from '../../../data/sports/basketball.json';
import soccer from '../../../data/sports/soccer.json';
import { H2H_THREE_WAY, H2H_TWO_WAY, type H2hOutcomes } from '../odds/live';
import { LIVE_MARKETS, parseSportDefinition, type LiveSettings, type SportDefinition } from './definition';

export const SPORT_DEFINITIONS: readonly SportDefinition[] = [
  parseSportDefinition(basketball, 'data/sports/basketball.json'),
  parseSportDefinition(soccer, 'data/sports/soccer.json'),
];

/**
 * How the live jobs treat a sport whose data file declares no live settings: every stored market, in the
 * Worker's ODDS_API_REGIONS, joined to a match of the same teams within ± 36 h.
 */
export const DEFAULT_LIVE_SETTINGS: LiveSettings = { markets: [...LIVE_MARKETS], matchWindowHours: 36 };

export interface CompetitionLive {
  sportKey: string;
  /** The sport's live settings for The Odds API (its data file's, else DEFAULT_LIVE_SETTINGS). */
  oddsApi: LiveSettings;
}

const SPORT_BY_COMPETITION = new Map(SPORT_DEFINITIONS.flatMap((def) => def.competitions.map((c) => [c.key, def.key] as const)));
const DEFINITION_BY_SPORT = new Map(SPORT_DEFINITIONS.map((def) => [def.key, def] as const));

/**
 * The sport of a competition key (The Odds API's sport key): the data file's that declares the competition,
 * else the key's group prefix, as The Odds API groups its keys (`soccer_usa_mls` is soccer). A prefix no file
 * declares (`icehockey`) is a sport without teams: its fixtures' names resolve to nothing.
 */
export function sportOfCompetition(competitionKey: string): string {
  return SPORT_BY_COMPETITION.get(competitionKey) ?? competitionKey.split('_')[0]!;
}

/**
 * The sport and live settings of a competition key (The Odds API's sport key). The file's settings are for the
 * competitions it declares: an undeclared one of the same sport (`basketball_euroleague` beside the NBA's file)
 * gets the defaults, so it is not polled in the NBA's `us` region whatever ODDS_API_REGIONS says.
 */
export function competitionLive(competitionKey: string): CompetitionLive {
  const sportKey = sportOfCompetition(competitionKey);
  const declared = SPORT_BY_COMPETITION.has(competitionKey) ? DEFINITION_BY_SPORT.get(sportKey)?.live?.['the-odds-api'] : undefined;
  return { sportKey, oddsApi: declared ?? DEFAULT_LIVE_SETTINGS };
}

/**
 * The h2h outcomes of a sport by its key (its data file's `h2hOutcomes`), else a book with a draw: what
 * MatchOdds needs to give a 2-way moneyline its margin-free consensus, and what settlement grades h2h by.
 */
export function h2hOutcomesOfSport(sportKey: string): H2hOutcomes {
  return DEFINITION_BY_SPORT.get(sportKey)?.h2hOutcomes?.length === 2 ? H2H_TWO_WAY : H2H_THREE_WAY;
}

/** The h2h outcomes of a competition's sport (see h2hOutcomesOfSport). */
export function h2hOutcomesOf(competitionKey: string): H2hOutcomes {
  return h2hOutcomesOfSport(sportOfCompetition(competitionKey));
}
