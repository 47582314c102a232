// Secrets for local runs and tests: an RS256 signing key and a password pepper, generated once. Production
// sets real ones with `wrangler secret put` (README "Keys and secrets").
import { generateKeyPairSync, randomBytes } from 'node:crypto';

export interface DevSecrets {
  JWT_PRIVATE_KEYS: string;
  PASSWORD_PEPPER: string;
}

export function generateSigningKey(kid: string): { kid: string; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { kid, pem: privateKey };
}

export function generateDevSecrets(kid = `dev-${new Date().toISOString().slice(0, 10)}`): DevSecrets {
  return {
    JWT_PRIVATE_KEYS: JSON.stringify([generateSigningKey(kid)]),
    PASSWORD_PEPPER: randomBytes(32).toString('base64url'),
  };
}

/** One line per value, single-quoted so the JSON's \n escapes reach the Worker untouched. */
export function toEnvFile(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}='${v.replace(/'/g, "\\'")}'`)
    .join('\n') + '\n';
}
