// Provider fixture → canonical match id. The fixture's sport is its competition's (The Odds API's sport key, in
// the sport data files: src/domain/sports/catalog.ts), or the one the caller names (an archive of one sport, whose
// unknown divisions no file declares). Team names resolve through team_aliases for that provider and that sport's
// teams only; the match is then the existing one of those two teams near the commence time, or a new one under
// the provider's event id in that competition. "Near" is the competition's data file's rule (the defaults for one no file declares): matchWindowHours (football
// 36 h: football-data rows carry a date-only or UK-time kick-off, so the same real match from both providers must
// meet here), and a date-only history match of a sport with a dateTimeZone joins on its date there (NBA teams meet
// on consecutive days, so an hour window around a date-only game would reach the next day's). A name without an
// alias is recorded in unresolved_team_names and its fixture skipped: nothing is invented, so nothing is invented
// twice. The aliases come from the data files, which db:migrate loads before anything runs.
import { seasonOf } from '../../domain/calendar';
import { THE_ODDS_API_PROVIDER } from '../../providers/the-odds-api/client';
import type { ProviderFixture } from '../../providers/types';
import { and, eq, sql } from 'drizzle-orm';
import { anyOf, bare, pgArray, type PgDb } from '../../db/pg';
import { competitions, matches, sports, teamAliases, teams, unresolvedTeamNames } from '../../db/schema';
import { competitionLive } from '../../domain/sports/catalog';

/** A fixture's sport and how it joins an existing match, from its competition key. */
interface FixtureRule {
  sportKey: string;
  windowHours: number;
  dateTimeZone: string | null;
}

function ruleOf(f: ProviderFixture, options: ResolveOptions): FixtureRule {
  const { sportKey, oddsApi } = competitionLive(f.competitionKey);
  return { sportKey: options.sportKey ?? sportKey, windowHours: options.windowHours ?? oddsApi.matchWindowHours, dateTimeZone: oddsApi.dateTimeZone ?? null };
}

/** `sportKey|alias` → teams.id: one provider spelling may name a team in each sport. */
type TeamIds = Map<string, number>;
const teamKey = (sportKey: string, name: string) => `${sportKey}|${name}`;

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
  /** The sport of every fixture, for an archive of one sport (football-data); default: each competition's. */
  sportKey?: string;
}

export async function resolveFixture(db: PgDb, fixture: ProviderFixture, options: ResolveOptions = {}): Promise<FixtureResolution> {
  return (await resolveFixtures(db, [fixture], options)).resolutions[0]!;
}

