// `npm run client:generate`: writes client/openapi.json (the document the Worker serves) and
// client/openapi.d.ts (its types for openapi-fetch). Run it after changing a route or schema and commit both;
// the freshness tests fail until then.
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { exitWithUsageOnHelp } from './lib/cli';

exitWithUsageOnHelp(`usage: npm run client:generate
Writes client/openapi.json (the document the Worker serves at /openapi.json) and client/openapi.d.ts (its
types for openapi-fetch). Run it after changing a route or a schema, and commit both.`);

// After the help check: this pulls in wrangler, which alone takes a couple of seconds to load.
const { CLIENT_DOCUMENT_PATH, CLIENT_TYPES_PATH, ROOT, fetchOpenApiDocument, renderClientTypes, renderDocument } = await import('./lib/openapi-document');

const document = await fetchOpenApiDocument();
await writeFile(CLIENT_DOCUMENT_PATH, renderDocument(document));
await writeFile(CLIENT_TYPES_PATH, await renderClientTypes(document));
console.log(
  `[client] ${Object.keys(document.paths).length} paths → ${relative(ROOT, CLIENT_DOCUMENT_PATH)}, ${relative(ROOT, CLIENT_TYPES_PATH)}`,
);
