// A basketball game's calendar and venues as the features read them, from the sport's data file
// (data/sports/basketball.json): shared by the training export (scripts/lib/nba/features.ts) and the feature store.
import { SPORT_DEFINITIONS } from '../../../domain/sports/catalog';
import { NBA_FEATURE_SPORT } from './names';
import { venueBook, type VenueBook } from './venues';

const definition = SPORT_DEFINITIONS.find((d) => d.key === NBA_FEATURE_SPORT);

/** The NBA's arenas and neutral sites. */
export const NBA_VENUES: VenueBook = venueBook(definition ?? { teams: [] });

const DATE_TIME_ZONE = definition?.live?.['the-odds-api']?.dateTimeZone ?? 'America/Los_Angeles';
const usDate = new Intl.DateTimeFormat('en-CA', { timeZone: DATE_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

/**
 * The game's US date: the archive stores it as 00:00 UTC of that date (start time unknown); a live fixture's
 * tip-off falls on its US date in the sport's `dateTimeZone` (docs/sports.md).
 */
export const gameDate = (startAt: Date, startTimeKnown: boolean): string => (startTimeKnown ? usDate.format(startAt) : startAt.toISOString().slice(0, 10));
