// The address a per-IP limit is charged to.
import type { Context } from 'hono';
import type { AppEnv } from '../types';

export function clientIp(c: Context<AppEnv>): string {
  return limitKeyOf(c.req.header('cf-connecting-ip') ?? c.req.header('x-real-ip') ?? '127.0.0.1');
}

/**
 * The key an address is limited under. An IPv6 host usually gets a whole /64 (2^64 addresses) to pick from, so
 * limiting single IPv6 addresses limits nothing: they are grouped by /64. IPv4 (mapped ones included) is
 * limited per address. Whatever does not parse is used as given.
 */
export function limitKeyOf(address: string): string {
  const text = address.trim().toLowerCase();
  if (!text.includes(':')) return text;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (mapped) return mapped[1]!;
  const groups = expandIpv6(text.split('%')[0]!);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : text;
}

function expandIpv6(text: string): string[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  // An embedded IPv4 tail (::1.2.3.4) is two groups; only the first four groups matter, so it just counts as two.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const missing = 8 - width(head) - width(tail);
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.slice(0, 4).every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => (g.includes('.') ? g : String(parseInt(g, 16).toString(16))));
}
