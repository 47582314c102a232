-- Abuse resistance (issue 20). See docs/security.md for the controls these columns carry.

-- The token epoch: every access token carries the epoch its user had when it was signed. A change of role or
-- tier bumps it, and the user's RateLimiter (consulted by every authenticated request) refuses older epochs,
-- so a demoted admin or a downgraded user cannot keep using what the old token claims.
ALTER TABLE users ADD COLUMN token_epoch integer NOT NULL DEFAULT 0;

-- API key scopes and expiry. Keys that exist today keep every scope, so nothing that works stops working; a key
-- created without scopes from now on gets read and predictions (docs/decisions.md). Admin routes never accept
-- a key, whatever its scopes.
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{read,predictions,account}'
  CHECK (cardinality(scopes) > 0 AND scopes <@ '{read,predictions,account}'::text[]);
ALTER TABLE api_keys ALTER COLUMN scopes SET DEFAULT '{read,predictions}';
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
