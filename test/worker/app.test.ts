import { SELF } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';

const PROBLEM = 'application/problem+json';

afterEach(() => vi.restoreAllMocks());

describe('system routes', () => {
  it('GET /health answers without the database and carries a request id', async () => {
    const res = await SELF.fetch('http://api.test/health');
    expect(res.status).toBe(200);
    const body = await res.json<{ status: string; environment: string }>();
    expect(body).toMatchObject({ status: 'ok', environment: 'test' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a caller-supplied request id', async () => {
    const res = await SELF.fetch('http://api.test/health', { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
  });

  it('GET /ready reports a real database round trip', async () => {
    const res = await SELF.fetch('http://api.test/ready');
    expect(res.status).toBe(200);
    const body = await res.json<{ status: string; database: { latencyMs: number } }>();
    expect(body.status).toBe('ready');
    expect(body.database.latencyMs).toBeGreaterThan(0);
  });

  it('GET /docs serves an interactive reference pointing at /openapi.json', async () => {
    const res = await SELF.fetch('http://api.test/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('/openapi.json');
  });
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and documents problem responses on every operation', async () => {
    const res = await SELF.fetch('http://api.test/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<{
      openapi: string;
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, unknown> }> }>>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.schemas).toHaveProperty('Problem');
    // Every operation of the API, no more and no fewer (a new route is added here on purpose).
    expect(Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)).sort()).toEqual(
      [
        'GET /.well-known/jwks.json',
        'GET /admin/ingestion/jobs',
        'POST /admin/ingestion/run',
        'PATCH /admin/users/{userId}',
        'POST /auth/login',
        'POST /auth/logout',
        'POST /auth/refresh',
        'POST /auth/register',
        'POST /auth/verify-email',
        'GET /health',
        'GET /matches',
        'GET /matches/{matchId}',
        'GET /matches/{matchId}/odds',
        'GET /matches/{matchId}/odds/live',
        'POST /matches/{matchId}/odds/live/ticket',
        'GET /matches/{matchId}/predictions',
        'DELETE /me',
        'GET /me',
        'GET /me/api-keys',
        'POST /me/api-keys',
        'DELETE /me/api-keys/{keyId}',
        'GET /me/session',
        'GET /models',
        'GET /models/{modelId}',
        'POST /models/{modelId}/activate',
        'GET /models/{modelId}/backtest',
        'GET /models/{modelId}/evaluations',
        'GET /models/{modelId}/live-performance',
        'GET /predictions',
        'GET /ready',
        'GET /sports',
        'GET /sports/{sportId}/teams',
        'GET /sports/{sportId}/live-performance',
      ].sort(),
    );
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods!));
    for (const op of operations) {
      for (const status of ['400', '405', '500']) {
        expect(op.responses[status]?.content, `${op.operationId} documents ${status}`).toHaveProperty([PROBLEM]);
      }
    }
    expect(doc.paths['/ready']?.get?.responses['503']?.content).toHaveProperty([PROBLEM]);
  });
});

describe('errors are RFC 9457 problems', () => {
  it('an unknown route is a 404 problem', async () => {
    const res = await SELF.fetch('http://api.test/no/such/route?x=1', { headers: { 'x-request-id': 'req-404' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(await res.json()).toEqual({
      type: 'https://docs.senzu.ai/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'No route for GET /no/such/route',
      instance: '/no/such/route',
      requestId: 'req-404',
    });
  });

  it('a wrong method on a known path is a 405 problem with Allow', async () => {
    const res = await SELF.fetch('http://api.test/health', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    const body = await res.json<{ status: number; type: string; requestId: string }>();
    expect(body.status).toBe(405);
    expect(body.type).toMatch(/method-not-allowed$/);
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
  });
});

describe('middleware', () => {
  it('allows CORS only for configured origins', async () => {
    const allowed = await SELF.fetch('http://api.test/health', {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const denied = await SELF.fetch('http://api.test/health', { headers: { origin: 'https://evil.example' } });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sets secure headers', async () => {
    const res = await SELF.fetch('http://api.test/health');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});
