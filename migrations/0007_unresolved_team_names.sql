-- Provider team names that resolved to no team (no team_aliases row for that provider). The fixture is
-- skipped and the name is kept here for review: adding the alias is the fix, and nothing is invented. One row
-- per (provider, name); each sighting bumps last_seen and occurrences.
CREATE TABLE unresolved_team_names (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider    text NOT NULL,
  name        text NOT NULL,
  competition text,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  occurrences integer NOT NULL DEFAULT 1 CHECK (occurrences > 0),
  CONSTRAINT unresolved_team_names_provider_name_key UNIQUE (provider, name)
);
