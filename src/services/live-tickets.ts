// Single-use tickets for the live odds WebSocket. Browsers cannot set headers on a WebSocket, so a premium
// or pro caller first asks for a ticket with ordinary credentials and then opens
// `/matches/{id}/odds/live?ticket=...`. A ticket is `lt1.<payload>.<mac>`:
//   payload = base64url(JSON { jti, sub, mid, exp })   (ticket id, user id, match id, expiry in ms)
//   mac     = base64url(HMAC-SHA-256(key, "lt1." + payload))
// The key is derived from PASSWORD_PEPPER with HKDF under its own label, so the pepper itself never keys a
// MAC and no new secret has to be provisioned. Statelessly verified here (signature, expiry, match); made
// single-use by the match's MatchOdds object, which remembers used ids until they expire.
import { base64url, fromBase64url, randomToken, utf8 } from '../lib/encoding';
import { UnauthorizedError } from '../lib/errors';

export const LIVE_TICKET_TTL_SECONDS = 30;
const PREFIX = 'lt1';
const MAX_TICKET_LENGTH = 512;
/** Clock skew tolerated between the issuing and the verifying isolate. */
const MAX_FUTURE_MS = (LIVE_TICKET_TTL_SECONDS + 5) * 1000;

export interface LiveTicketClaims {
  /** Random ticket id, remembered by the match's Durable Object once used. */
  id: string;
  userId: string;
  matchId: number;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

export type LiveTicketFailure = 'malformed' | 'signature' | 'expired' | 'other-match';

/** A refused ticket: a 401 without a Bearer challenge (the ticket, not a token, is the credential here). */
export class LiveTicketError extends UnauthorizedError {
  override name = 'LiveTicketError';
  constructor(
    readonly reason: LiveTicketFailure,
    message: string,
  ) {
    super(message, 'none');
  }
}

const keys = new Map<string, Promise<CryptoKey>>();

function ticketKey(pepper: string): Promise<CryptoKey> {
  let key = keys.get(pepper);
  if (!key) {
    key = (async () => {
      const material = await crypto.subtle.importKey('raw', utf8(pepper), 'HKDF', false, ['deriveKey']);
      return crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: utf8('senzu-live-ticket'), info: utf8('lt1 hmac key') },
        material,
        { name: 'HMAC', hash: 'SHA-256', length: 256 },
        false,
        ['sign', 'verify'],
      );
    })();
    keys.set(pepper, key);
  }
  return key;
}

export async function issueLiveTicket(
  pepper: string,
  subject: { userId: string; matchId: number },
  now = Date.now(),
): Promise<{ ticket: string; claims: LiveTicketClaims }> {
  const claims: LiveTicketClaims = { id: randomToken(16), userId: subject.userId, matchId: subject.matchId, expiresAt: now + LIVE_TICKET_TTL_SECONDS * 1000 };
  const payload = base64url(utf8(JSON.stringify({ jti: claims.id, sub: claims.userId, mid: claims.matchId, exp: claims.expiresAt })));
  const mac = await crypto.subtle.sign('HMAC', await ticketKey(pepper), utf8(`${PREFIX}.${payload}`));
  return { ticket: `${PREFIX}.${payload}.${base64url(mac)}`, claims };
}

/** Verifies a ticket for `matchId`; throws LiveTicketError saying why it is refused. Does not consume it. */
export async function verifyLiveTicket(pepper: string, ticket: string, matchId: number, now = Date.now()): Promise<LiveTicketClaims> {
  const parts = ticket.length <= MAX_TICKET_LENGTH ? ticket.split('.') : [];
  if (parts.length !== 3 || parts[0] !== PREFIX || !/^[A-Za-z0-9_-]+$/.test(parts[1]!) || !/^[A-Za-z0-9_-]+$/.test(parts[2]!)) {
    throw new LiveTicketError('malformed', 'The ticket is not a live ticket');
  }
  let mac: Uint8Array;
  try {
    mac = fromBase64url(parts[2]!);
  } catch {
    throw new LiveTicketError('malformed', 'The ticket is not a live ticket');
  }
  // subtle.verify compares in constant time.
  if (!(await crypto.subtle.verify('HMAC', await ticketKey(pepper), mac, utf8(`${PREFIX}.${parts[1]}`)))) {
    throw new LiveTicketError('signature', 'The ticket signature is not valid');
  }
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(new TextDecoder().decode(fromBase64url(parts[1]!))) as Record<string, unknown>;
  } catch {
    throw new LiveTicketError('malformed', 'The ticket payload is not valid');
  }
  const { jti, sub, mid, exp } = payload ?? {};
  if (typeof jti !== 'string' || jti.length === 0 || typeof sub !== 'string' || typeof mid !== 'number' || typeof exp !== 'number' || !Number.isSafeInteger(exp)) {
    throw new LiveTicketError('malformed', 'The ticket payload is not valid');
  }
  if (mid !== matchId) throw new LiveTicketError('other-match', 'The ticket was issued for another match');
  if (exp <= now) throw new LiveTicketError('expired', 'The ticket has expired');
  // Only we sign tickets, so this cannot happen unless the key leaked; refuse rather than honour a long-lived one.
  if (exp > now + MAX_FUTURE_MS) throw new LiveTicketError('malformed', 'The ticket lifetime is not valid');
  return { id: jti, userId: sub, matchId: mid, expiresAt: exp };
}
