// Abuse resistance (issue 20), the limits of gap 6: live odds sockets, each reproduced by the attack that used it.
// One gap per file, each in a runtime of its own: run as one file, these bursts and sockets have crashed
// workerd's test runtime (a segmentation fault, in CI beside another file).
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { LIVE_SOCKETS_PER_USER, LIVE_STATE_REQUESTS_PER_WINDOW } from '../../durable-objects/match-odds';
import { api, promote, registerUser } from './support/auth';
import { BASE_URL, getJson, PROBLEM, randomIp, type Page } from './support/http';
import { connectLive, livePath, ticketFor } from './support/live';

describe('gap 6: live odds sockets have limits', () => {
  let matchIds: number[] = [];
  let next = 0;
  const freshMatch = async () => {
    if (matchIds.length === 0) matchIds = (await getJson<Page<{ id: number }>>('/matches?from=2019-01-01&to=2019-02-28&limit=10')).data.map((m) => m.id);
    return matchIds[next++]!;
  };
  const premiumUser = async (tag: string) => promote(await registerUser(tag), { tier: 'premium' });

  it('caps the sockets one user holds on a match: of 10 concurrent upgrades, exactly the cap get in', async () => {
    const user = await premiumUser('socket-hoarder');
    const matchId = await freshMatch();
    const tickets = await Promise.all(Array.from({ length: 10 }, () => ticketFor(user, matchId)));
    const results = await Promise.all(
      tickets.map((t) => SELF.fetch(`${BASE_URL}${livePath(matchId, t)}`, { headers: { upgrade: 'websocket', 'cf-connecting-ip': randomIp() } })),
    );
    const opened = results.filter((r) => r.status === 101);
    expect(opened.length).toBe(LIVE_SOCKETS_PER_USER);
    for (const refused of results.filter((r) => r.status !== 101)) {
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toBe(PROBLEM);
    }
    for (const r of opened) r.webSocket!.accept(), r.webSocket!.close(1000);
  }, 30_000);

  it('throttles {"type":"state"}: a flood gets at most the budget recomputed, then the socket is closed (1008)', async () => {
    const user = await premiumUser('state-flooder');
    const matchId = await freshMatch();
    const client = await connectLive(matchId, await ticketFor(user, matchId));
    expect((await client.next()).type).toBe('state');
    for (let i = 0; i < 50; i++) {
      try {
        client.ws.send(JSON.stringify({ type: 'state' }));
      } catch {
        break;
      }
    }
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    const states: string[] = [];
    for (;;) {
      const m = await client.next(200).catch(() => null);
      if (!m) break;
      states.push(m.type);
    }
    expect(states.filter((t) => t === 'state').length).toBeLessThanOrEqual(LIVE_STATE_REQUESTS_PER_WINDOW);
  }, 30_000);

  it('closes the sockets of a user downgraded below premium, and of a deleted account', async () => {
    const [downgraded, deleted, admin] = await Promise.all([premiumUser('socket-downgraded'), premiumUser('socket-deleted'), registerUser('socket-admin')]);
    const byAdmin = await promote(admin, { role: 'admin' });
    const matchId = await freshMatch();
    const a = await connectLive(matchId, await ticketFor(downgraded, matchId));
    const b = await connectLive(matchId, await ticketFor(deleted, matchId));
    const bystander = await connectLive(matchId, await ticketFor(await premiumUser('socket-bystander'), matchId));
    expect((await api(`/admin/users/${downgraded.id}`, { method: 'PATCH', token: byAdmin.accessToken, json: { tier: 'free' } })).status).toBe(200);
    const timeout = (ms: number) => new Promise<'open'>((r) => setTimeout(() => r('open'), ms));
    expect(await Promise.race([a.closed.then((e) => e.code), timeout(3000)])).toBe(1008);
    expect((await api('/me', { method: 'DELETE', token: deleted.accessToken })).status).toBe(204);
    expect(await Promise.race([b.closed.then((e) => e.code), timeout(3000)])).toBe(1008);
    expect(await Promise.race([bystander.closed.then(() => 'closed'), timeout(300)])).toBe('open');
    bystander.ws.close(1000);
    await bystander.closed;
  }, 30_000);
});
