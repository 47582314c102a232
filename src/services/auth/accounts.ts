// Accounts and sessions: registration, login, refresh-token rotation, logout, profile, deletion and the
// admin's tier/role changes. Refresh tokens are opaque random values stored as SHA-256 hashes, valid for
// 30 days, and rotated on every use; replaying a rotated one revokes its whole family.
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { adminActions, emailOutbox, emailVerificationTokens, refreshTokens, users, type Role, type Tier } from '../../db/schema';
import { randomToken, sha256Hex } from '../../lib/encoding';
import { problem } from '../../lib/problem';
import { signAccessToken, type TokenSettings } from './access-tokens';
import { dummyPasswordHash, hashPassword, passwordPolicyViolations, verifyPassword } from './passwords';
import type { SigningKeys } from './signing-keys';
import { InvalidError, NotFoundError, UnauthorizedError } from '../../lib/errors';

export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;
/** However often it is rotated, a refresh session ends this long after the login that started it. */
export const REFRESH_SESSION_MAX_MS = 90 * 24 * 3600 * 1000;
/** Expired refresh tokens are kept this long (a replay of one is still told it expired), then deleted. */
const EXPIRED_REFRESH_TOKEN_RETENTION_MS = 24 * 3600 * 1000;
export const EMAIL_VERIFICATION_TTL_MS = 7 * 24 * 3600 * 1000;
/**
 * A browser with two tabs, or an app retrying after a timeout, can present the same refresh token twice
 * within moments. Within this grace a second use of a just-rotated token is treated as such a race: it gets
 * its own successor in the same family. After it, a second use can only be a replay of a stolen token, and
 * the whole family is revoked.
 */
export const REFRESH_REUSE_GRACE_MS = 5_000;

/**
 * The first key of the two-key advisory lock that serialises every change to one refresh-token family
 * (the second is the family id's hash). A collision only makes two families wait for each other.
 */
const FAMILY_LOCK_NAMESPACE = 0x5e20;

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * Takes the family's lock for the rest of the transaction. A revocation is an UPDATE of the family's unrevoked
 * rows; without this lock, a refresh that already held its token's row lock inserts its child after the
 * UPDATE's snapshot and the family lives on. Under the lock the two run one after the other: the refresh
 * either mints before the revocation (whose UPDATE, a later statement, then sees the child) or sees the
 * revocation and refuses.
 */
async function lockFamily(tx: Tx, familyId: string): Promise<void> {
  // A `sql` template because the builder cannot call a function without a table; no row is read.
  await tx.execute(sql`select pg_advisory_xact_lock(${FAMILY_LOCK_NAMESPACE}, hashtext(${familyId}))`);
}

/** The first key of the advisory lock that serialises registrations of one address (case-insensitively). */
const ADDRESS_LOCK_NAMESPACE = 0x5e21;

/**
 * Takes the address's lock for the rest of the transaction, on both registration paths. Two attempts at a taken
 * address then check the outbox one after the other, so a burst of them cannot queue more than one notice.
 */
async function lockAddress(tx: Tx, email: string): Promise<void> {
  // A `sql` template because the builder cannot call a function without a table; no row is read.
  await tx.execute(sql`select pg_advisory_xact_lock(${ADDRESS_LOCK_NAMESPACE}, hashtext(lower(${email})))`);
}

export const VERIFICATION_SUBJECT = 'Verify your Senzu AI email address';
export const REGISTRATION_NOTICE_SUBJECT = 'Someone tried to register with your Senzu AI email address';
/** A taken address's owner is told of registration attempts at most this often, so nobody can flood their mailbox. */
export const REGISTRATION_NOTICE_INTERVAL_MS = 24 * 3600 * 1000;

export interface AuthSettings extends TokenSettings {
  pepper: string;
}

export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

export interface Profile {
  id: string;
  email: string;
  tier: Tier;
  role: Role;
  createdAt: Date;
}

