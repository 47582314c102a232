// The committed OpenAPI document (client/openapi.json, from which client/openapi.d.ts is generated) is the one
// the Worker serves. A route or schema change without `npm run client:generate` fails here.
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import committed from '../../client/openapi.json';

describe('client/openapi.json', () => {
  it('equals GET /openapi.json apart from the origin-dependent servers', async () => {
    const res = await SELF.fetch('http://api.test/openapi.json');
    expect(res.status).toBe(200);
    const { servers, ...served } = (await res.json()) as Record<string, unknown>;
    expect(servers).toEqual([{ url: 'http://api.test' }]);
    const stale = JSON.stringify(served) !== JSON.stringify(committed);
    // The diff vitest prints names the paths that changed; the message says what to do.
    if (stale) expect(served, 'client/ is stale: run `npm run client:generate` and commit client/').toEqual(committed);
    expect(stale).toBe(false);
  });
});
