// RFC 9457 problem details. Every error the API returns goes through ProblemError, so clients see one
// shape for a bad query, an unknown id or a bug.
import { z } from '@hono/zod-openapi';
import type { Challenge, DomainError, ErrorCode } from './errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://docs.senzu.ai/problems/';

export const InvalidParamSchema = z
  .object({
    name: z.string().openapi({ example: 'limit' }),
    in: z.enum(['query', 'path', 'header', 'body', 'cookie']).openapi({ example: 'query' }),
    reason: z.string().openapi({ example: 'Too big: expected number to be <=100' }),
  })
  .openapi('InvalidParam');

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: `${TYPE_BASE}validation` }),
    title: z.string().openapi({ example: 'Your request is not valid' }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().openapi({ example: '1 field is invalid' }),
    instance: z.string().openapi({ example: '/matches?limit=1000' }),
    requestId: z.string().openapi({ example: '2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d' }),
    invalidParams: z.array(InvalidParamSchema).optional(),
  })
  .openapi('Problem');

export type InvalidParam = z.infer<typeof InvalidParamSchema>;
export type Problem = z.infer<typeof ProblemSchema>;

interface ProblemInit {
  slug: string;
  title: string;
  status: number;
  detail: string;
  invalidParams?: InvalidParam[];
  headers?: Record<string, string>;
}

export class ProblemError extends Error {
  readonly slug: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly invalidParams?: InvalidParam[];
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit) {
    super(init.detail);
    this.name = 'ProblemError';
    this.slug = init.slug;
    this.title = init.title;
    this.status = init.status;
    this.detail = init.detail;
    this.invalidParams = init.invalidParams;
    this.headers = init.headers ?? {};
  }

  toProblem(instance: string, requestId: string): Problem {
    return {
      type: `${TYPE_BASE}${this.slug}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      instance,
      requestId,
      ...(this.invalidParams ? { invalidParams: this.invalidParams } : {}),
    };
  }

  toResponse(instance: string, requestId: string): Response {
    return new Response(JSON.stringify(this.toProblem(instance, requestId)), {
      status: this.status,
      headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...this.headers },
    });
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const problem = {
  validation: (invalidParams: InvalidParam[]) =>
    new ProblemError({
      slug: 'validation',
      title: 'Your request is not valid',
      status: 400,
      detail: `${plural(invalidParams.length, 'field')} ${invalidParams.length === 1 ? 'is' : 'are'} invalid: ${invalidParams
        .map((p) => p.name)
        .join(', ')}`,
      invalidParams,
    }),
  badRequest: (detail: string) => new ProblemError({ slug: 'bad-request', title: 'Bad request', status: 400, detail }),
  notFound: (resource: string, id: string | number) =>
    new ProblemError({ slug: 'not-found', title: 'Not found', status: 404, detail: `No ${resource} with id ${id}` }),
  routeNotFound: (method: string, path: string) =>
    new ProblemError({ slug: 'not-found', title: 'Not found', status: 404, detail: `No route for ${method} ${path}` }),
  methodNotAllowed: (method: string, path: string, allowed: string[]) =>
    new ProblemError({
      slug: 'method-not-allowed',
      title: 'Method not allowed',
      status: 405,
      detail: `${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
      headers: { allow: allowed.join(', ') },
    }),
  unavailable: (detail: string) =>
    new ProblemError({ slug: 'unavailable', title: 'Service unavailable', status: 503, detail }),
  internal: () =>
    new ProblemError({
      slug: 'internal',
      title: 'Internal server error',
      status: 500,
      detail: 'An unexpected error occurred. It has been logged with this request id.',
    }),
  /** Maps a status from a framework-level HTTPException (malformed JSON, body too large...) to a problem. */
  fromStatus: (status: number, detail: string) =>
    new ProblemError({
      slug: status === 413 ? 'payload-too-large' : status === 415 ? 'unsupported-media-type' : 'bad-request',
      title: status === 413 ? 'Payload too large' : status === 415 ? 'Unsupported media type' : 'Bad request',
      status,
      detail,
    }),
};

const DOMAIN_PROBLEMS: Record<ErrorCode, { slug: string; title: string; status: number }> = {
  invalid: { slug: 'bad-request', title: 'Bad request', status: 400 },
  unauthorized: { slug: 'unauthorized', title: 'Unauthorized', status: 401 },
  forbidden: { slug: 'forbidden', title: 'Forbidden', status: 403 },
  'not-found': { slug: 'not-found', title: 'Not found', status: 404 },
  conflict: { slug: 'conflict', title: 'Conflict', status: 409 },
  'rate-limited': { slug: 'rate-limited', title: 'Too many requests', status: 429 },
  unavailable: { slug: 'unavailable', title: 'Service unavailable', status: 503 },
};

const CHALLENGES: Record<Challenge, string | null> = {
  invalid_token: 'Bearer error="invalid_token"',
  invalid_request: 'Bearer error="invalid_request"',
  bearer: 'Bearer',
  none: null,
};

/** The one mapping from a domain error (lib/errors.ts) to its problem: app.onError uses it for every route. */
export function problemOf(error: DomainError): ProblemError {
  const base = DOMAIN_PROBLEMS[error.code];
  const { title, slug, retryAfterSeconds, challenge } = error.options;
  const headers: Record<string, string> = {};
  if (error.code === 'unauthorized') {
    const header = CHALLENGES[challenge ?? 'invalid_token'];
    if (header) headers['www-authenticate'] = header;
  }
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return new ProblemError({ slug: slug ?? base.slug, title: title ?? base.title, status: base.status, detail: error.detail, headers });
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid; `invalidParams` lists the fields',
  401: 'Missing or invalid credentials',
  403: 'The caller may not do this',
  404: 'The resource does not exist',
  405: 'The method is not allowed on this path',
  409: 'The request conflicts with the current state',
  429: 'Rate limit or quota exceeded',
  500: 'Unexpected server error (a bug; reported with the request id)',
  503: 'A dependency is unavailable',
};

export type ProblemStatus = keyof typeof PROBLEM_DESCRIPTIONS;

/**
 * The error part of a route's OpenAPI `responses`. Every route documents 400 (validation), 405 and 500,
 * because any route can produce them; callers add the statuses specific to the route.
 */
export function problemResponses(...statuses: number[]) {
  const all = [...new Set([400, 405, 500, ...statuses])].sort((a, b) => a - b);
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
      },
    ]),
  ) as Record<number, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof ProblemSchema } } }>;
}
