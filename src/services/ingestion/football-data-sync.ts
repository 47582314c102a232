// football-data rows → matches, results, statistics and odds, for the history importer (Node) and the daily
// CSV job (Worker) alike. Matches go through the resolver, so a match the live provider created days ago (its
// own event id, a kick-off within the window) receives the CSV's result, statistics and prices instead of
// getting a twin; new odds go through the one odds write path. Call inside one transaction.
import { competitionForDivision, FOOTBALL_DATA_SPORT } from '../../providers/football-data/competitions';
import {
  FOOTBALL_DATA_PROVIDER,
  type FootballDataFixture,
  type FootballDataOddsRow,
  type FootballDataResult,
} from '../../providers/football-data/provider';
import { resolveFixtures } from './match-resolver';
import { writeOddsInTransaction, type ResolvedOddsRow } from './odds-writer';
import { and, between, count, eq, ne, sql } from 'drizzle-orm';
import { anyOf, bare, pgArray, type PgDb } from '../../db/pg';
import { competitions, matches, oddsSnapshots, sports, teamAliases, teams } from '../../db/schema';

export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface FootballDataSyncCounts {
  teamsCreated: number;
  matches: WriteCounts & {
    /** Of the matches, those another provider had already created (the same real match): updated in place. */
    resolvedToOtherProvider: number;
  };
  odds: WriteCounts;
  /** Matches created or rewritten (new result, statistics, kick-off): their features need recomputing. */
  changedMatchIds: string[];
}

export interface FootballDataRows {
  fixtures: readonly FootballDataFixture[];
  odds: readonly FootballDataOddsRow[];
  results: readonly FootballDataResult[];
}

const emptyCounts = (): WriteCounts => ({ inserted: 0, updated: 0, unchanged: 0 });

