// Provider fixture → canonical match id. Team names resolve through team_aliases for that provider only; the
// match is then the existing one of those two teams within ±36 h of the commence time (football-data rows
// carry a date-only or UK-time kick-off, so the same real match from both providers must meet here), or a new
// one under the provider's event id. A name without an alias is recorded in unresolved_team_names and its
// fixture skipped: nothing is invented, so nothing is invented twice.
import { seasonOf } from '../../domain/calendar';
import { THE_ODDS_API_PROVIDER } from '../../providers/the-odds-api/client';
import type { ProviderFixture } from '../../providers/types';
import { and, eq, sql } from 'drizzle-orm';
import { anyOf, bare, pgArray, type PgDb } from '../../db/pg';
import { competitions, matches, teamAliases, unresolvedTeamNames } from '../../db/schema';
import { ensureSoccer, seedOddsApiAliases, soccerSportId } from './team-aliases';

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

export async function resolveFixture(db: PgDb, fixture: ProviderFixture, options: ResolveOptions = {}): Promise<FixtureResolution> {
  return (await resolveFixtures(db, [fixture], options)).resolutions[0]!;
}

/** Call inside the job's transaction: a fixture created here and the odds written for it commit together. */
export async function resolveFixtures(db: PgDb, fixtures: readonly ProviderFixture[], options: ResolveOptions = {}): Promise<ResolveFixturesResult> {
  const provider = options.provider ?? THE_ODDS_API_PROVIDER;
  const windowHours = options.windowHours ?? MATCH_WINDOW_HOURS;
  const byEvent = new Map<string, FixtureResolution>();
  const unique = [...new Map(fixtures.map((f) => [f.eventId, f])).values()];
  if (unique.length === 0) return { matchIds: new Map(), resolutions: [], created: 0, unresolved: 0 };

  // Seen before under this event id: nothing else to decide.
  for (const r of await matchesByEvent(db, provider, unique)) byEvent.set(r.eventId, { eventId: r.eventId, status: 'existing', matchId: String(r.id) });
  let pending = unique.filter((f) => !byEvent.has(f.eventId));

  const teamIds = await teamsByAlias(db, provider, pending);
  const missing = (f: ProviderFixture) => [f.homeTeam, f.awayTeam].filter((n) => !teamIds.has(n));
  if (provider === THE_ODDS_API_PROVIDER && pending.some((f) => missing(f).length > 0)) {
    // The aliases may simply not be seeded yet on this database (e.g. no history imported): seed, look again.
    await seedOddsApiAliases(db);
    for (const [name, id] of await teamsByAlias(db, provider, pending)) teamIds.set(name, id);
  }
  const unresolvedFixtures = pending.filter((f) => missing(f).length > 0);
  await recordUnresolved(db, provider, unresolvedFixtures, teamIds);
  for (const f of unresolvedFixtures) byEvent.set(f.eventId, { eventId: f.eventId, status: 'unresolved', matchId: null, unresolvedNames: missing(f) });
  pending = pending.filter((f) => missing(f).length === 0);

  for (const [eventId, matchId] of await findNearbyMatches(db, pending, teamIds, windowHours)) {
    byEvent.set(eventId, { eventId, status: 'matched', matchId });
  }
  pending = pending.filter((f) => !byEvent.has(f.eventId));

  let created = 0;
  if (pending.length > 0) {
    created = await createMatches(db, provider, pending, teamIds);
    for (const r of await matchesByEvent(db, provider, pending)) byEvent.set(r.eventId, { eventId: r.eventId, status: 'created', matchId: String(r.id) });
    // A fixture whose insert lost a race on (home, away, start_at) belongs to the match that won it.
    const raced = pending.filter((f) => !byEvent.has(f.eventId));
    for (const [eventId, matchId] of await findNearbyMatches(db, raced, teamIds, windowHours)) byEvent.set(eventId, { eventId, status: 'matched', matchId });
  }

  const resolutions = fixtures.map((f) => byEvent.get(f.eventId) ?? unresolvable(f));
  const matchIds = new Map<string, string>();
  for (const r of resolutions) if (r.matchId !== null) matchIds.set(r.eventId, r.matchId);
  return { matchIds, resolutions, created, unresolved: resolutions.filter((r) => r.status === 'unresolved').length };
}

function unresolvable(f: ProviderFixture): FixtureResolution {
  throw new Error(`fixture ${f.eventId} (${f.homeTeam} v ${f.awayTeam}) could neither be matched nor created`);
}

/** The provider's events already stored as matches of its own. */
function matchesByEvent(db: PgDb, provider: string, fixtures: readonly ProviderFixture[]) {
  return db
    .select({ id: matches.id, eventId: matches.externalMatchId })
    .from(matches)
    .where(and(eq(matches.provider, provider), anyOf(matches.externalMatchId, fixtures.map((f) => f.eventId))));
}

