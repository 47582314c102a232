// Two request-wide guards of issue 20 (gap 8).
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { ProblemError } from '../lib/problem';
import type { AppEnv } from '../types';

/**
 * No request of this API needs more than a few KiB of body; without a limit a 90 MB JSON body was read and
 * parsed inside a 128 MB isolate. 64 KiB leaves room for any legitimate body (the largest is a few hundred
 * bytes) while refusing, before parsing, whatever could hurt.
 */
export const MAX_BODY_BYTES = 64 * 1024;

export const requestBodyLimit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) =>
    new ProblemError({ slug: 'payload-too-large', title: 'Payload too large', status: 413, detail: `A request body may be at most ${MAX_BODY_BYTES} bytes` }).toResponse(
      c.req.path,
      (c.get('requestId') as string | undefined) ?? 'unknown',
    ),
});

/**
 * Tokens, keys and profiles must never sit in a shared cache or the browser's disk cache: every /auth/* and
 * /me response, errors included, is `Cache-Control: no-store`.
 */
export const noStoreForAccounts = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const path = c.req.path;
  if (path.startsWith('/auth/') || path === '/me' || path.startsWith('/me/')) c.res.headers.set('cache-control', 'no-store');
});
