// The committed client types are exactly what openapi-typescript makes of the committed document.
// test/worker/client-document.test.ts checks the other half: the committed document is what the Worker serves.
// Together: a route or schema change without `npm run client:generate` fails one of them.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_DOCUMENT_PATH,
  CLIENT_TYPES_PATH,
  renderClientTypes,
  renderDocument,
  type OpenApiDocument,
} from '../../scripts/lib/openapi-document';

describe('client/ (npm run client:generate)', () => {
  it('client/openapi.d.ts is the generation of client/openapi.json', async () => {
    const document = JSON.parse(await readFile(CLIENT_DOCUMENT_PATH, 'utf8')) as OpenApiDocument;
    const committed = await readFile(CLIENT_TYPES_PATH, 'utf8');
    const regenerated = await renderClientTypes(document);
    expect(committed === regenerated, 'client/openapi.d.ts is stale: run `npm run client:generate` and commit client/').toBe(true);
  });

  it('client/openapi.json is in the generator\'s canonical form, without the origin-dependent servers', async () => {
    const text = await readFile(CLIENT_DOCUMENT_PATH, 'utf8');
    const document = JSON.parse(text) as OpenApiDocument;
    expect(text).toBe(renderDocument(document));
    expect(document).not.toHaveProperty('servers');
    expect(document.openapi).toBe('3.1.0');
  });
});
