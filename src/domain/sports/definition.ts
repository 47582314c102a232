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
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

/**
 * Where games are played, for the travel features (great-circle distance between venues). `from` is the first
 * day the venue applies (inclusive), `to` the day it no longer does (exclusive); either may be absent (open).
 */
const venueFields = {
  name,
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  from: day.optional(),
  to: day.optional(),
};
const ordered = (v: { from?: string; to?: string }) => v.from === undefined || v.to === undefined || v.from < v.to;
const venueSchema = z.strictObject(venueFields).refine(ordered, { message: '"from" must be before "to"' });

/** The periods of arenas must not overlap: on any date a team has one home venue. */
function overlapping(venues: ReadonlyArray<{ from?: string; to?: string }>): boolean {
  const sorted = [...venues].sort((a, b) => ((a.from ?? '') < (b.from ?? '') ? -1 : 1));
  for (let i = 1; i < sorted.length; i++) {
    const previousEnd = sorted[i - 1]!.to;
    if (previousEnd === undefined || (sorted[i]!.from ?? '') < previousEnd) return true;
  }
  return false;
}

/** The Odds API's markets the odds writer stores, and its regions (docs/the-odds-api-v4). */
export const LIVE_MARKETS = ['h2h', 'spreads', 'totals'] as const;
export const LIVE_REGIONS = ['us', 'us2', 'uk', 'eu', 'au'] as const;

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not an IANA time zone' },
);

/**
 * How the live provider polls this sport's competitions: what an /odds call asks for (its cost is markets ×
 * regions) and how the resolver joins a live fixture to a match the history already has.
 */
const liveSchema = z.strictObject({
  markets: z
    .array(z.enum(LIVE_MARKETS))
    .min(1)
    .refine((m) => new Set(m).size === m.length, { message: 'a market is listed twice' }),
  /**
   * Absent: the Worker's ODDS_API_REGIONS (football's, so an operator can trade bookmakers for credits without
   * editing data).
   */
  regions: z
    .array(z.enum(LIVE_REGIONS))
    .min(1)
    .refine((r) => new Set(r).size === r.length, { message: 'a region is listed twice' })
    .optional(),
  /**
   * A live fixture joins a timed match of the same two teams within ± this many hours. Keep it under the
   * shortest gap between two games of the same pair (NBA: consecutive days, so well under 24).
   */
  matchWindowHours: z.number().positive().max(72),
  /**
   * A date-only history match (start_time_known false, stored at 00:00 UTC of its date) joins the live fixture
   * whose tip-off falls on that date in this time zone, instead of the hour window.
   */
  dateTimeZone: timeZone.optional(),
});

/** `provider:spelling` of every alias, for the uniqueness checks below. */
const providerSpellings = (aliases: Record<string, string[]>) =>
  Object.entries(aliases).flatMap(([provider, spellings]) => spellings.map((a) => `${provider}:${a}`));

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
          /**
           * Provider → that provider's codes for this competition (football-data's division `E0`), for an
           * importer whose archive names competitions its own way. Not stored: importers read them from the file.
           */
          aliases: z.record(providerLabel, z.array(name).min(1)).optional(),
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
          /**
           * The team's home arenas over time (optional; the NBA feature builder's travel distances need them).
           * A relocation is a new arena from its first season: Seattle's KeyArena to 2008, then Oklahoma City.
           */
          arenas: z
            .array(venueSchema)
            .min(1)
            .refine((a) => !overlapping(a), { message: 'two arenas of one team overlap in time' })
            .optional(),
        }),
      )
      .min(2),
    /**
     * The h2h outcomes of a complete book: `["home", "away"]` for a sport without draws (basketball's
     * moneyline). Absent: `["home", "draw", "away"]`, a book with a draw.
     */
    h2hOutcomes: z.union([z.tuple([z.literal('home'), z.literal('away')]), z.tuple([z.literal('home'), z.literal('draw'), z.literal('away')])]).optional(),
    /**
     * Periods when a competition's games were played at one neutral site (the NBA's 2019/20 restart at Walt
     * Disney World): "home" there is only a label, with no home advantage and no home travel.
     */
    neutralSites: z
      .array(z.strictObject({ competition: slug, ...venueFields, from: day, to: day }).refine(ordered, { message: '"from" must be before "to"' }))
      .optional(),
    /** Live polling per provider (`the-odds-api`); without it, the defaults of src/domain/sports/catalog.ts. */
    live: z.strictObject({ 'the-odds-api': liveSchema }).partial().optional(),
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
    duplicates(def.competitions.flatMap((c) => providerSpellings(c.aliases ?? {})), 'competitions.aliases');
    for (const site of def.neutralSites ?? []) {
      if (!def.competitions.some((c) => c.key === site.competition)) {
        ctx.addIssue({ code: 'custom', message: `neutral site of an undeclared competition "${site.competition}"`, path: ['neutralSites'] });
      }
    }
    duplicates(def.teams.map((t) => t.key), 'teams.key');
    duplicates(def.teams.map((t) => t.name), 'teams.name');
    // One spelling of one provider names one team: otherwise a resolver could not tell which.
    duplicates(def.teams.flatMap((t) => providerSpellings(t.aliases)), 'teams.aliases');
  });

export type SportDefinition = z.infer<typeof sportDefinitionSchema>;
export type LiveSettings = z.infer<typeof liveSchema>;

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

/**
 * Each `from` spelling of a team → the team's first `to` spelling: how one provider names the team another
 * provider calls `from` (football-data's `Man City` → The Odds API's `Manchester City`). Teams without a `to`
 * spelling are left out.
 */
export function spellingsBetween(def: SportDefinition, from: string, to: string): Map<string, string> {
  return new Map(def.teams.flatMap((t) => (t.aliases[to]?.[0] === undefined ? [] : (t.aliases[from] ?? []).map((a) => [a, t.aliases[to]![0]!] as const))));
}
