// Where a basketball game was played, from the sport's data file (data/sports/basketball.json): each team's home
// arenas over time and the competition's neutral-site periods. The travel features are great-circle distances
// between these venues.
import type { SportDefinition } from '../../../domain/sports/definition';

export interface Venue {
  name: string;
  lat: number;
  lon: number;
}

interface Dated extends Venue {
  from?: string;
  to?: string;
}

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle (haversine) distance in km. */
export function greatCircleKm(a: Pick<Venue, 'lat' | 'lon'>, b: Pick<Venue, 'lat' | 'lon'>): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** `from` inclusive, `to` exclusive, both `YYYY-MM-DD` (compared as strings, which orders them as dates). */
const covers = (v: Dated, date: string) => (v.from === undefined || v.from <= date) && (v.to === undefined || date < v.to);

export interface VenueBook {
  /** The team's home arena on that date; null when the data file does not say. */
  arena(teamKey: string, date: string): Venue | null;
  /** The neutral site the competition's games were played at on that date, if any. */
  neutralSite(competitionKey: string, date: string): Venue | null;
}

export function venueBook(definition: Pick<SportDefinition, 'teams' | 'neutralSites'>): VenueBook {
  const arenas = new Map<string, Dated[]>(definition.teams.map((t) => [t.key, t.arenas ?? []]));
  const sites = definition.neutralSites ?? [];
  const strip = (v: Dated): Venue => ({ name: v.name, lat: v.lat, lon: v.lon });
  return {
    arena(teamKey, date) {
      const found = arenas.get(teamKey)?.find((v) => covers(v, date));
      return found ? strip(found) : null;
    },
    neutralSite(competitionKey, date) {
      const found = sites.find((s) => s.competition === competitionKey && covers(s, date));
      return found ? strip(found) : null;
    },
  };
}
