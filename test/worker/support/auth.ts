// Test helpers for authenticated calls: real accounts through the real endpoints, and tokens minted with
// the test Worker's own signing key for the cases the endpoints never produce (expired, wrong issuer...).
import { env } from 'cloudflare:test';
import { asc, eq } from 'drizzle-orm';
import { decodeJwt, importPKCS8, SignJWT } from 'jose';
import { inject } from 'vitest';
import { createDatabase } from '../../../src/db/client';
import { emailOutbox, users } from '../../../src/db/schema';
import { configFrom } from '../../../src/env';
import { createLogger } from '../../../src/lib/logging';
import { VERIFICATION_SUBJECT } from '../../../src/services/auth/accounts';
import { api } from './http';

// api() lives in ./http with the other request helpers; re-exported for the tests that import it from here.
export { api };

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

let counter = 0;
export const uniqueEmail = (tag = 'user') => `${tag}-${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
export const PASSWORD = 'a long enough passphrase 42';

/**
 * Registers a verified free account the way a client does: POST /auth/register (202, no tokens), the token from
 * the verification mail to POST /auth/verify-email, then POST /auth/login.
 */
export async function registerUser(tag = 'user'): Promise<TestUser> {
  const email = uniqueEmail(tag);
  const res = await api('/auth/register', { method: 'POST', json: { email, password: PASSWORD } });
  if (res.status !== 202) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  const tokens = await login({ email, password: PASSWORD });
  const id = decodeJwt(tokens.accessToken).sub!;
  await verifyEmail(id);
  return { id, email, password: PASSWORD, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}

/** The mail queued in the outbox for the user (what `npm run email:outbox` delivers locally), oldest first. */
export async function outboxOf(userId: string): Promise<Array<{ recipient: string; subject: string; body: string; createdAt: Date }>> {
  const config = configFrom(env);
  const handle = createDatabase(config.DATABASE_URL, config.WS_PROXY, createLogger({}, () => undefined));
  try {
    return await handle.db
      .select({ recipient: emailOutbox.recipient, subject: emailOutbox.subject, body: emailOutbox.body, createdAt: emailOutbox.createdAt })
      .from(emailOutbox)
      .where(eq(emailOutbox.userId, userId))
      .orderBy(asc(emailOutbox.createdAt));
  } finally {
    await handle.end();
  }
}

/** The verification token of the user's verification mail in the outbox. */
export async function verificationToken(userId: string): Promise<string> {
  const mail = (await outboxOf(userId)).find((m) => m.subject === VERIFICATION_SUBJECT);
  const token = /\bev_[A-Za-z0-9_-]+/.exec(mail?.body ?? '')?.[0];
  if (!token) throw new Error(`no verification mail for ${userId}`);
  return token;
}

/** Verifies the user's email the way a user would: the token from the mail, sent to POST /auth/verify-email. */
export async function verifyEmail(userId: string): Promise<void> {
  const res = await api('/auth/verify-email', { method: 'POST', json: { token: await verificationToken(userId) } });
  if (res.status !== 204) throw new Error(`verify-email failed: ${res.status} ${await res.text()}`);
}

export async function login(user: { email: string; password: string }): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Sets tier/role straight in Postgres (how the first admin is made; see the README) and signs in again. */
export async function promote(user: TestUser, changes: { tier?: 'free' | 'premium' | 'pro'; role?: 'user' | 'admin' }): Promise<TestUser> {
  const config = configFrom(env);
  const handle = createDatabase(config.DATABASE_URL, config.WS_PROXY, createLogger({}, () => undefined));
  try {
    await handle.db.update(users).set(changes).where(eq(users.id, user.id));
  } finally {
    await handle.end();
  }
  return { ...user, ...(await login(user)) };
}

export async function createApiKey(user: TestUser, name = 'test key'): Promise<{ id: string; key: string }> {
  const res = await api('/me/api-keys', { method: 'POST', token: user.accessToken, json: { name } });
  if (res.status !== 201) throw new Error(`api key failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Signs a token with the Worker's real signing key; every claim and header field can be overridden. */
export async function mintToken(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  opts: { iat?: number; exp?: number; iss?: string; aud?: string } = {},
): Promise<string> {
  const [signing] = JSON.parse(inject('jwtPrivateKeys')) as Array<{ kid: string; pem: string }>;
  const key = await importPKCS8(signing!.pem, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tier: 'free', role: 'user', ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: signing!.kid, ...header })
    .setIssuer(opts.iss ?? env.JWT_ISSUER)
    .setAudience(opts.aud ?? env.JWT_AUDIENCE)
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 900)
    .setJti(crypto.randomUUID())
    .sign(key);
}
