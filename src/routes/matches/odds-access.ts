import type { Context } from 'hono';
import { shapeForTier } from '../../services/auth/tiers';
import type { OddsAccess } from '../../services/odds';
import type { AppEnv } from '../../types';

/**
 * How much odds history this caller may read, from the tier table (free and anonymous: the latest price
 * of each line plus the last 7 days; premium and pro: everything). The odds service enforces whatever
 * window it is given.
 */
export function oddsAccessFor(c: Context<AppEnv>): OddsAccess {
  return shapeForTier(c.get('principal')?.tier ?? null, 'odds-history', new Date());
}