const unauthorized = (detail: string) => new UnauthorizedError(detail, 'bearer');
const ACCOUNT_GONE = 'The account this token belongs to no longer exists';

export class AccountService {
  constructor(
    private readonly db: () => Database,
    private readonly keys: () => Promise<SigningKeys>,
    private readonly settings: AuthSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Registers an address without telling the caller whether it was already taken (issue 20, gap 8: account
   * enumeration). A new address gets its account (with the id the caller chose, so its RateLimiter can be told
   * it is unverified before the account exists) and the verification mail; a taken one gets a notice to its
   * owner, at most one per REGISTRATION_NOTICE_INTERVAL_MS, and its account is left as it is. Both paths hash
   * the password, run one transaction of a few statements and issue no tokens, so neither the answer nor its
   * time tells them apart. Returns the address as it was normalised, the same on both paths.
   */
  async register(emailInput: string, password: string, userId: string = crypto.randomUUID()): Promise<{ email: string }> {
    const email = emailInput.trim();
    const violations = passwordPolicyViolations(password, email);
    if (violations.length) {
      throw problem.validation(violations.map((reason) => ({ name: 'password', in: 'body' as const, reason: `Password ${reason}` })));
    }
    // Hashed on both paths: a taken address that skipped the KDF would answer a whole PBKDF2 sooner.
    const passwordHash = await hashPassword(password, this.settings.pepper);
    const verification = `ev_${randomToken(32)}`;
    const verificationHash = await sha256Hex(verification);
    const now = this.now();
    await this.db().transaction(async (tx) => {
      await lockAddress(tx, email);
      const [created] = await tx
        .insert(users)
        .values({ id: userId, email, passwordHash })
        .onConflictDoNothing()
        .returning({ id: users.id, email: users.email });
      if (created) {
        await tx.insert(emailVerificationTokens).values({ tokenHash: verificationHash, userId: created.id, expiresAt: new Date(now.getTime() + EMAIL_VERIFICATION_TTL_MS) });
        await tx.insert(emailOutbox).values({
          userId: created.id,
          recipient: created.email,
          subject: VERIFICATION_SUBJECT,
          body: `Your verification token: ${verification}\nSend it as POST /auth/verify-email {"token": "${verification}"} within 7 days to unlock the free tier's daily predictions.`,
        });
        return;
      }
      // The owner's own spelling of the address is the recipient; the caller's never reaches the mail.
      const [owner] = await tx.select({ id: users.id, email: users.email }).from(users).where(eq(sql`lower(${users.email})`, email.toLowerCase()));
      // Gone between the insert and this read (deleted by its owner): nobody to tell.
      if (!owner) return;
      const [recent] = await tx
        .select({ id: emailOutbox.id })
        .from(emailOutbox)
        .where(
          and(
            eq(emailOutbox.userId, owner.id),
            eq(emailOutbox.subject, REGISTRATION_NOTICE_SUBJECT),
            gt(emailOutbox.createdAt, new Date(now.getTime() - REGISTRATION_NOTICE_INTERVAL_MS)),
          ),
        )
        .limit(1);
      if (recent) return;
      await tx.insert(emailOutbox).values({
        userId: owner.id,
        recipient: owner.email,
        subject: REGISTRATION_NOTICE_SUBJECT,
        createdAt: now,
        body:
          'Someone tried to create a Senzu AI account with this email address, which already has one. Nothing about your account was changed.\n' +
          'If it was you, sign in instead: POST /auth/login with this email and your password.\n' +
          'If it was not you, you can ignore this mail. We send at most one such notice a day.',
      });
    });
    return { email };
  }

  /** Marks the token's account verified and spends the token; undefined when it is unknown, used or expired. */
  /** Spends a verification token and marks its user's email verified; returns the user id. */
  async verifyEmail(token: string): Promise<string> {
    const tokenHash = await sha256Hex(token);
    const now = this.now();
    const userId = await this.db().transaction(async (tx) => {
      const [spent] = await tx
        .delete(emailVerificationTokens)
        .where(and(eq(emailVerificationTokens.tokenHash, tokenHash), gt(emailVerificationTokens.expiresAt, now)))
        .returning({ userId: emailVerificationTokens.userId });
      if (!spent) return undefined;
      await tx.update(users).set({ emailVerifiedAt: now, updatedAt: now }).where(and(eq(users.id, spent.userId), isNull(users.emailVerifiedAt)));
      return spent.userId;
    });
    if (!userId) throw new InvalidError('The verification token is unknown, already used or expired', { slug: 'invalid-token', title: 'Invalid verification token' });
    return userId;
  }

  async login(emailInput: string, password: string): Promise<TokenPair> {
    const [user] = await this.db()
      .select()
      .from(users)
      .where(eq(sql`lower(${users.email})`, emailInput.trim().toLowerCase()))
      .limit(1);
    // An unknown email still pays for one full PBKDF2, so response time does not reveal which emails exist.
    const check = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash(this.settings.pepper)), this.settings.pepper);
    if (!user || !check.valid) throw unauthorized('The email or password is wrong');
    if (check.needsRehash) {
      await this.db()
        .update(users)
        .set({ passwordHash: await hashPassword(password, this.settings.pepper), updatedAt: this.now() })
        .where(eq(users.id, user.id));
    }
    const tokens = await this.issueTokens(user, crypto.randomUUID(), null);
    // Each login sweeps its user's long-expired refresh tokens, so the table holds live sessions, not history.
    await this.db()
      .delete(refreshTokens)
      .where(and(eq(refreshTokens.userId, user.id), lt(refreshTokens.expiresAt, new Date(this.now().getTime() - EXPIRED_REFRESH_TOKEN_RETENTION_MS))));
    return tokens;
  }

  async refresh(presented: string): Promise<TokenPair> {
    const tokenHash = await sha256Hex(presented);
    const now = this.now();
    // Failures are returned, not thrown, from the transaction: a replay's family revocation must commit.
    const outcome = await this.db().transaction(async (tx): Promise<{ tokens: TokenPair } | { failure: string }> => {
      const [located] = await tx.select({ familyId: refreshTokens.familyId }).from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
      if (!located) return { failure: 'The refresh token is not valid' };
      // The family first, then the row (always in this order, so no deadlock): the row lock serialises two
      // refreshes of one token, so exactly one rotates it; the family lock serialises them with revocations.
      await lockFamily(tx, located.familyId);
      const [row] = await tx
        .select({ token: refreshTokens, user: users })
        .from(refreshTokens)
        .innerJoin(users, eq(users.id, refreshTokens.userId))
        .where(eq(refreshTokens.tokenHash, tokenHash))
        .for('update', { of: refreshTokens });
      if (!row) return { failure: 'The refresh token is not valid' };
      const { token, user } = row;
      if (token.revokedAt) return { failure: 'The refresh token has been revoked' };
      if (token.expiresAt <= now) return { failure: 'The refresh token has expired' };
      if (token.rotatedAt) {
        if (now.getTime() - token.rotatedAt.getTime() > REFRESH_REUSE_GRACE_MS) {
          await tx
            .update(refreshTokens)
            .set({ revokedAt: now })
            .where(and(eq(refreshTokens.familyId, token.familyId), isNull(refreshTokens.revokedAt)));
          return { failure: 'The refresh token was already used; every session of its family has been revoked' };
        }
      } else {
        await tx.update(refreshTokens).set({ rotatedAt: now }).where(eq(refreshTokens.id, token.id));
      }
      return { tokens: await this.issueTokens(user, token.familyId, token.id, tx, token.sessionStartedAt) };
    });
    if ('failure' in outcome) throw unauthorized(outcome.failure);
    return outcome.tokens;
  }

  /** Revokes the refresh token's whole family (every session descended from one login). Idempotent. */
  async logout(presented: string): Promise<void> {
    const tokenHash = await sha256Hex(presented);
    const found = await this.db().transaction(async (tx) => {
      const [row] = await tx.select({ familyId: refreshTokens.familyId }).from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
      if (!row) return false;
      await lockFamily(tx, row.familyId);
      await tx
        .update(refreshTokens)
        .set({ revokedAt: this.now() })
        .where(and(eq(refreshTokens.familyId, row.familyId), isNull(refreshTokens.revokedAt)));
      return true;
    });
    if (!found) throw unauthorized('The refresh token is not valid');
  }

  /** The caller's own profile; an UnauthorizedError when the account is gone (the token outlived it). */
  async profile(userId: string): Promise<Profile> {
    const [row] = await this.db()
      .select({ id: users.id, email: users.email, tier: users.tier, role: users.role, createdAt: users.createdAt })
      .from(users)
      .where(eq(users.id, userId));
    if (!row) throw new UnauthorizedError(ACCOUNT_GONE);
    return row;
  }

  /** Deletes the account; refresh tokens and API keys go with it (ON DELETE CASCADE). */
  async deleteAccount(userId: string): Promise<void> {
    const deleted = await this.db().delete(users).where(eq(users.id, userId)).returning({ id: users.id });
    // The token outlived its account (deleted by a concurrent request): the credentials no longer hold.
    if (deleted.length === 0) throw new UnauthorizedError(ACCOUNT_GONE);
  }

  /**
   * Sets tier and/or role and bumps the user's token epoch, so tokens signed before the change can be refused
   * (the caller raises the RateLimiter's floor to the returned epoch).
   */
  async updateUser(
    userId: string,
    changes: { tier?: Tier; role?: Role },
    actorId: string,
  ): Promise<Profile & { tokenEpoch: number }> {
    const updated = await this.db().transaction(async (tx) => {
      const [row] = await tx
        .update(users)
        .set({ ...changes, tokenEpoch: sql`${users.tokenEpoch} + 1`, updatedAt: this.now() })
        .where(eq(users.id, userId))
        .returning({ id: users.id, email: users.email, tier: users.tier, role: users.role, createdAt: users.createdAt, tokenEpoch: users.tokenEpoch });
      // In the change's transaction: a change without its record cannot happen.
      if (row) await this.recordAdminAction(actorId, 'user.update', `user:${userId}`, changes, tx);
      return row;
    });
    if (!updated) throw NotFoundError.of('user', userId);
    return updated;
  }

  /** Records an admin's action (who, what, on what); see the admin_actions table. */
  async recordAdminAction(actorId: string, action: string, target: string, details: Record<string, unknown>, tx: Pick<Database, 'insert'> = this.db()): Promise<void> {
    await tx.insert(adminActions).values({ actorId, action, target, details, createdAt: this.now() });
  }

  private async issueTokens(
    user: { id: string; tier: Tier; role: Role; tokenEpoch: number },
    familyId: string,
    parentId: string | null,
    tx: Pick<Database, 'insert'> = this.db(),
    sessionStartedAt: Date = this.now(),
  ): Promise<TokenPair> {
    const now = this.now();
    const refreshToken = `rt_${randomToken(32)}`;
    const expiresAt = new Date(Math.min(now.getTime() + REFRESH_TOKEN_TTL_MS, sessionStartedAt.getTime() + REFRESH_SESSION_MAX_MS));
    await tx.insert(refreshTokens).values({
      userId: user.id,
      familyId,
      parentId,
      tokenHash: await sha256Hex(refreshToken),
      issuedAt: now,
      expiresAt,
      sessionStartedAt,
    });
    const access = await signAccessToken(await this.keys(), this.settings, user, Math.floor(now.getTime() / 1000));
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken,
      refreshExpiresIn: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
    };
  }
}