async function teamsByAlias(db: PgDb, provider: string, fixtures: readonly ProviderFixture[]): Promise<Map<string, number>> {
  const names = [...new Set(fixtures.flatMap((f) => [f.homeTeam, f.awayTeam]))];
  if (names.length === 0) return new Map();
  const rows = await db
    .select({ alias: teamAliases.alias, teamId: teamAliases.teamId })
    .from(teamAliases)
    .where(and(eq(teamAliases.provider, provider), anyOf(teamAliases.alias, names)));
  return new Map(rows.map((r) => [r.alias, r.teamId]));
}

async function recordUnresolved(db: PgDb, provider: string, fixtures: readonly ProviderFixture[], teamIds: Map<string, number>): Promise<void> {
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
  const u = unresolvedTeamNames;
  await db
    .insert(u)
    .values([...sightings].map(([name, seen]) => ({ provider, name, competition: seen.competition, occurrences: seen.count })))
    .onConflictDoUpdate({
      target: [u.provider, u.name],
      set: { lastSeen: sql`now()`, competition: sql`excluded.competition`, occurrences: sql`${u.occurrences} + excluded.occurrences` },
    });
}

/** The nearest match of the same two teams (home and away as given) within ±windowHours. */
async function findNearbyMatches(
  db: PgDb,
  fixtures: readonly ProviderFixture[],
  teamIds: Map<string, number>,
  windowHours: number,
): Promise<Map<string, string>> {
  if (fixtures.length === 0) return new Map();
  // The fixtures are a list of values joined to matches, nearest kick-off first per fixture: DISTINCT ON over
  // unnest, which the builder has no form for.
  const { rows } = await db.execute<{ event_id: string; id: string }>(sql`
    select distinct on (f.event_id) f.event_id, ${matches.id}::text as id
    from unnest(${pgArray(fixtures.map((f) => f.eventId), 'text')}, ${pgArray(fixtures.map((f) => teamIds.get(f.homeTeam)!), 'int')},
                ${pgArray(fixtures.map((f) => teamIds.get(f.awayTeam)!), 'int')}, ${pgArray(fixtures.map((f) => f.commenceTime.toISOString()), 'timestamptz')})
         as f(event_id, home, away, at)
    join ${matches} on ${matches.homeTeamId} = f.home and ${matches.awayTeamId} = f.away
                   and ${matches.startAt} between f.at - make_interval(hours => ${windowHours}) and f.at + make_interval(hours => ${windowHours})
    order by f.event_id, abs(extract(epoch from ${matches.startAt} - f.at)), ${matches.id}`);
  return new Map(rows.map((r) => [r.event_id, r.id]));
}

async function createMatches(db: PgDb, provider: string, fixtures: readonly ProviderFixture[], teamIds: Map<string, number>): Promise<number> {
  await ensureSoccer(db);
  // The Odds API's sport keys are the canonical competition keys; one the history never had gets a row
  // named by its key until someone names it.
  const keys = [...new Set(fixtures.map((f) => f.competitionKey))];
  await db
    .insert(competitions)
    .values(keys.map((key) => ({ sportId: soccerSportId(db), key, name: key })))
    .onConflictDoNothing({ target: competitions.key });
  // The fixtures' rows joined to their competitions: INSERT ... SELECT over unnest of the lists, which the
  // builder's insert ... select cannot select from.
  const m = matches;
  const inserted = await db.execute(sql`
    insert into ${m} (${bare(m.sportId)}, ${bare(m.competitionId)}, ${bare(m.season)}, ${bare(m.homeTeamId)}, ${bare(m.awayTeamId)}, ${bare(m.startAt)},
                      ${bare(m.startTimeKnown)}, ${bare(m.status)}, ${bare(m.provider)}, ${bare(m.externalMatchId)})
    select ${competitions.sportId}, ${competitions.id}, f.season, f.home, f.away, f.at, true, 'scheduled', ${provider}, f.event_id
    from unnest(${pgArray(fixtures.map((f) => f.eventId), 'text')}, ${pgArray(fixtures.map((f) => f.competitionKey), 'text')},
                ${pgArray(fixtures.map((f) => seasonOf(f.commenceTime)), 'text')}, ${pgArray(fixtures.map((f) => teamIds.get(f.homeTeam)!), 'int')},
                ${pgArray(fixtures.map((f) => teamIds.get(f.awayTeam)!), 'int')}, ${pgArray(fixtures.map((f) => f.commenceTime.toISOString()), 'timestamptz')})
         as f(event_id, competition, season, home, away, at)
    join ${competitions} on ${competitions.key} = f.competition
    on conflict do nothing`);
  return inserted.rowCount ?? 0;
}
