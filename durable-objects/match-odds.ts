import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../src/env';

/**
 * One instance per match: the live odds state and the WebSocket fan-out to subscribers. SQLite-backed and
 * called over native RPC. Its state arrives with the live ingestion work.
 */
export class MatchOdds extends DurableObject<Env> {}
