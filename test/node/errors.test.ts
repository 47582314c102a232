// One error mechanism: services and Durable Objects throw domain errors (src/lib/errors.ts) and app.onError maps
// them in one place (problemOf). These check the mapping keeps the answers the routes gave when each built its
// own problem, and that no route goes back to catching or checking by hand.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConflictError, DomainError, errorOfRefusal, ForbiddenError, NotFoundError, UnauthorizedError, UnavailableError } from '../../src/lib/errors';
import { problemOf } from '../../src/lib/problem';

const ROOT = resolve(__dirname, '../..');
const answer = (error: DomainError) => {
  const p = problemOf(error);
  return { type: `https://docs.senzu.ai/problems/${p.slug}`, title: p.title, status: p.status, detail: p.detail, headers: p.headers };
};

describe('problemOf', () => {
  it('gives each code its status, type and title', () => {
    expect(answer(NotFoundError.of('match', 7))).toEqual({ type: 'https://docs.senzu.ai/problems/not-found', title: 'Not found', status: 404, detail: 'No match with id 7', headers: {} });
    expect(answer(new ForbiddenError('Admins only'))).toMatchObject({ title: 'Forbidden', status: 403, headers: {} });
    expect(answer(new ConflictError('An account with this email already exists', { title: 'Email already registered' }))).toMatchObject({
      type: 'https://docs.senzu.ai/problems/conflict',
      title: 'Email already registered',
      status: 409,
    });
    expect(answer(new ConflictError('refused', { slug: 'activation-refused', title: 'Activation refused' }))).toMatchObject({
      type: 'https://docs.senzu.ai/problems/activation-refused',
      status: 409,
    });
    expect(answer(new UnavailableError('down', { retryAfterSeconds: 30 }))).toMatchObject({ title: 'Service unavailable', status: 503, headers: { 'retry-after': '30' } });
  });

  it('builds every 401 the same way, with the challenge the caller needs', () => {
    expect(answer(new UnauthorizedError('bad token')).headers).toEqual({ 'www-authenticate': 'Bearer error="invalid_token"' });
    expect(answer(new UnauthorizedError('malformed', 'invalid_request')).headers).toEqual({ 'www-authenticate': 'Bearer error="invalid_request"' });
    expect(answer(new UnauthorizedError('wrong password', 'bearer')).headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(answer(new UnauthorizedError('ticket used', 'none')).headers).toEqual({});
    expect(answer(new UnauthorizedError('x'))).toMatchObject({ type: 'https://docs.senzu.ai/problems/unauthorized', title: 'Unauthorized', status: 401 });
  });
});

describe("a Durable Object's refusal", () => {
  it('comes back as the domain error of its code, and nothing else does', () => {
    const error = errorOfRefusal({ code: 'unauthorized', detail: 'The ticket has already been used' });
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(answer(error!)).toMatchObject({ status: 401, detail: 'The ticket has already been used', headers: {} });
    expect(answer(errorOfRefusal({ code: 'invalid', detail: 'Expected a WebSocket upgrade' })!)).toMatchObject({ status: 400, title: 'Bad request' });
    expect(errorOfRefusal({ reason: 'old shape' })).toBeNull();
    expect(errorOfRefusal({ code: 'teapot', detail: 'x' })).toBeNull();
    expect(errorOfRefusal(null)).toBeNull();
  });
});

describe('routes', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : name.endsWith('.ts') ? [join(dir, name)] : []));

  it('neither catch errors nor check for existence by hand: services throw, app.onError answers', () => {
    const offending = files(join(ROOT, 'src/routes')).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [/\btry\s*\{/, /problem\.notFound\(/, /new ProblemError\(/]
        .filter((pattern) => pattern.test(text))
        .map((pattern) => `${relative(ROOT, file)}: ${pattern.source}`);
    });
    expect(offending).toEqual([]);
  });
});
