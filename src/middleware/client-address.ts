// The address a per-IP limit is charged to.
import type { Context } from 'hono';
import type { AppEnv } from '../types';

export function clientIp(c: Context<AppEnv>): string {
  return c.req.header('cf-connecting-ip') ?? c.req.header('x-real-ip') ?? '127.0.0.1';
}
