// A sport as data: the shape of data/sports/<sport>.json (docs/sports.md). One file declares a sport, its
// competitions, its teams and every provider's spelling of each team; the seeding step
// (src/services/sport-definitions.ts) loads it into sports, competitions, teams and team_aliases. Pure: no
// I/O, so Node reads the files and a Worker could import them as JSON modules.
import { z } from 'zod';

export const SPORT_DEFINITION_FORMAT = 'senzu-sport/1';

/** `basketball`, `basketball_nba`, `okc`: lower-case words joined by `_` (The Odds API's sport keys fit). */
const slug = z.string().regex(/^[a-z0-9]+(?:_[a-z0-9]+)*$/, 'lower-case letters, digits and "_"');
/** A provider label as used in team_aliases.provider and odds_snapshots.provider: `the-odds-api`, `sbr-nba`. */
const providerLabel = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case letters, digits and "-"');
const name = z.string().trim().min(1).max(200);

export const sportDefinitionSchema = z
  .strictObject({
    format: z.literal(SPORT_DEFINITION_FORMAT),
    /** sports.key: The Odds API's group prefix (`soccer`, `basketball`, `americanfootball`). */
    key: slug,
    name,
    competitions: z
      .array(
        z.strictObject({
          /** competitions.key: The Odds API's sport key, so the live feed's fixtures land in the same competition. */
          key: slug,
          name,
          country: name.nullable().optional(),
        }),
      )
      .min(1),
    teams: z
      .array(
        z.strictObject({
          /** teams.key: stable across renames and relocations (the data's franchise code). */
          key: slug,
          /** The current name, shown by the API. */
          name,
          /**
           * Provider → that provider's spellings of this team (team_aliases). `former-name` holds names the
           * franchise used to have (Seattle SuperSonics): they name the same team, so history follows it.
           */
          aliases: z.record(providerLabel, z.array(name).min(1)),
        }),
      )
      .min(2),
  })
  .superRefine((def, ctx) => {
    const duplicates = (values: string[], path: string) => {
      const seen = new Set<string>();
      for (const v of values) {
        if (seen.has(v)) ctx.addIssue({ code: 'custom', message: `${path} "${v}" is declared twice`, path: [path] });
        seen.add(v);
      }
    };
    duplicates(def.competitions.map((c) => c.key), 'competitions.key');
    duplicates(def.teams.map((t) => t.key), 'teams.key');
    duplicates(def.teams.map((t) => t.name), 'teams.name');
    // One spelling of one provider names one team: otherwise a resolver could not tell which.
    duplicates(
      def.teams.flatMap((t) => Object.entries(t.aliases).flatMap(([provider, aliases]) => aliases.map((a) => `${provider}:${a}`))),
      'teams.aliases',
    );
  });

export type SportDefinition = z.infer<typeof sportDefinitionSchema>;

/** Validates a parsed data file; the error names the file and every problem with its path. */
export function parseSportDefinition(value: unknown, source: string): SportDefinition {
  const result = sportDefinitionSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`${source}: not a sport definition (${SPORT_DEFINITION_FORMAT}): ${problems.join('; ')}`);
}

/** The team_aliases rows a definition declares, in a stable order. */
export function aliasRows(def: SportDefinition): Array<{ teamKey: string; provider: string; alias: string }> {
  return def.teams
    .flatMap((t) => Object.entries(t.aliases).flatMap(([provider, aliases]) => aliases.map((alias) => ({ teamKey: t.key, provider, alias }))))
    .sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
}
