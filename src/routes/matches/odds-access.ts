import type { Context } from 'hono';
import { FULL_ODDS_HISTORY, type OddsAccess } from '../../services/odds';
import type { AppEnv } from '../../types';

/**
 * How much odds history this caller may read. Every caller gets the full history until authentication
 * lands; then this becomes the one place that maps the caller's tier to a window (free: the latest price
 * of each line plus the last 7 days; premium and pro: full). The odds service already enforces any
 * window it is given, so no route or query changes with it.
 */
export function oddsAccessFor(_c: Context<AppEnv>): OddsAccess {
  return FULL_ODDS_HISTORY;
}
