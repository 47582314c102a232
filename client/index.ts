// The typed Senzu API client for the frontend: openapi-fetch over the types `npm run client:generate` writes
// from the Worker's /openapi.json. Every path, parameter, body and response is checked by the compiler;
// errors come back as RFC 9457 problem documents in `error`.
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './openapi';

export type { components, operations, paths };
export type SenzuClient = Client<paths>;
export type Problem = components['schemas']['Problem'];

export interface SenzuClientOptions {
  /** Defaults to globalThis.fetch; tests pass the Worker's own fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /**
   * Credentials for every request: an access token (sent as `Authorization: Bearer`) or an API key
   * (`X-API-Key`). A function is read per request, so a refreshed token is picked up without a new client.
   */
  accessToken?: string | (() => string | undefined | Promise<string | undefined>);
  apiKey?: string;
  headers?: Record<string, string>;
}

export function createSenzuClient(baseUrl: string, options: SenzuClientOptions = {}): SenzuClient {
  const client = createClient<paths>({
    baseUrl,
    headers: options.headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const { accessToken, apiKey } = options;
  if (accessToken !== undefined || apiKey !== undefined) {
    const credentials: Middleware = {
      async onRequest({ request }) {
        const token = typeof accessToken === 'function' ? await accessToken() : accessToken;
        if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
        if (apiKey && !request.headers.has('x-api-key')) request.headers.set('x-api-key', apiKey);
        return request;
      },
    };
    client.use(credentials);
  }
  return client;
}
