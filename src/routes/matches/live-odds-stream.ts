import { createRoute, z } from '@hono/zod-openapi';
import { problem, ProblemError, problemResponses } from '../../lib/problem';
import { MatchIdParams } from '../../schemas/matches';
import { LiveTicketError, verifyLiveTicket } from '../../services/live-tickets';
import { TICKET_EXPIRES_HEADER, TICKET_ID_HEADER, TICKET_USER_HEADER } from '../../../durable-objects/match-odds';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const ticketRefused = (detail: string) => new ProblemError({ slug: 'unauthorized', title: 'Unauthorized', status: 401, detail });

const LiveQuery = z.object({
  ticket: z
    .string()
    .min(1)
    .max(512)
    .openapi({ description: 'A ticket from POST /matches/{matchId}/odds/live/ticket (single use, 30 s)', example: 'lt1.eyJqdGkiOi....x3Jk' }),
});

const route = createRoute({
  method: 'get',
  path: '/matches/{matchId}/odds/live',
  tags: ['matches'],
  operationId: 'streamLiveOdds',
  security: PUBLIC,
  summary: 'Live odds of a match over a WebSocket (premium and pro, with a ticket)',
  description: [
    'Open with `Upgrade: websocket` and a ticket from `POST /matches/{matchId}/odds/live/ticket` (browsers cannot set',
    'headers on a WebSocket, so the ticket replaces the credentials; it is bound to the caller and the match and opens',
    'one connection). Messages are JSON text frames:',
    '- `{"type":"state", matchId, startAt, updatedAt, lines, best, consensus, movement}` at once, and again when the',
    '  client sends `{"type":"state"}`;',
    '- `{"type":"update", matchId, updatedAt, changed, best, consensus, movement}` after every change (`changed` lists',
    '  the lines whose price changed);',
    '- `{"type":"end", reason}` when the match is over, followed by a normal close.',
    'The text frame `ping` is answered with `pong`. `consensus` holds the margin-free probabilities (multiplicative',
    'method) from the median of the bookmakers\' prices; `movement` compares the median and best prices with those at',
    'opening.',
  ].join('\n'),
  request: { params: MatchIdParams, query: LiveQuery },
  responses: {
    101: { description: 'Switching Protocols: the WebSocket is open and the first message is the state' },
    ...problemResponses(401, 404, 429),
  },
});

export const registerStreamLiveOdds = (app: App) =>
  app.openapi(route, async (c) => {
    const { matchId } = c.req.valid('param');
    const { ticket } = c.req.valid('query');
    // Checked before the ticket, so a plain GET cannot burn one.
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw problem.badRequest('This route is a WebSocket: send Upgrade: websocket');
    }
    if (!(await c.get('services').matches.byId(matchId))) throw problem.notFound('match', matchId);
    let claims;
    try {
      claims = await verifyLiveTicket(c.get('config').PASSWORD_PEPPER, ticket, matchId);
    } catch (error) {
      if (error instanceof LiveTicketError) throw ticketRefused(error.message);
      throw error;
    }
    const res = await c.get('services').matchOdds(matchId).fetch('https://match-odds.internal/live', {
      headers: {
        upgrade: 'websocket',
        [TICKET_ID_HEADER]: claims.id,
        [TICKET_EXPIRES_HEADER]: String(claims.expiresAt),
        [TICKET_USER_HEADER]: claims.userId,
      },
    });
    if (res.status === 101 && res.webSocket) {
      // A fresh response: the stub's has immutable headers, and the middleware still adds its own.
      return new Response(null, { status: 101, webSocket: res.webSocket });
    }
    const { reason } = await res.json<{ reason?: string }>().catch(() => ({ reason: undefined }));
    if (res.status === 401) throw ticketRefused(reason ?? 'The ticket is not valid');
    if (res.status === 429) throw new ProblemError({ slug: 'rate-limited', title: 'Too many requests', status: 429, detail: reason ?? 'Too many live connections' });
    throw new Error(`MatchOdds refused the upgrade with ${res.status}: ${reason ?? 'no reason'}`);
  });
