// Access tokens: RS256 JWTs (RFC 9068 profile, typ "at+jwt") valid for 15 minutes. Verification pins the
// algorithm, the type, the issuer and the audience, so an `alg: none` token, an HS256 token "signed" with
// the public key, or a refresh token can never pass. Refresh tokens are opaque random strings, not JWTs,
// so the two kinds cannot be confused in either direction.
import { errors, jwtVerify, SignJWT, decodeProtectedHeader } from 'jose';
import type { Role, Tier } from '../../db/schema';
import { ALG, type SigningKeys } from './signing-keys';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const TOKEN_TYPE = 'at+jwt';

export interface AccessClaims {
  sub: string;
  tier: Tier;
  role: Role;
  /** Issued-at, seconds. */
  iat: number;
  exp: number;
  jti: string;
  /** The user's token epoch when the token was signed (0 for tokens signed before epochs existed). */
  epoch: number;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
}

export async function signAccessToken(
  keys: SigningKeys,
  settings: TokenSettings,
  user: { id: string; tier: Tier; role: Role; tokenEpoch: number },
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<{ token: string; expiresIn: number }> {
  const token = await new SignJWT({ tier: user.tier, role: user.role, epoch: user.tokenEpoch })
    .setProtectedHeader({ alg: ALG, kid: keys.signing.kid, typ: TOKEN_TYPE })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(user.id)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + ACCESS_TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(keys.signing.key);
  return { token, expiresIn: ACCESS_TOKEN_TTL_SECONDS };
}

export type TokenFailure = 'malformed' | 'expired' | 'invalid' | 'unknown-key';

export class AccessTokenError extends Error {
  constructor(
    readonly reason: TokenFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AccessTokenError';
  }
}

const TIERS = new Set(['free', 'premium', 'pro']);
const ROLES = new Set(['user', 'admin']);

export async function verifyAccessToken(keys: SigningKeys, settings: TokenSettings, token: string): Promise<AccessClaims> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    throw new AccessTokenError('malformed', 'The access token is not a JWT');
  }
  const key = kid ? keys.verification.get(kid) : undefined;
  if (!key) throw new AccessTokenError('unknown-key', 'The access token was signed with an unknown key');
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALG],
      issuer: settings.issuer,
      audience: settings.audience,
      typ: TOKEN_TYPE,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    });
    const tier = payload.tier;
    const role = payload.role;
    if (typeof tier !== 'string' || !TIERS.has(tier) || typeof role !== 'string' || !ROLES.has(role)) {
      throw new AccessTokenError('invalid', 'The access token has no valid tier or role');
    }
    const epoch = payload.epoch ?? 0;
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw new AccessTokenError('invalid', 'The access token has no valid epoch');
    return { sub: payload.sub!, tier: tier as Tier, role: role as Role, iat: payload.iat!, exp: payload.exp!, jti: payload.jti!, epoch };
  } catch (error) {
    if (error instanceof AccessTokenError) throw error;
    if (error instanceof errors.JWTExpired) throw new AccessTokenError('expired', 'The access token has expired');
    if (error instanceof errors.JWTClaimValidationFailed) throw new AccessTokenError('invalid', `The access token is not valid: ${error.message}`);
    if (error instanceof errors.JOSEAlgNotAllowed) throw new AccessTokenError('invalid', 'The access token uses an algorithm other than RS256');
    if (error instanceof errors.JWSSignatureVerificationFailed) throw new AccessTokenError('invalid', 'The access token signature is not valid');
    if (error instanceof errors.JOSEError) throw new AccessTokenError('malformed', 'The access token is malformed');
    throw error;
  }
}
