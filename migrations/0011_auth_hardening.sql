-- Abuse resistance (issue 20). See docs/security.md for the controls these columns carry.

-- The token epoch: every access token carries the epoch its user had when it was signed. A change of role or
-- tier bumps it, and the user's RateLimiter (consulted by every authenticated request) refuses older epochs,
-- so a demoted admin or a downgraded user cannot keep using what the old token claims.
ALTER TABLE users ADD COLUMN token_epoch integer NOT NULL DEFAULT 0;
