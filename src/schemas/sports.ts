import { z } from '@hono/zod-openapi';
import { idParam } from './common';

export const SportSchema = z
  .object({
    id: z.number().int().openapi({ example: 1 }),
    key: z.string().openapi({ example: 'soccer' }),
    name: z.string().openapi({ example: 'Soccer' }),
  })
  .openapi('Sport');

export const TeamSchema = z
  .object({
    id: z.number().int().openapi({ example: 7 }),
    name: z.string().openapi({ example: 'Arsenal' }),
  })
  .openapi('Team');

export const SportIdParams = z.object({
  sportId: idParam('The sport id, from GET /sports').openapi({ param: { name: 'sportId', in: 'path' } }),
});
