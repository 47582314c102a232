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

-- Email verification: the free tier's prediction quota applies once the address is proven, so farming it
-- takes a mailbox per account. Accounts that exist today count as verified (they keep what they have).
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at;
CREATE TABLE email_verification_tokens (
  token_hash text PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);
CREATE INDEX email_verification_tokens_user_idx ON email_verification_tokens (user_id);
-- Mail is written here in the registration's transaction and delivered by a sender that reads it
-- (locally `npm run email:outbox`), so a registration never half-happens because a mail provider was down.
CREATE TABLE email_outbox (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
  recipient  text NOT NULL,
  subject    text NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz
);
CREATE INDEX email_outbox_unsent_idx ON email_outbox (created_at) WHERE sent_at IS NULL;

-- An absolute lifetime for refresh sessions: rotation renews a token for 30 days, but never past 90 days after
-- the login that started its family. Existing families started at their oldest token.
ALTER TABLE refresh_tokens ADD COLUMN session_started_at timestamptz;
UPDATE refresh_tokens t SET session_started_at = f.started
  FROM (SELECT family_id, min(issued_at) AS started FROM refresh_tokens GROUP BY family_id) f
  WHERE t.family_id = f.family_id;
ALTER TABLE refresh_tokens ALTER COLUMN session_started_at SET NOT NULL;
ALTER TABLE refresh_tokens ALTER COLUMN session_started_at SET DEFAULT now();

-- Who did what as an admin: tier and role changes and manual ingestion runs (model activations record their
-- admin on model_runs already). An admin's deletion keeps the trail, with the actor set to null.
CREATE TABLE admin_actions (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  actor_id   uuid REFERENCES users (id) ON DELETE SET NULL,
  action     text NOT NULL,
  target     text NOT NULL,
  details    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_actions_target_idx ON admin_actions (target, created_at);
