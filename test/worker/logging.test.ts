import { env, createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';

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
    expect(lines[0]).toMatchObject({ method: 'GET', route: null, path: '/nowhere', status: 404 });
  });
});