export async function syncFootballData(db: PgDb, rows: FootballDataRows): Promise<FootballDataSyncCounts> {
  const counts: FootballDataSyncCounts = {
    teamsCreated: 0,
    matches: { ...emptyCounts(), resolvedToOtherProvider: 0 },
    odds: emptyCounts(),
    changedMatchIds: [],
  };
  const fixtures = rows.fixtures;
  if (fixtures.length === 0) return counts;

  // db:migrate made every division data/sports/soccer.json lists (and the sport); a division it does not list
  // gets its competition here.
  const divisions = [...new Set(fixtures.map((f) => f.division))].map(competitionForDivision);
  await db
    .insert(competitions)
    .values(divisions.map((d) => ({ sportId: footballSportId(db), key: d.key, name: d.name, country: d.country })))
    .onConflictDoNothing({ target: competitions.key });

  counts.teamsCreated = await ensureTeams(db, [...new Set(fixtures.flatMap((f) => [f.homeTeam, f.awayTeam]))]);

  const resolved = await resolveFixtures(db, fixtures, { provider: FOOTBALL_DATA_PROVIDER, sportKey: FOOTBALL_DATA_SPORT });
  const created = new Set<string>();
  for (const r of resolved.resolutions) if (r.status === 'created') created.add(r.matchId);

  // The row's data onto its match, whoever created it. Rewritten only where something differs, so a re-run
  // touches nothing. A date-only CSV kick-off never replaces a known one (the live feed's is exact); a match
  // the resolver has just created (`fresh`) takes the row's kick-off as it is.
  const resultByEvent = new Map(rows.results.map((r) => [r.eventId, r]));
  const ordered = fixtures.filter((f) => resolved.matchIds.has(f.eventId));
  const ids = ordered.map((f) => resolved.matchIds.get(f.eventId)!);
  const result = (f: FootballDataFixture) => resultByEvent.get(f.eventId);
  const m = matches;
  const stats = ordered.map((f) => {
    const stats = result(f)?.stats;
    return stats ? JSON.stringify(stats) : null;
  });
  // The bulk path of the sync (a season is 380 matches): each match gets its own row's values, compared first, in
  // one UPDATE ... FROM unnest, kept hand-written; the builder's update sets one value on every row it touches.
  const startAt = sql`case when r.fresh or r.start_time_known or not ${m.startTimeKnown} then r.start_at else ${m.startAt} end`;
  const startTimeKnown = sql`case when r.fresh then r.start_time_known else ${m.startTimeKnown} or r.start_time_known end`;
  const updated = await db.execute<{ id: string }>(sql`
    update ${m} set
      ${bare(m.competitionId)} = ${competitions.id}, ${bare(m.season)} = r.season, ${bare(m.startAt)} = ${startAt}, ${bare(m.startTimeKnown)} = ${startTimeKnown},
      ${bare(m.status)} = r.status, ${bare(m.homeScore)} = r.home_score, ${bare(m.awayScore)} = r.away_score,
      ${bare(m.homeHalfTimeScore)} = r.home_ht_score, ${bare(m.awayHalfTimeScore)} = r.away_ht_score, ${bare(m.stats)} = r.stats,
      ${bare(m.referee)} = r.referee, ${bare(m.updatedAt)} = now()
    from unnest(${pgArray(ids, 'bigint')}, ${pgArray(ordered.map((f) => f.competitionKey), 'text')}, ${pgArray(ordered.map((f) => f.season), 'text')},
                ${pgArray(ordered.map((f) => f.commenceTime.toISOString()), 'timestamptz')}, ${pgArray(ordered.map((f) => f.startTimeKnown), 'bool')},
                ${pgArray(ordered.map((f) => (result(f)?.completed ? 'finished' : 'scheduled')), 'text')},
                ${pgArray(ordered.map((f) => result(f)?.homeScore ?? null), 'int')}, ${pgArray(ordered.map((f) => result(f)?.awayScore ?? null), 'int')},
                ${pgArray(ordered.map((f) => result(f)?.homeHalfTimeScore ?? null), 'int')}, ${pgArray(ordered.map((f) => result(f)?.awayHalfTimeScore ?? null), 'int')},
                ${pgArray(stats, 'jsonb')}, ${pgArray(ordered.map((f) => result(f)?.referee ?? null), 'text')}, ${pgArray(ids.map((id) => created.has(id)), 'bool')})
         as r(id, competition, season, start_at, start_time_known, status, home_score, away_score, home_ht_score,
              away_ht_score, stats, referee, fresh)
    join ${competitions} on ${competitions.key} = r.competition
    where ${m.id} = r.id
      and (${m.competitionId}, ${m.season}, ${startTimeKnown}, ${m.status}, ${m.homeScore}, ${m.awayScore}, ${m.homeHalfTimeScore},
           ${m.awayHalfTimeScore}, ${m.stats}, ${m.referee}, ${startAt})
          is distinct from
          (${competitions.id}, r.season, ${m.startTimeKnown}, r.status, r.home_score, r.away_score, r.home_ht_score, r.away_ht_score,
           r.stats, r.referee, ${m.startAt})
    returning ${m.id}::text as id`);
  const rewritten = new Set(updated.rows.map((r) => r.id));
  const distinctIds = new Set(ids);
  counts.matches.inserted = created.size;
  counts.matches.updated = [...rewritten].filter((id) => !created.has(id)).length;
  counts.matches.unchanged = distinctIds.size - counts.matches.inserted - counts.matches.updated;
  counts.changedMatchIds = [...new Set([...created, ...rewritten])];
  const [providers] = await db
    .select({ n: count() })
    .from(matches)
    .where(and(anyOf(matches.id, [...distinctIds]), ne(matches.provider, FOOTBALL_DATA_PROVIDER)));
  counts.matches.resolvedToOtherProvider = providers?.n ?? 0;

  counts.odds = await syncOdds(db, rows.odds, resolved.matchIds);
  return counts;
}

/** The archive's sport's id as a scalar subquery, for inserted rows' sport_id. */
const footballSportId = (db: PgDb) => sql`${db.select({ id: sports.id }).from(sports).where(eq(sports.key, FOOTBALL_DATA_SPORT))}`;

/**
 * Provider spelling → canonical team, through team_aliases: data/sports/soccer.json's `football-data` aliases,
 * which db:migrate loaded. A name never seen before becomes a keyless team of its own with an alias (an unseen
 * league imports without preparation); declaring it in the data file later adopts that team (seedSport).
 */
async function ensureTeams(db: PgDb, names: string[]): Promise<number> {
  const known = await db
    .select({ alias: teamAliases.alias })
    .from(teamAliases)
    .where(and(eq(teamAliases.provider, FOOTBALL_DATA_PROVIDER), anyOf(teamAliases.alias, names)));
  const have = new Set(known.map((r) => r.alias));
  // Sorted, as the alias seed's are, so two writers meet the unique index in one order rather than deadlocking.
  const missing = names.filter((n) => !have.has(n)).sort();
  if (missing.length === 0) return 0;
  const created = await db
    .insert(teams)
    .values(missing.map((name) => ({ sportId: footballSportId(db), name })))
    .onConflictDoNothing({ target: [teams.sportId, teams.name] });
  // Each name's alias points at the team of that name: INSERT ... SELECT over unnest of the names joined to
  // the teams, which the builder's insert ... select cannot select from.
  await db.execute(sql`
    insert into ${teamAliases} (${bare(teamAliases.teamId)}, ${bare(teamAliases.provider)}, ${bare(teamAliases.alias)})
    select ${teams.id}, ${FOOTBALL_DATA_PROVIDER}, n from unnest(${pgArray(missing, 'text')}) as n
    join ${sports} on ${sports.key} = ${FOOTBALL_DATA_SPORT} join ${teams} on ${teams.sportId} = ${sports.id} and ${teams.name} = n
    on conflict (${bare(teamAliases.provider)}, ${bare(teamAliases.alias)}) do nothing`);
  return created.rowCount ?? 0;
}

