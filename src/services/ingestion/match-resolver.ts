// Provider fixture → canonical match id. Team names resolve through team_aliases for that provider only; the
// match is then the existing one of those two teams within ±36 h of the commence time (football-data rows
// carry a date-only or UK-time kick-off, so the same real match from both providers must meet here), or a new
// one under the provider's event id. A name without an alias is recorded in unresolved_team_names and its
// fixture skipped: nothing is invented, so nothing is invented twice.
import { seasonOf } from '../../domain/calendar';
import { THE_ODDS_API_PROVIDER } from '../../providers/the-odds-api/client';
import type { ProviderFixture } from '../../providers/types';
import type { SqlQuery } from './sql';
import { seedOddsApiAliases } from './team-aliases';

export const MATCH_WINDOW_HOURS = 36;

export type FixtureResolution =
  | { eventId: string; status: 'existing' | 'matched' | 'created'; matchId: string }
  | { eventId: string; status: 'unresolved'; matchId: null; unresolvedNames: string[] };

export interface ResolveFixturesResult {
  /** eventId → matches.id, for every fixture that resolved. */
  matchIds: Map<string, string>;
  resolutions: FixtureResolution[];
  created: number;
  unresolved: number;
}

export interface ResolveOptions {
  provider?: string;
  windowHours?: number;
}

export async function resolveFixture(query: SqlQuery, fixture: ProviderFixture, options: ResolveOptions = {}): Promise<FixtureResolution> {
  return (await resolveFixtures(query, [fixture], options)).resolutions[0]!;
}

/** Call inside the job's transaction: a fixture created here and the odds written for it commit together. */
export async function resolveFixtures(query: SqlQuery, fixtures: readonly ProviderFixture[], options: ResolveOptions = {}): Promise<ResolveFixturesResult> {
  const provider = options.provider ?? THE_ODDS_API_PROVIDER;
  const windowHours = options.windowHours ?? MATCH_WINDOW_HOURS;
  const byEvent = new Map<string, FixtureResolution>();
  const unique = [...new Map(fixtures.map((f) => [f.eventId, f])).values()];
  if (unique.length === 0) return { matchIds: new Map(), resolutions: [], created: 0, unresolved: 0 };

  // Seen before under this event id: nothing else to decide.
  const known = await query(`select id::text as id, external_match_id from matches where provider = $1 and external_match_id = any($2::text[])`, [
    provider,
    unique.map((f) => f.eventId),
  ]);
  for (const r of known.rows) byEvent.set(String(r.external_match_id), { eventId: String(r.external_match_id), status: 'existing', matchId: String(r.id) });
  let pending = unique.filter((f) => !byEvent.has(f.eventId));

  const teamIds = await teamsByAlias(query, provider, pending);
  const missing = (f: ProviderFixture) => [f.homeTeam, f.awayTeam].filter((n) => !teamIds.has(n));
  if (provider === THE_ODDS_API_PROVIDER && pending.some((f) => missing(f).length > 0)) {
    // The aliases may simply not be seeded yet on this database (e.g. no history imported): seed, look again.
    await seedOddsApiAliases(query);
    for (const [name, id] of await teamsByAlias(query, provider, pending)) teamIds.set(name, id);
  }
  const unresolvedFixtures = pending.filter((f) => missing(f).length > 0);
  await recordUnresolved(query, provider, unresolvedFixtures, teamIds);
  for (const f of unresolvedFixtures) byEvent.set(f.eventId, { eventId: f.eventId, status: 'unresolved', matchId: null, unresolvedNames: missing(f) });
  pending = pending.filter((f) => missing(f).length === 0);

  for (const [eventId, matchId] of await findNearbyMatches(query, pending, teamIds, windowHours)) {
    byEvent.set(eventId, { eventId, status: 'matched', matchId });
  }
  pending = pending.filter((f) => !byEvent.has(f.eventId));

  let created = 0;
  if (pending.length > 0) {
    created = await createMatches(query, provider, pending, teamIds);
    const ids = await query(`select id::text as id, external_match_id from matches where provider = $1 and external_match_id = any($2::text[])`, [
      provider,
      pending.map((f) => f.eventId),
    ]);
    for (const r of ids.rows) byEvent.set(String(r.external_match_id), { eventId: String(r.external_match_id), status: 'created', matchId: String(r.id) });
    // A fixture whose insert lost a race on (home, away, start_at) belongs to the match that won it.
    const raced = pending.filter((f) => !byEvent.has(f.eventId));
    for (const [eventId, matchId] of await findNearbyMatches(query, raced, teamIds, windowHours)) byEvent.set(eventId, { eventId, status: 'matched', matchId });
  }

  const resolutions = fixtures.map((f) => byEvent.get(f.eventId) ?? unresolvable(f));
  const matchIds = new Map<string, string>();
  for (const r of resolutions) if (r.matchId !== null) matchIds.set(r.eventId, r.matchId);
  return { matchIds, resolutions, created, unresolved: resolutions.filter((r) => r.status === 'unresolved').length };
}

