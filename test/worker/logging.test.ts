import { env, createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import { registerUser } from './support/auth';

afterEach(() => vi.restoreAllMocks());

async function requestLines(request: Request): Promise<{ res: Response; lines: Record<string, unknown>[] }> {
  const logged: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  await waitOnExecutionContext(ctx);
  const lines = logged.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  return { res, lines };
}

describe('structured request log', () => {
  it('writes one JSON line per request with id, method, route, status and duration', async () => {
    const { res, lines } = await requestLines(new Request('http://api.test/health', { headers: { 'x-request-id': 'log-1' } }));
    expect(res.status).toBe(200);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', requestId: 'log-1', method: 'GET', route: '/health', status: 200 });
    expect(typeof lines[0]!.durationMs).toBe('number');
  });

  it('logs the final status of a failed request, with no route for an unknown path', async () => {
    const { lines } = await requestLines(new Request('http://api.test/nowhere'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'GET', route: null, path: '/nowhere', status: 404, errorCode: 'not-found' });
  });

  it('carries a trace id, the route pattern as the API documents it, the tier, and no cache fields off the prediction route', async () => {
    const { lines } = await requestLines(new Request('http://api.test/matches/1', { headers: { 'cf-connecting-ip': '10.9.9.1' } }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ route: '/matches/{matchId}', path: '/matches/1', tier: 'anonymous', cache: null, modelRun: null });
    expect(lines[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[0]).not.toHaveProperty('errorCode');
  });

  it('joins the caller\'s trace from traceparent, with telemetry export off', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { lines } = await requestLines(new Request('http://api.test/health', { headers: { traceparent } }));
    expect(lines[0]).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
  });

  it('logs the tier of an authenticated caller and the stable code of a refused request', async () => {
    const user = await registerUser('log');
    const me = await requestLines(new Request('http://api.test/me', { headers: { authorization: `Bearer ${user.accessToken}`, 'cf-connecting-ip': '10.9.9.2' } }));
    expect(me.lines[0]).toMatchObject({ route: '/me', status: 200, tier: 'free' });
    const forbidden = await requestLines(new Request('http://api.test/me', { headers: { authorization: 'Bearer not-a-jwt', 'cf-connecting-ip': '10.9.9.3' } }));
    expect(forbidden.lines[0]).toMatchObject({ route: '/me', status: 401, tier: 'anonymous', errorCode: 'unauthorized' });
  });
});