/**
 * New prices through writeOdds; a price the site has since corrected (same snapshot, another value) is
 * updated in place. Comparing with what is stored first costs one indexed read per call instead of a
 * conflict per row, and counts inserted, corrected and unchanged prices exactly.
 */
async function syncOdds(db: PgDb, odds: readonly FootballDataOddsRow[], matchIds: Map<string, string>): Promise<WriteCounts> {
  const counts = emptyCounts();
  const rows: ResolvedOddsRow[] = [];
  for (const o of odds) {
    const matchId = matchIds.get(o.eventId);
    if (matchId === undefined) continue;
    rows.push({ matchId, bookmaker: o.bookmaker, market: o.market, outcome: o.outcome, point: o.point, price: o.price, phase: o.phase, capturedAt: o.capturedAt });
  }
  if (rows.length === 0) return counts;

  let first = Infinity;
  let last = -Infinity;
  for (const r of rows) {
    const t = r.capturedAt.getTime();
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const o = oddsSnapshots;
  const stored = await db
    .select({
      // The natural key as one string, built by the server so that point and instant print as the JS side does.
      key: sql<string>`concat_ws('|', ${o.matchId}, ${o.bookmaker}, ${o.market}, ${o.outcome}, coalesce(${o.point}::float8::text, ''),
                                 (extract(epoch from ${o.capturedAt}) * 1000)::bigint)`,
      price: sql<number>`${o.price}::float8`.mapWith(Number),
      phase: o.phase,
    })
    .from(o)
    .where(
      and(
        eq(o.provider, FOOTBALL_DATA_PROVIDER),
        anyOf(o.matchId, [...new Set(rows.map((r) => String(r.matchId)))]),
        between(o.capturedAt, new Date(first), new Date(last)),
      ),
    );
  const existing = new Map(stored.map((r) => [r.key, { price: r.price, phase: r.phase }]));
  const toInsert: ResolvedOddsRow[] = [];
  const toUpdate: ResolvedOddsRow[] = [];
  for (const r of rows) {
    const key = [r.matchId, r.bookmaker, r.market, r.outcome, r.point === null ? '' : String(r.point), r.capturedAt.getTime()].join('|');
    const before = existing.get(key);
    if (!before) toInsert.push(r);
    else if (before.price !== Math.round(r.price * 1000) / 1000 || before.phase !== r.phase) toUpdate.push(r);
  }

  if (toInsert.length > 0) counts.inserted = (await writeOddsInTransaction(db, FOOTBALL_DATA_PROVIDER, toInsert)).inserted;
  for (let start = 0; start < toUpdate.length; start += 5000) {
    const batch = toUpdate.slice(start, start + 5000);
    // A corrected price per row: UPDATE ... FROM unnest of the corrections (one value per row, which the builder's
    // update cannot give), matched on the natural key with point compared NULL-safely as the unique key does.
    const result = await db.execute(sql`
      update ${o} set ${bare(o.price)} = r.price, ${bare(o.phase)} = r.phase, ${bare(o.ingestedAt)} = now()
      from unnest(${pgArray(batch.map((b) => String(b.matchId)), 'bigint')}, ${pgArray(batch.map((b) => b.bookmaker), 'text')},
                  ${pgArray(batch.map((b) => b.market), 'text')}, ${pgArray(batch.map((b) => b.outcome), 'text')}, ${pgArray(batch.map((b) => b.point), 'numeric')},
                  ${pgArray(batch.map((b) => b.price), 'numeric')}, ${pgArray(batch.map((b) => b.phase), 'text')},
                  ${pgArray(batch.map((b) => b.capturedAt.toISOString()), 'timestamptz')})
           as r(match_id, bookmaker, market, outcome, point, price, phase, captured_at)
      where ${o.matchId} = r.match_id and ${o.provider} = ${FOOTBALL_DATA_PROVIDER} and ${o.bookmaker} = r.bookmaker and ${o.market} = r.market
        and ${o.outcome} = r.outcome and ${o.point} is not distinct from r.point and ${o.capturedAt} = r.captured_at`);
    counts.updated += result.rowCount ?? 0;
  }
  counts.unchanged = rows.length - counts.inserted - counts.updated;
  return counts;
}
