import { z } from '@hono/zod-openapi';
import { API_KEY_SCOPES, ROLES, TIERS } from '../db/schema';
import type { ApiKeySummary } from '../services/auth/api-keys';

export const Credentials = z
  .object({
    email: z.email('must be an email address').max(254).openapi({ example: 'ada@example.com' }),
    password: z.string().min(1, 'is required').max(1024).openapi({ example: 'correct horse battery staple' }),
  })
  .openapi('Credentials');

export const RefreshRequest = z
  .object({ refreshToken: z.string().min(1, 'is required').max(4096).openapi({ example: 'rt_4p0x...' }) })
  .openapi('RefreshRequest');

export const TokenPairSchema = z
  .object({
    accessToken: z.string().openapi({ description: 'RS256 JWT (typ at+jwt), 15 minutes' }),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().openapi({ example: 900 }),
    refreshToken: z.string().openapi({ description: 'Opaque; rotated on every use; 30 days' }),
    refreshExpiresIn: z.number().int().openapi({ example: 2592000 }),
  })
  .openapi('TokenPair');

export const ProfileSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    tier: z.enum(TIERS),
    role: z.enum(ROLES),
    createdAt: z.string().datetime(),
  })
  .openapi('Profile');

export const toProfileJson = (p: { id: string; email: string; tier: (typeof TIERS)[number]; role: (typeof ROLES)[number]; createdAt: Date }) => ({
  id: p.id,
  email: p.email,
  tier: p.tier,
  role: p.role,
  createdAt: p.createdAt.toISOString(),
});

export const UsageSchema = z
  .object({
    requestsInWindow: z.number().int().openapi({ description: 'Requests counted in the last 60 s' }),
    requestsPerMinute: z.number().int().openapi({ description: 'Your limit per minute, RATE_LIMIT_SCALE included: what RateLimit-Limit says' }),
    predictionsToday: z.number().int().openapi({ description: 'Distinct matches with predictions read today (UTC)' }),
    dailyPredictionQuota: z.number().int().nullable().openapi({ description: 'null: unlimited' }),
  })
  .openapi('Usage');

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ example: 'sk_1a2b3c4d' }),
    createdAt: z.string().datetime(),
    lastUsedAt: z.string().datetime().nullable(),
    scopes: z.array(z.enum(API_KEY_SCOPES)).openapi({
      description:
        'What the key may do: `read` (data and your profile), `predictions` (predictions and the value finder), `account` (manage API keys, delete the account). Admin routes never accept a key.',
      example: ['read', 'predictions'],
    }),
    expiresAt: z.string().datetime().nullable().openapi({ description: 'After this instant the key is refused; null: it never expires' }),
  })
  .openapi('ApiKey');

export const toApiKeyJson = (k: ApiKeySummary) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  scopes: k.scopes,
  expiresAt: k.expiresAt?.toISOString() ?? null,
});

export const SECURITY: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyAuth: [] }];

/**
 * The `security` of a public operation: explicitly none. Without it a generator or linter cannot tell a public
 * operation from one that forgot to declare its credentials (Redocly's security-defined rule).
 */
export const PUBLIC: Array<Record<string, string[]>> = [];
