import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireTier } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { MatchIdParams } from '../../schemas/matches';
import { issueLiveTicket, LIVE_TICKET_TTL_SECONDS } from '../../services/live-tickets';
import type { App } from '../../types';

export const LiveTicketSchema = z
  .object({
    ticket: z.string().openapi({ example: 'lt1.eyJqdGkiOi....x3Jk', description: 'Pass as `?ticket=` to GET /matches/{matchId}/odds/live; single use' }),
    expiresIn: z.literal(LIVE_TICKET_TTL_SECONDS).openapi({ description: 'Seconds until the ticket expires' }),
  })
  .openapi('LiveTicket');

const route = createRoute({
  method: 'post',
  path: '/matches/{matchId}/odds/live/ticket',
  tags: ['matches'],
  operationId: 'createLiveOddsTicket',
  summary: 'A single-use ticket for the live odds WebSocket (premium and pro)',
  description:
    'Browsers cannot set headers on a WebSocket, so the stream is opened with a ticket instead: it is bound to ' +
    `the caller and this match, expires after ${LIVE_TICKET_TTL_SECONDS} s and opens one connection.`,
  security: SECURITY,
  middleware: [requireTier('premium')] as const,
  request: { params: MatchIdParams },
  responses: { 200: json(LiveTicketSchema, 'The ticket'), ...problemResponses(401, 403, 404, 429) },
});

export const registerCreateLiveOddsTicket = (app: App) =>
  app.openapi(route, async (c) => {
    const { matchId } = c.req.valid('param');
    const principal = principalOf(c);
    await c.get('services').matches.byId(matchId);
    // Remembered before the ticket exists, so a downgrade can always find the sockets it opens.
    await c.get('services').rateLimiter(`user:${principal.userId}`).rememberLiveMatch(matchId, Date.now());
    const { ticket } = await issueLiveTicket(c.get('config').PASSWORD_PEPPER, { userId: principal.userId, matchId });
    c.header('cache-control', 'no-store');
    return c.json({ ticket, expiresIn: LIVE_TICKET_TTL_SECONDS } as const, 200);
  });
