// API keys for programmatic consumers: `sk_<prefix>_<secret>`. The key is shown once at creation; only its
// SHA-256 is stored (a 256-bit random secret needs no slow hash). A key authenticates as its owner, with the
// owner's current tier and role, limited to its scopes, until it expires (if it has an expiry).
import { and, desc, eq, gt, isNull, lt, or } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { apiKeys, users, type ApiKeyScope, type Role, type Tier } from '../../db/schema';
import { randomToken, sha256Hex } from '../../lib/encoding';
import { NotFoundError } from '../../lib/errors';

const KEY_PATTERN = /^sk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;
/** last_used_at is a coarse signal; writing it at most once a minute keeps a busy key from a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** A key created without scopes: what a bot reading data needs, and nothing that manages the account. */
export const DEFAULT_API_KEY_SCOPES: ApiKeyScope[] = ['read', 'predictions'];

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
}

export interface ApiKeyIdentity {
  keyId: string;
  userId: string;
  tier: Tier;
  role: Role;
  lastUsedAt: Date | null;
  scopes: ApiKeyScope[];
}

const SUMMARY = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
  scopes: apiKeys.scopes,
  expiresAt: apiKeys.expiresAt,
};

const SCOPE_ORDER: Record<ApiKeyScope, number> = { read: 0, predictions: 1, account: 2 };

export const looksLikeApiKey = (value: string) => value.startsWith('sk_');

export class ApiKeyService {
  constructor(
    private readonly db: () => Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(
    userId: string,
    name: string,
    options: { scopes?: ApiKeyScope[]; expiresAt?: Date } = {},
  ): Promise<ApiKeySummary & { key: string }> {
    const prefix = `sk_${[...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    const key = `${prefix}_${randomToken(32)}`;
    const [row] = await this.db()
      .insert(apiKeys)
      .values({
        userId,
        name,
        prefix,
        keyHash: await sha256Hex(key),
        // In the order of API_KEY_SCOPES, whatever order the caller listed them in.
        scopes: options.scopes ? [...new Set(options.scopes)].sort((a, b) => SCOPE_ORDER[a] - SCOPE_ORDER[b]) : DEFAULT_API_KEY_SCOPES,
        expiresAt: options.expiresAt ?? null,
      })
      .returning(SUMMARY);
    return { ...row!, key };
  }

  list(userId: string): Promise<ApiKeySummary[]> {
    return this.db()
      .select(SUMMARY)
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
  }

  /** A NotFoundError when the key does not exist, is already revoked, or belongs to someone else (all look alike). */
  async revoke(userId: string, keyId: string): Promise<void> {
    const revoked = await this.db()
      .update(apiKeys)
      .set({ revokedAt: this.now() })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    if (revoked.length === 0) throw NotFoundError.of('API key', keyId);
  }

  async authenticate(key: string): Promise<ApiKeyIdentity | undefined> {
    if (!KEY_PATTERN.test(key)) return undefined;
    const [row] = await this.db()
      .select({ keyId: apiKeys.id, userId: users.id, tier: users.tier, role: users.role, lastUsedAt: apiKeys.lastUsedAt, scopes: apiKeys.scopes })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(
        and(
          eq(apiKeys.keyHash, await sha256Hex(key)),
          isNull(apiKeys.revokedAt),
          or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, this.now())),
        ),
      );
    return row;
  }

  /** Whether the identity's last_used_at is stale enough to record this use (so touch() is worth a write). */
  needsTouch(identity: Pick<ApiKeyIdentity, 'lastUsedAt'>): boolean {
    return identity.lastUsedAt === null || this.now().getTime() - identity.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS;
  }

  async touch(keyId: string): Promise<void> {
    const now = this.now();
    await this.db()
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, new Date(now.getTime() - LAST_USED_RESOLUTION_MS)))));
  }
}
