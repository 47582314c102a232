// Password hashing: PBKDF2-SHA-256 at 100,000 iterations (the most workerd allows), a 16-byte salt per
// password, and a secret pepper applied as HMAC-SHA-256 before the KDF, so a stolen database alone cannot be
// brute-forced. The parameters live in the hash string, `pbkdf2-sha256$<iterations>$<salt>$<hash>`, so a
// login can tell an outdated hash and rehash it.
import { base64url, fromBase64url, timingSafeEqual, utf8 } from '../../lib/encoding';

export const PASSWORD_ITERATIONS = 100_000;
const SCHEME = 'pbkdf2-sha256';
const SALT_BYTES = 16;
const HASH_BITS = 256;

async function pepperedKey(password: string, pepper: string): Promise<CryptoKey> {
  const hmacKey = await crypto.subtle.importKey('raw', utf8(pepper), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const peppered = await crypto.subtle.sign('HMAC', hmacKey, utf8(password.normalize('NFKC')));
  return crypto.subtle.importKey('raw', peppered, 'PBKDF2', false, ['deriveBits']);
}

async function derive(password: string, pepper: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await pepperedKey(password, pepper);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, HASH_BITS));
}

export async function hashPassword(password: string, pepper: string, iterations = PASSWORD_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, pepper, salt, iterations);
  return `${SCHEME}$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

export interface PasswordCheck {
  valid: boolean;
  /** The stored hash uses other parameters than today's: rehash after a successful login. */
  needsRehash: boolean;
}

export async function verifyPassword(password: string, stored: string, pepper: string): Promise<PasswordCheck> {
  const [scheme, iterationsText, saltText, hashText] = stored.split('$');
  const iterations = Number(iterationsText);
  if (scheme !== SCHEME || !Number.isInteger(iterations) || iterations < 1 || iterations > PASSWORD_ITERATIONS || !saltText || !hashText) {
    throw new Error('unrecognised password hash format');
  }
  const expected = fromBase64url(hashText);
  const actual = await derive(password, pepper, fromBase64url(saltText), iterations);
  return { valid: timingSafeEqual(actual, expected), needsRehash: iterations !== PASSWORD_ITERATIONS };
}

/**
 * A real hash of a random password, computed once per isolate. Logging in with an unknown email verifies
 * against it, so that path costs one full PBKDF2 like a wrong password does and timing reveals nothing.
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(pepper: string): Promise<string> {
  return (dummyHash ??= hashPassword(base64url(crypto.getRandomValues(new Uint8Array(24))), pepper));
}

const COMMON_PASSWORDS = new Set([
  'password1234',
  'password12345',
  '123456789012',
  'qwertyuiop12',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'administrator',
  'passwordpassword',
  'qwertyqwerty',
  '111111111111',
  '000000000000',
  'abcdefghijkl',
  'abc123abc123',
]);

/** The password policy (NIST SP 800-63B style: length and a blocklist, no composition rules). Returns the reasons it fails. */
export function passwordPolicyViolations(password: string, email: string): string[] {
  const reasons: string[] = [];
  const length = [...password.normalize('NFKC')].length;
  if (length < 12) reasons.push('must be at least 12 characters');
  if (length > 128) reasons.push('must be at most 128 characters');
  if (password.trim().length === 0) reasons.push('must not be only whitespace');
  else if (new Set(password).size < 4) reasons.push('must contain at least 4 different characters');
  const lowered = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lowered)) reasons.push('is too common');
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 4 && lowered.includes(local)) reasons.push('must not contain your email address');
  return reasons;
}
