// Domain errors: what went wrong, in the words of the service (or Durable Object) that found it. They know
// nothing of HTTP; app.onError turns each into its problem+json in one place (problem.ts, problemOf), so a route
// neither catches nor checks for them, and one kind of failure always has one answer.
export const ERROR_CODES = ['invalid', 'unauthorized', 'forbidden', 'not-found', 'conflict', 'rate-limited', 'unavailable'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** How a 401 asks for credentials (RFC 6750): the error it names, a bare `Bearer`, or no challenge at all. */
export type Challenge = 'invalid_token' | 'invalid_request' | 'bearer' | 'none';

export interface DomainErrorOptions {
  /** A more specific title than the code's (e.g. "Email already registered"); the problem type follows `slug`. */
  title?: string;
  slug?: string;
  /** Sent as Retry-After. */
  retryAfterSeconds?: number;
  challenge?: Challenge;
  /** Logged by the error handler (an operator must hear of it); the response keeps to `detail`. */
  log?: { msg: string; fields?: Record<string, unknown> };
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** What the caller is told. */
    readonly detail: string,
    readonly options: DomainErrorOptions = {},
  ) {
    super(detail);
    this.name = 'DomainError';
  }
}

export class NotFoundError extends DomainError {
  constructor(detail: string) {
    super('not-found', detail);
  }

  /** "No <resource> with id <id>". */
  static of(resource: string, id: string | number): NotFoundError {
    return new NotFoundError(`No ${resource} with id ${id}`);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(detail: string, challenge: Challenge = 'invalid_token') {
    super('unauthorized', detail, { challenge });
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail: string) {
    super('forbidden', detail);
  }
}

export class ConflictError extends DomainError {
  constructor(detail: string, options: Pick<DomainErrorOptions, 'title' | 'slug'> = {}) {
    super('conflict', detail, options);
  }
}

/**
 * Too much of one thing: failed credentials from an address, sign-ins to one account, live sockets of one user.
 * The request limiter answers its own 429s, which carry the RateLimit headers.
 */
export class RateLimitedError extends DomainError {
  constructor(detail: string, options: Pick<DomainErrorOptions, 'retryAfterSeconds'> = {}) {
    super('rate-limited', detail, options);
  }
}

/** The request is well-formed but names something that is not valid (an unknown or spent token). */
export class InvalidError extends DomainError {
  constructor(detail: string, options: Pick<DomainErrorOptions, 'title' | 'slug'> = {}) {
    super('invalid', detail, options);
  }
}

export class UnavailableError extends DomainError {
  constructor(detail: string, options: Pick<DomainErrorOptions, 'retryAfterSeconds' | 'log'> = {}) {
    super('unavailable', detail, options);
  }
}

/** A Durable Object's refusal over fetch: the same codes, as `{ code, detail }` with the code's status. */
export interface Refusal {
  code: ErrorCode;
  detail: string;
}

const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);

/** The domain error a refusal body stands for; null when the body is not one. */
export function errorOfRefusal(body: unknown): DomainError | null {
  if (typeof body !== 'object' || body === null) return null;
  const { code, detail } = body as Record<string, unknown>;
  if (!isErrorCode(code) || typeof detail !== 'string') return null;
  return code === 'unauthorized' ? new UnauthorizedError(detail, 'none') : new DomainError(code, detail);
}
