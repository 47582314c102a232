-- Sports are data (data/sports/*.json, docs/sports.md): a team declared in a sport's data file carries the
-- file's stable key (the NBA archive's franchise code, `okc`), so the seeding step finds the same team again
-- after a rename or a relocation and changes its name instead of creating a second team. Teams that come from
-- no data file (football's, named by football-data.co.uk) have no key; NULLs are distinct, so they never clash.
ALTER TABLE teams ADD COLUMN key text;
ALTER TABLE teams ADD CONSTRAINT teams_sport_key_key UNIQUE (sport_id, key);
