// football-data rows → matches, results, statistics and odds, for the history importer (Node) and the daily
// CSV job (Worker) alike. Matches go through the resolver, so a match the live provider created days ago (its
// own event id, a kick-off within the window) receives the CSV's result, statistics and prices instead of
// getting a twin; new odds go through the one odds write path. Call inside one transaction.
import { competitionForDivision } from '../../providers/football-data/competitions';
import {
  FOOTBALL_DATA_PROVIDER,
  type FootballDataFixture,
  type FootballDataOddsRow,
  type FootballDataResult,
} from '../../providers/football-data/provider';
import { resolveFixtures } from './match-resolver';
import { writeOddsInTransaction, type ResolvedOddsRow } from './odds-writer';
import type { SqlQuery } from './sql';

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

export async function syncFootballData(query: SqlQuery, rows: FootballDataRows): Promise<FootballDataSyncCounts> {
  const counts: FootballDataSyncCounts = {
    teamsCreated: 0,
    matches: { ...emptyCounts(), resolvedToOtherProvider: 0 },
    odds: emptyCounts(),
    changedMatchIds: [],
  };
  const fixtures = rows.fixtures;
  if (fixtures.length === 0) return counts;

  await query(`insert into sports (key, name) values ('soccer', 'Soccer') on conflict (key) do nothing`, []);
  const divisions = [...new Set(fixtures.map((f) => f.division))].map(competitionForDivision);
  // A competition the live resolver created first is named by its key; the CSV's division table names it.
  await query(
    `insert into competitions (sport_id, key, name, country)
     select s.id, c.key, c.name, c.country from unnest($1::text[], $2::text[], $3::text[]) as c(key, name, country)
     cross join sports s where s.key = 'soccer'
     on conflict (key) do update set name = excluded.name, country = excluded.country
     where competitions.name = competitions.key`,
    [divisions.map((d) => d.key), divisions.map((d) => d.name), divisions.map((d) => d.country)],
  );

  counts.teamsCreated = await ensureTeams(query, [...new Set(fixtures.flatMap((f) => [f.homeTeam, f.awayTeam]))]);

  const resolved = await resolveFixtures(query, fixtures, { provider: FOOTBALL_DATA_PROVIDER });
  const created = new Set<string>();
  for (const r of resolved.resolutions) if (r.status === 'created') created.add(r.matchId);

  // The row's data onto its match, whoever created it. Rewritten only where something differs, so a re-run
  // touches nothing. A date-only CSV kick-off never replaces a known one (the live feed's is exact); a match
  // the resolver has just created (`fresh`) takes the row's kick-off as it is.
  const resultByEvent = new Map(rows.results.map((r) => [r.eventId, r]));
  const ordered = fixtures.filter((f) => resolved.matchIds.has(f.eventId));
  const ids = ordered.map((f) => resolved.matchIds.get(f.eventId)!);
  const result = (f: FootballDataFixture) => resultByEvent.get(f.eventId);
  const updated = await query(
    `update matches m set
       competition_id = c.id, season = r.season,
       start_at = case when r.fresh or r.start_time_known or not m.start_time_known then r.start_at else m.start_at end,
       start_time_known = case when r.fresh then r.start_time_known else m.start_time_known or r.start_time_known end,
       status = r.status, home_score = r.home_score, away_score = r.away_score, home_ht_score = r.home_ht_score,
       away_ht_score = r.away_ht_score, stats = r.stats, referee = r.referee, updated_at = now()
     from unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::bool[], $6::text[], $7::int[], $8::int[],
                 $9::int[], $10::int[], $11::jsonb[], $12::text[], $13::bool[])
          as r(id, competition, season, start_at, start_time_known, status, home_score, away_score, home_ht_score,
               away_ht_score, stats, referee, fresh)
     join competitions c on c.key = r.competition
     where m.id = r.id
       and (m.competition_id, m.season, case when r.fresh then r.start_time_known else m.start_time_known or r.start_time_known end,
            m.status, m.home_score, m.away_score, m.home_ht_score, m.away_ht_score, m.stats, m.referee,
            case when r.fresh or r.start_time_known or not m.start_time_known then r.start_at else m.start_at end)
           is distinct from
           (c.id, r.season, m.start_time_known, r.status, r.home_score, r.away_score, r.home_ht_score, r.away_ht_score,
            r.stats, r.referee, m.start_at)
     returning m.id::text as id, m.provider`,
    [
      ids,
      ordered.map((f) => f.competitionKey),
      ordered.map((f) => f.season),
      ordered.map((f) => f.commenceTime.toISOString()),
      ordered.map((f) => f.startTimeKnown),
      ordered.map((f) => (result(f)?.completed ? 'finished' : 'scheduled')),
      ordered.map((f) => result(f)?.homeScore ?? null),
      ordered.map((f) => result(f)?.awayScore ?? null),
      ordered.map((f) => result(f)?.homeHalfTimeScore ?? null),
      ordered.map((f) => result(f)?.awayHalfTimeScore ?? null),
      ordered.map((f) => {
        const stats = result(f)?.stats;
        return stats ? JSON.stringify(stats) : null;
      }),
      ordered.map((f) => result(f)?.referee ?? null),
      ids.map((id) => created.has(id)),
    ],
  );
  const rewritten = new Set(updated.rows.map((r) => String(r.id)));
  const distinctIds = new Set(ids);
  counts.matches.inserted = created.size;
  counts.matches.updated = [...rewritten].filter((id) => !created.has(id)).length;
  counts.matches.unchanged = distinctIds.size - counts.matches.inserted - counts.matches.updated;
  counts.changedMatchIds = [...new Set([...created, ...rewritten])];
  const providers = await query(`select count(*)::int as n from matches where id = any($1::bigint[]) and provider <> $2`, [
    [...distinctIds],
    FOOTBALL_DATA_PROVIDER,
  ]);
  counts.matches.resolvedToOtherProvider = Number(providers.rows[0]!.n);

  counts.odds = await syncOdds(query, rows.odds, resolved.matchIds);
  return counts;
}