function unresolvable(f: ProviderFixture): FixtureResolution {
  throw new Error(`fixture ${f.eventId} (${f.homeTeam} v ${f.awayTeam}) could neither be matched nor created`);
}

async function teamsByAlias(query: SqlQuery, provider: string, fixtures: readonly ProviderFixture[]): Promise<Map<string, number>> {
  const names = [...new Set(fixtures.flatMap((f) => [f.homeTeam, f.awayTeam]))];
  if (names.length === 0) return new Map();
  const { rows } = await query(`select alias, team_id from team_aliases where provider = $1 and alias = any($2::text[])`, [provider, names]);
  return new Map(rows.map((r) => [String(r.alias), Number(r.team_id)]));
}

async function recordUnresolved(query: SqlQuery, provider: string, fixtures: readonly ProviderFixture[], teamIds: Map<string, number>): Promise<void> {
  const sightings = new Map<string, { competition: string; count: number }>();
  for (const f of fixtures) {
    for (const name of [f.homeTeam, f.awayTeam]) {
      if (teamIds.has(name)) continue;
      const s = sightings.get(name);
      if (s) s.count++;
      else sightings.set(name, { competition: f.competitionKey, count: 1 });
    }
  }
  if (sightings.size === 0) return;
  const names = [...sightings.keys()];
  await query(
    `insert into unresolved_team_names (provider, name, competition, occurrences)
     select $1, u.name, u.competition, u.occurrences from unnest($2::text[], $3::text[], $4::int[]) as u(name, competition, occurrences)
     on conflict (provider, name) do update set
       last_seen = now(), competition = excluded.competition,
       occurrences = unresolved_team_names.occurrences + excluded.occurrences`,
    [provider, names, names.map((n) => sightings.get(n)!.competition), names.map((n) => sightings.get(n)!.count)],
  );
}

/** The nearest match of the same two teams (home and away as given) within ±windowHours. */
async function findNearbyMatches(
  query: SqlQuery,
  fixtures: readonly ProviderFixture[],
  teamIds: Map<string, number>,
  windowHours: number,
): Promise<Map<string, string>> {
  if (fixtures.length === 0) return new Map();
  const { rows } = await query(
    `select distinct on (f.event_id) f.event_id, m.id::text as id
     from unnest($1::text[], $2::int[], $3::int[], $4::timestamptz[]) as f(event_id, home, away, at)
     join matches m on m.home_team_id = f.home and m.away_team_id = f.away
                   and m.start_at between f.at - make_interval(hours => $5) and f.at + make_interval(hours => $5)
     order by f.event_id, abs(extract(epoch from m.start_at - f.at)), m.id`,
    [
      fixtures.map((f) => f.eventId),
      fixtures.map((f) => teamIds.get(f.homeTeam)!),
      fixtures.map((f) => teamIds.get(f.awayTeam)!),
      fixtures.map((f) => f.commenceTime.toISOString()),
      windowHours,
    ],
  );
  return new Map(rows.map((r) => [String(r.event_id), String(r.id)]));
}

async function createMatches(query: SqlQuery, provider: string, fixtures: readonly ProviderFixture[], teamIds: Map<string, number>): Promise<number> {
  await query(`insert into sports (key, name) values ('soccer', 'Soccer') on conflict (key) do nothing`, []);
  // The Odds API's sport keys are the canonical competition keys; one the history never had gets a row
  // named by its key until someone names it.
  const keys = [...new Set(fixtures.map((f) => f.competitionKey))];
  await query(
    `insert into competitions (sport_id, key, name)
     select s.id, k, k from unnest($1::text[]) as k cross join sports s where s.key = 'soccer'
     on conflict (key) do nothing`,
    [keys],
  );
  const inserted = await query(
    `insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, provider, external_match_id)
     select c.sport_id, c.id, f.season, f.home, f.away, f.at, true, 'scheduled', $1, f.event_id
     from unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::timestamptz[]) as f(event_id, competition, season, home, away, at)
     join competitions c on c.key = f.competition
     on conflict do nothing`,
    [
      provider,
      fixtures.map((f) => f.eventId),
      fixtures.map((f) => f.competitionKey),
      fixtures.map((f) => seasonOf(f.commenceTime)),
      fixtures.map((f) => teamIds.get(f.homeTeam)!),
      fixtures.map((f) => teamIds.get(f.awayTeam)!),
      fixtures.map((f) => f.commenceTime.toISOString()),
    ],
  );
  return inserted.rowCount ?? 0;
}
