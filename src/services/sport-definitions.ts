// Loads a sport's data file (src/domain/sports/definition.ts) into sports, competitions, teams and
// team_aliases. Idempotent: a second run changes nothing and reports zeros. The data file is the truth for
// what it declares (names, countries, which team an alias names); rows it does not declare are left alone, so
// an alias dropped from the file stays (history imported through it keeps resolving). Driver-neutral drizzle:
// db:migrate runs it over node-postgres (scripts/lib/migrate.ts), and a Worker could run it over Neon.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { competitions, sports, teamAliases, teams } from '../db/schema';
import { aliasRows, type SportDefinition } from '../domain/sports/definition';

/** Any drizzle Postgres database, whatever its driver and schema: the seed names its tables itself. */
export type AnyPgDatabase = PgDatabase<PgQueryResultHKT, any>;

export interface SportSeedCounts {
  sport: string;
  sportCreated: boolean;
  competitionsCreated: number;
  competitionsUpdated: number;
  teamsCreated: number;
  /** Teams renamed, or given their key (a team created before the data file knew it). */
  teamsUpdated: number;
  aliasesCreated: number;
  /** Aliases that named another team and now name the one the file says. */
  aliasesMoved: number;
}

// The `sql` template below is for what drizzle's builder has no term for: `excluded.<column>` and
// `IS DISTINCT FROM` in an upsert, and `xmax = 0`, which tells an inserted row from an updated one in RETURNING.
/** True for a row the statement inserted, false for one it updated (see above). */
const inserted = sql<boolean>`(xmax = 0)`;

export async function seedSport(db: AnyPgDatabase, def: SportDefinition): Promise<SportSeedCounts> {
  return db.transaction(async (tx) => {
    const counts: SportSeedCounts = {
      sport: def.key,
      sportCreated: false,
      competitionsCreated: 0,
      competitionsUpdated: 0,
      teamsCreated: 0,
      teamsUpdated: 0,
      aliasesCreated: 0,
      aliasesMoved: 0,
    };

    const [sport] = await tx
      .insert(sports)
      .values({ key: def.key, name: def.name })
      .onConflictDoUpdate({
        target: sports.key,
        set: { name: def.name, updatedAt: sql`now()` },
        setWhere: sql`${sports.name} is distinct from excluded.name`,
      })
      .returning({ id: sports.id, created: inserted });
    let sportId = sport?.id;
    counts.sportCreated = sport?.created ?? false;
    if (sportId === undefined) {
      const [row] = await tx.select({ id: sports.id }).from(sports).where(eq(sports.key, def.key));
      sportId = row!.id;
    }

    // A competition the live resolver created from a fixture first (named by its key) takes the file's name.
    const competitionRows = await tx
      .insert(competitions)
      .values(def.competitions.map((c) => ({ sportId: sportId!, key: c.key, name: c.name, country: c.country ?? null })))
      .onConflictDoUpdate({
        target: competitions.key,
        set: { sportId: sql`excluded.sport_id`, name: sql`excluded.name`, country: sql`excluded.country`, updatedAt: sql`now()` },
        setWhere: sql`(${competitions.sportId}, ${competitions.name}, ${competitions.country}) is distinct from (excluded.sport_id, excluded.name, excluded.country)`,
      })
      .returning({ created: inserted });
    counts.competitionsCreated = competitionRows.filter((r) => r.created).length;
    counts.competitionsUpdated = competitionRows.length - counts.competitionsCreated;

    // Which stored team each declared team is: by its key; else the team one of its aliases already names (a
    // team the resolver or an importer made before the file declared it); else a keyless team of the same name.
    const aliases = aliasRows(def);
    const stored = await tx.select({ id: teams.id, key: teams.key, name: teams.name }).from(teams).where(eq(teams.sportId, sportId));
    const owners = await tx
      .select({ teamId: teamAliases.teamId, provider: teamAliases.provider, alias: teamAliases.alias })
      .from(teamAliases)
      .innerJoin(teams, eq(teams.id, teamAliases.teamId))
      .where(and(eq(teams.sportId, sportId), inArray(teamAliases.alias, [...new Set(aliases.map((a) => a.alias))])));
    const byKey = new Map(stored.filter((t) => t.key !== null).map((t) => [t.key!, t]));
    const byId = new Map(stored.map((t) => [t.id, t]));
    const keylessByName = new Map(stored.filter((t) => t.key === null).map((t) => [t.name, t]));
    const ownerOf = new Map(owners.map((o) => [`${o.provider}\u0000${o.alias}`, o.teamId]));

    const teamIdByKey = new Map<string, number>();
    const toInsert: Array<{ sportId: number; key: string; name: string }> = [];
    for (const team of def.teams) {
      let match = byKey.get(team.key);
      if (!match) {
        for (const a of aliases) {
          if (a.teamKey !== team.key) continue;
          const owner = byId.get(ownerOf.get(`${a.provider}\u0000${a.alias}`) ?? -1);
          if (owner && owner.key === null) {
            match = owner;
            break;
          }
        }
      }
      match ??= keylessByName.get(team.name);
      if (!match) {
        toInsert.push({ sportId, key: team.key, name: team.name });
        continue;
      }
      teamIdByKey.set(team.key, match.id);
      if (match.key !== team.key || match.name !== team.name) {
        await tx.update(teams).set({ key: team.key, name: team.name, updatedAt: sql`now()` }).where(eq(teams.id, match.id));
        counts.teamsUpdated++;
      }
    }
    if (toInsert.length > 0) {
      const created = await tx.insert(teams).values(toInsert).returning({ id: teams.id, key: teams.key });
      for (const t of created) teamIdByKey.set(t.key!, t.id);
      counts.teamsCreated = created.length;
    }

    const aliasResult = await tx
      .insert(teamAliases)
      .values(aliases.map((a) => ({ teamId: teamIdByKey.get(a.teamKey)!, provider: a.provider, alias: a.alias })))
      .onConflictDoUpdate({
        target: [teamAliases.provider, teamAliases.alias],
        set: { teamId: sql`excluded.team_id` },
        setWhere: sql`${teamAliases.teamId} <> excluded.team_id`,
      })
      .returning({ created: inserted });
    counts.aliasesCreated = aliasResult.filter((r) => r.created).length;
    counts.aliasesMoved = aliasResult.length - counts.aliasesCreated;
    return counts;
  });
}

/** Every definition, one transaction each, in the order given. */
export async function seedSports(db: AnyPgDatabase, defs: readonly SportDefinition[]): Promise<SportSeedCounts[]> {
  const results: SportSeedCounts[] = [];
  for (const def of defs) results.push(await seedSport(db, def));
  return results;
}
