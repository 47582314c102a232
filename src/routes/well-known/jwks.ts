import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const JwksSchema = z
  .object({
    keys: z.array(
      z.object({ kty: z.literal('RSA'), kid: z.string(), alg: z.literal('RS256'), use: z.literal('sig'), n: z.string(), e: z.string() }).openapi('Jwk'),
    ),
  })
  .openapi('Jwks');

const route = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  tags: ['auth'],
  operationId: 'getJwks',
  security: PUBLIC,
  summary: 'Public keys that verify access tokens (several during a key rotation)',
  responses: { 200: json(JwksSchema, 'JSON Web Key Set'), ...problemResponses(429) },
});

export const registerGetJwks = (app: App) =>
  app.openapi(route, async (c) => {
    const { jwks } = await c.get('services').signingKeys();
    c.header('cache-control', 'public, max-age=300');
    return c.json(jwks as z.infer<typeof JwksSchema>, 200);
  });
