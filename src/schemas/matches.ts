import { z } from '@hono/zod-openapi';
import { MATCH_STATUSES } from '../db/schema';
import { idParam, IsoInstant, orNull } from './common';
import { TeamSchema } from './sports';

export const MatchStatusSchema = z.enum(MATCH_STATUSES).openapi('MatchStatus');

export const MatchIdParams = z.object({
  matchId: idParam('The match id', 1234).openapi({ param: { name: 'matchId', in: 'path' } }),
});

const GoalsSchema = z.object({ home: z.number().int(), away: z.number().int() }).openapi('Goals');

const ScoreSchema = z
  .object({
    fullTime: GoalsSchema,
    halfTime: orNull(GoalsSchema).openapi({ description: 'Null when the provider did not report it' }),
  })
  .openapi('Score');

const SideStatisticsSchema = z
  .object({
    shots: z.number().int().nullable(),
    shotsOnTarget: z.number().int().nullable(),
    corners: z.number().int().nullable(),
    fouls: z.number().int().nullable(),
    yellowCards: z.number().int().nullable(),
    redCards: z.number().int().nullable(),
  })
  .openapi('SideStatistics', { description: 'A null field was not reported by the provider' });

export const MatchStatisticsSchema = z
  .object({ home: SideStatisticsSchema, away: SideStatisticsSchema })
  .openapi('MatchStatistics');

export const CompetitionRefSchema = z
  .object({
    id: z.number().int().openapi({ example: 1 }),
    key: z.string().openapi({ example: 'soccer_epl' }),
    name: z.string().openapi({ example: 'Premier League' }),
  })
  .openapi('CompetitionRef');

export const MatchSchema = z
  .object({
    id: z.number().int().openapi({ example: 1234 }),
    sportId: z.number().int().openapi({ example: 1 }),
    competition: CompetitionRefSchema,
    season: z.string().nullable().openapi({ example: '2023-24' }),
    homeTeam: TeamSchema,
    awayTeam: TeamSchema,
    status: MatchStatusSchema,
    startAt: IsoInstant.openapi({ description: 'Kick-off, UTC. Midnight UTC of the match day when `startTimeKnown` is false.' }),
    startTimeKnown: z.boolean().openapi({ description: 'False when the provider gave only the date' }),
    score: orNull(ScoreSchema).openapi({ description: 'Null until the match has a result' }),
    statistics: orNull(MatchStatisticsSchema).openapi({ description: 'Null when the provider reported none' }),
    referee: z.string().nullable().openapi({ example: 'C Pawson' }),
  })
  .openapi('Match');

export type Match = z.infer<typeof MatchSchema>;
