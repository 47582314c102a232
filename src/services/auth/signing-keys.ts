// Signing keys come from secrets. JWT_PRIVATE_KEYS is a JSON array of { kid, pem } (PKCS#8 RSA keys); the
// first entry signs new tokens and all of them verify. JWT_PUBLIC_KEYS is an optional JSON array of public
// JWKs (each with a kid) that still verify and are still published after their private key was removed.
// Rotation: put the new key first, keep the old one second (or move its public JWK to JWT_PUBLIC_KEYS), and
// drop it once every access token it signed has expired (15 minutes).
import { exportJWK, importJWK, importPKCS8, type JWK } from 'jose';

export const ALG = 'RS256';

export interface SigningKeys {
  signing: { kid: string; key: CryptoKey };
  /** kid → verification key */
  verification: Map<string, CryptoKey>;
  jwks: { keys: JWK[] };
}

export class KeyConfigError extends Error {
  override name = 'KeyConfigError';
}

const cache = new Map<string, Promise<SigningKeys>>();

export function loadSigningKeys(privateKeysJson: string, publicKeysJson: string | undefined): Promise<SigningKeys> {
  const cacheKey = `${privateKeysJson}\u0000${publicKeysJson ?? ''}`;
  let loaded = cache.get(cacheKey);
  if (!loaded) {
    loaded = build(privateKeysJson, publicKeysJson);
    loaded.catch(() => cache.delete(cacheKey));
    cache.set(cacheKey, loaded);
  }
  return loaded;
}

function parseJsonArray(text: string, name: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyConfigError(`${name} is not valid JSON`);
  }
  if (!Array.isArray(value) || value.length === 0) throw new KeyConfigError(`${name} must be a non-empty JSON array`);
  return value;
}

async function build(privateKeysJson: string, publicKeysJson: string | undefined): Promise<SigningKeys> {
  const verification = new Map<string, CryptoKey>();
  const jwks: JWK[] = [];
  let signing: SigningKeys['signing'] | undefined;
  for (const entry of parseJsonArray(privateKeysJson, 'JWT_PRIVATE_KEYS')) {
    const { kid, pem } = (entry ?? {}) as { kid?: unknown; pem?: unknown };
    if (typeof kid !== 'string' || !kid || typeof pem !== 'string') throw new KeyConfigError('each JWT_PRIVATE_KEYS entry needs a kid and a pem');
    if (verification.has(kid)) throw new KeyConfigError(`duplicate kid ${kid}`);
    const privateKey = await importPKCS8(pem, ALG, { extractable: true });
    const fullJwk = await exportJWK(privateKey);
    const publicJwk: JWK = { kty: fullJwk.kty, n: fullJwk.n, e: fullJwk.e, kid, alg: ALG, use: 'sig' };
    verification.set(kid, (await importJWK(publicJwk, ALG)) as CryptoKey);
    jwks.push(publicJwk);
    signing ??= { kid, key: privateKey };
  }
  if (publicKeysJson && publicKeysJson.trim()) {
    for (const entry of parseJsonArray(publicKeysJson, 'JWT_PUBLIC_KEYS')) {
      const jwk = entry as JWK;
      if (jwk?.kty !== 'RSA' || typeof jwk.kid !== 'string' || !jwk.n || !jwk.e || 'd' in jwk) {
        throw new KeyConfigError('each JWT_PUBLIC_KEYS entry must be a public RSA JWK with a kid');
      }
      if (verification.has(jwk.kid)) continue;
      const publicJwk: JWK = { kty: 'RSA', n: jwk.n, e: jwk.e, kid: jwk.kid, alg: ALG, use: 'sig' };
      verification.set(jwk.kid, (await importJWK(publicJwk, ALG)) as CryptoKey);
      jwks.push(publicJwk);
    }
  }
  return { signing: signing!, verification, jwks: { keys: jwks } };
}