/** Call inside the job's transaction: a fixture created here and the odds written for it commit together. */
export async function resolveFixtures(db: PgDb, fixtures: readonly ProviderFixture[], options: ResolveOptions = {}): Promise<ResolveFixturesResult> {
  const provider = options.provider ?? THE_ODDS_API_PROVIDER;
  const rules = new Map(fixtures.map((f) => [f.eventId, ruleOf(f, options)]));
  const rule = (f: ProviderFixture) => rules.get(f.eventId)!;
  const teamOf = (teamIds: TeamIds, f: ProviderFixture, name: string) => teamIds.get(teamKey(rule(f).sportKey, name));
  const byEvent = new Map<string, FixtureResolution>();
  const unique = [...new Map(fixtures.map((f) => [f.eventId, f])).values()];
  if (unique.length === 0) return { matchIds: new Map(), resolutions: [], created: 0, unresolved: 0 };

  // Seen before under this event id: nothing else to decide.
  for (const r of await matchesByEvent(db, provider, unique)) byEvent.set(r.eventId, { eventId: r.eventId, status: 'existing', matchId: String(r.id) });
  let pending = unique.filter((f) => !byEvent.has(f.eventId));

  const teamIds = await teamsByAlias(db, provider, pending);
  const missing = (f: ProviderFixture) => [f.homeTeam, f.awayTeam].filter((n) => teamOf(teamIds, f, n) === undefined);
  const unresolvedFixtures = pending.filter((f) => missing(f).length > 0);
  await recordUnresolved(db, provider, unresolvedFixtures, missing);
  for (const f of unresolvedFixtures) byEvent.set(f.eventId, { eventId: f.eventId, status: 'unresolved', matchId: null, unresolvedNames: missing(f) });
  pending = pending.filter((f) => missing(f).length === 0);

  const withTeams = (list: readonly ProviderFixture[]) =>
    list.map((f) => ({ fixture: f, rule: rule(f), home: teamOf(teamIds, f, f.homeTeam)!, away: teamOf(teamIds, f, f.awayTeam)! }));
  for (const [eventId, matchId] of await findNearbyMatches(db, withTeams(pending))) {
    byEvent.set(eventId, { eventId, status: 'matched', matchId });
  }
  pending = pending.filter((f) => !byEvent.has(f.eventId));

  let created = 0;
  if (pending.length > 0) {
    created = await createMatches(db, provider, withTeams(pending));
    for (const r of await matchesByEvent(db, provider, pending)) byEvent.set(r.eventId, { eventId: r.eventId, status: 'created', matchId: String(r.id) });
    // A fixture whose insert lost a race on (home, away, start_at) belongs to the match that won it.
    const raced = pending.filter((f) => !byEvent.has(f.eventId));
    for (const [eventId, matchId] of await findNearbyMatches(db, withTeams(raced))) byEvent.set(eventId, { eventId, status: 'matched', matchId });
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

/** The provider's spellings of the fixtures' teams, each under its team's sport. */
async function teamsByAlias(db: PgDb, provider: string, fixtures: readonly ProviderFixture[]): Promise<TeamIds> {
  const names = [...new Set(fixtures.flatMap((f) => [f.homeTeam, f.awayTeam]))];
  if (names.length === 0) return new Map();
  const rows = await db
    .select({ alias: teamAliases.alias, teamId: teamAliases.teamId, sport: sports.key })
    .from(teamAliases)
    .innerJoin(teams, eq(teams.id, teamAliases.teamId))
    .innerJoin(sports, eq(sports.id, teams.sportId))
    .where(and(eq(teamAliases.provider, provider), anyOf(teamAliases.alias, names)));
  return new Map(rows.map((r) => [teamKey(r.sport, r.alias), r.teamId]));
}

async function recordUnresolved(db: PgDb, provider: string, fixtures: readonly ProviderFixture[], missing: (f: ProviderFixture) => string[]): Promise<void> {
  const sightings = new Map<string, { competition: string; count: number }>();
  for (const f of fixtures) {
    for (const name of missing(f)) {
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

interface PendingFixture {
  fixture: ProviderFixture;
  rule: FixtureRule;
  home: number;
  away: number;
}

/**
 * The nearest match of the same two teams (home and away as given) by the fixture's sport rule: within
 * ±windowHours, or, for a sport with a dateTimeZone, a date-only match dated on the kick-off's local date.
 */
async function findNearbyMatches(db: PgDb, pending: readonly PendingFixture[]): Promise<Map<string, string>> {
  if (pending.length === 0) return new Map();
  // The fixtures are a list of values joined to matches, nearest kick-off first per fixture: DISTINCT ON over
  // unnest, which the builder has no form for.
  const { rows } = await db.execute<{ event_id: string; id: string }>(sql`
    select distinct on (f.event_id) f.event_id, ${matches.id}::text as id
    from unnest(${pgArray(pending.map((p) => p.fixture.eventId), 'text')}, ${pgArray(pending.map((p) => p.home), 'int')},
                ${pgArray(pending.map((p) => p.away), 'int')}, ${pgArray(pending.map((p) => p.fixture.commenceTime.toISOString()), 'timestamptz')},
                ${pgArray(pending.map((p) => p.rule.windowHours), 'float8')}, ${pgArray(pending.map((p) => p.rule.dateTimeZone), 'text')})
         as f(event_id, home, away, at, window_hours, tz)
    join ${matches} on ${matches.homeTeamId} = f.home and ${matches.awayTeamId} = f.away
                   and case when f.tz is not null and not ${matches.startTimeKnown}
                            then (${matches.startAt} at time zone 'UTC')::date = (f.at at time zone f.tz)::date
                            else ${matches.startAt} between f.at - make_interval(secs => f.window_hours * 3600) and f.at + make_interval(secs => f.window_hours * 3600) end
    order by f.event_id, abs(extract(epoch from ${matches.startAt} - f.at)), ${matches.id}`);
  return new Map(rows.map((r) => [r.event_id, r.id]));
}

async function createMatches(db: PgDb, provider: string, pending: readonly PendingFixture[]): Promise<number> {
  const fixtures = pending.map((p) => p.fixture);
  // The competition, under its sport (which exists: the fixture's teams resolved through it). The Odds API's sport
  // keys are the canonical competition keys; one no data file declares (`soccer_usa_mls`) gets a row named by its
  // key until someone names it. db:migrate has already made every declared one, so this is a no-op for them.
  const competitionSport = new Map(pending.map((p) => [p.fixture.competitionKey, p.rule.sportKey]));
  await db
    .insert(competitions)
    .values([...competitionSport].map(([key, sportKey]) => ({ sportId: sql`${db.select({ id: sports.id }).from(sports).where(eq(sports.key, sportKey))}`, key, name: key })))
    .onConflictDoNothing({ target: competitions.key });
  // The fixtures' rows joined to their competitions: INSERT ... SELECT over unnest of the lists, which the
  // builder's insert ... select cannot select from.
  const m = matches;
  const inserted = await db.execute(sql`
    insert into ${m} (${bare(m.sportId)}, ${bare(m.competitionId)}, ${bare(m.season)}, ${bare(m.homeTeamId)}, ${bare(m.awayTeamId)}, ${bare(m.startAt)},
                      ${bare(m.startTimeKnown)}, ${bare(m.status)}, ${bare(m.provider)}, ${bare(m.externalMatchId)})
    select ${competitions.sportId}, ${competitions.id}, f.season, f.home, f.away, f.at, true, 'scheduled', ${provider}, f.event_id
    from unnest(${pgArray(fixtures.map((f) => f.eventId), 'text')}, ${pgArray(fixtures.map((f) => f.competitionKey), 'text')},
                ${pgArray(fixtures.map((f) => seasonOf(f.commenceTime)), 'text')}, ${pgArray(pending.map((p) => p.home), 'int')},
                ${pgArray(pending.map((p) => p.away), 'int')}, ${pgArray(fixtures.map((f) => f.commenceTime.toISOString()), 'timestamptz')})
         as f(event_id, competition, season, home, away, at)
    join ${competitions} on ${competitions.key} = f.competition
    on conflict do nothing`);
  return inserted.rowCount ?? 0;
}
