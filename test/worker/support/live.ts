// A live odds WebSocket client for tests: a ticket from POST /matches/{id}/odds/live/ticket, the upgrade
// through the Worker, and every message kept in order.
import { SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import type { EndMessage, StateMessage, UpdateMessage } from '../../../durable-objects/match-odds';
import { LIVE_TICKET_TTL_SECONDS } from '../../../src/services/live-tickets';
import type { TestUser } from './auth';
import { api, BASE_URL, randomIp } from './http';

export type LiveMessage = StateMessage | UpdateMessage | EndMessage | { type: 'error'; detail: string };

/** An open client: every message it received, in order, and a way to wait for the next one. */
export interface LiveClient {
  ws: WebSocket;
  next(timeoutMs?: number): Promise<LiveMessage>;
  closed: Promise<CloseEvent>;
}

export const livePath = (matchId: number, ticket: string) => `/matches/${matchId}/odds/live?ticket=${encodeURIComponent(ticket)}`;

export async function ticketFor(user: TestUser, matchId: number): Promise<string> {
  const res = await api(`/matches/${matchId}/odds/live/ticket`, { method: 'POST', token: user.accessToken });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = JSON.parse(text) as { ticket: string; expiresIn: number };
  expect(body.expiresIn).toBe(LIVE_TICKET_TTL_SECONDS);
  return body.ticket;
}

export async function connectLive(matchId: number, ticket: string): Promise<LiveClient> {
  const res = await SELF.fetch(`${BASE_URL}${livePath(matchId, ticket)}`, { headers: { upgrade: 'websocket', 'cf-connecting-ip': randomIp() } });
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  const queue: LiveMessage[] = [];
  const waiting: Array<(m: LiveMessage) => void> = [];
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(event.data as string) as LiveMessage;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
  ws.accept();
  return {
    ws,
    closed,
    next: (timeoutMs = 3000) => {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise<LiveMessage>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
    },
  };
}