/**
 * Provider spelling → canonical team, through team_aliases. football-data names the history, so a name never
 * seen before becomes a team of its own with an alias (an unseen league imports without preparation); merging
 * two spellings of one club is an alias update, not an import change.
 */
async function ensureTeams(query: SqlQuery, names: string[]): Promise<number> {
  const known = await query(`select alias from team_aliases where provider = $1 and alias = any($2::text[])`, [FOOTBALL_DATA_PROVIDER, names]);
  const have = new Set(known.rows.map((r) => String(r.alias)));
  // Sorted, as the alias seed's are, so two writers meet the unique index in one order rather than deadlocking.
  const missing = names.filter((n) => !have.has(n)).sort();
  if (missing.length === 0) return 0;
  const created = await query(
    `insert into teams (sport_id, name) select s.id, n from unnest($1::text[]) as n cross join sports s where s.key = 'soccer'
     on conflict (sport_id, name) do nothing`,
    [missing],
  );
  await query(
    `insert into team_aliases (team_id, provider, alias)
     select t.id, $2, n from unnest($1::text[]) as n join sports s on s.key = 'soccer' join teams t on t.sport_id = s.id and t.name = n
     on conflict (provider, alias) do nothing`,
    [missing, FOOTBALL_DATA_PROVIDER],
  );
  return created.rowCount ?? 0;
}

/**
 * New prices through writeOdds; a price the site has since corrected (same snapshot, another value) is
 * updated in place. Comparing with what is stored first costs one indexed read per call instead of a
 * conflict per row, and counts inserted, corrected and unchanged prices exactly.
 */
async function syncOdds(query: SqlQuery, odds: readonly FootballDataOddsRow[], matchIds: Map<string, string>): Promise<WriteCounts> {
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
  const stored = await query(
    `select concat_ws('|', match_id, bookmaker, market, outcome, coalesce(point::float8::text, ''),
                      (extract(epoch from captured_at) * 1000)::bigint) as key, price::float8 as price, phase
     from odds_snapshots
     where provider = $1 and match_id = any($2::bigint[]) and captured_at between $3 and $4`,
    [FOOTBALL_DATA_PROVIDER, [...new Set(rows.map((r) => String(r.matchId)))], new Date(first).toISOString(), new Date(last).toISOString()],
  );
  const existing = new Map(stored.rows.map((r) => [String(r.key), { price: Number(r.price), phase: String(r.phase) }]));
  const toInsert: ResolvedOddsRow[] = [];
  const toUpdate: ResolvedOddsRow[] = [];
  for (const r of rows) {
    const key = [r.matchId, r.bookmaker, r.market, r.outcome, r.point === null ? '' : String(r.point), r.capturedAt.getTime()].join('|');
    const before = existing.get(key);
    if (!before) toInsert.push(r);
    else if (before.price !== Math.round(r.price * 1000) / 1000 || before.phase !== r.phase) toUpdate.push(r);
  }

  if (toInsert.length > 0) counts.inserted = (await writeOddsInTransaction(query, FOOTBALL_DATA_PROVIDER, toInsert)).inserted;
  for (let start = 0; start < toUpdate.length; start += 5000) {
    const batch = toUpdate.slice(start, start + 5000);
    const result = await query(
      `update odds_snapshots s set price = o.price, phase = o.phase, ingested_at = now()
       from unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::text[], $9::timestamptz[])
            as o(match_id, bookmaker, market, outcome, point, price, phase, captured_at)
       where s.match_id = o.match_id and s.provider = $1 and s.bookmaker = o.bookmaker and s.market = o.market
         and s.outcome = o.outcome and s.point is not distinct from o.point and s.captured_at = o.captured_at`,
      [
        FOOTBALL_DATA_PROVIDER,
        batch.map((o) => String(o.matchId)),
        batch.map((o) => o.bookmaker),
        batch.map((o) => o.market),
        batch.map((o) => o.outcome),
        batch.map((o) => o.point),
        batch.map((o) => o.price),
        batch.map((o) => o.phase),
        batch.map((o) => o.capturedAt.toISOString()),
      ],
    );
    counts.updated += result.rowCount ?? 0;
  }
  counts.unchanged = rows.length - counts.inserted - counts.updated;
  return counts;
}
