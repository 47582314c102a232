// Closing a user's live odds sockets when their account stops entitling them to the stream (a downgrade
// below premium, or deletion). A socket was authorised once, at its upgrade, so nothing else would end it.
// The user's RateLimiter remembers which matches they got tickets for; each of those MatchOdds objects
// closes the user's sockets.
import type { RateLimiter } from '../../../durable-objects/rate-limiter';
import type { MatchOdds } from '../../../durable-objects/match-odds';

export interface LiveSocketDeps {
  rateLimiter(subject: string): DurableObjectStub<RateLimiter>;
  matchOdds(matchId: number): DurableObjectStub<MatchOdds>;
}

export async function disconnectLiveSockets(deps: LiveSocketDeps, userId: string, reason: string): Promise<number> {
  const matchIds = await deps.rateLimiter(`user:${userId}`).liveMatches();
  const closed = await Promise.all(matchIds.map((id) => deps.matchOdds(id).disconnectUser(userId, reason)));
  return closed.reduce((a, b) => a + b, 0);
}
