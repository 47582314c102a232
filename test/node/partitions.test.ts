// Monthly partitions, on a database of the file's own: the shared one gets partitions from other files' jobs
// (the daily cron's upkeep creates months ahead of its scheduled time), and these tests need months to be missing.
import { describe, expect, it } from 'vitest';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();

let seeded = 0;
async function seedMatch(): Promise<number> {
  seeded += 1;
  const client = await db.pool.connect();
  try {
    const sport = await client.query<{ id: number }>(
      `insert into sports (key, name) values ('soccer', 'Soccer') on conflict (key) do update set name = excluded.name returning id`,
    );
    const sportId = sport.rows[0]!.id;
    const comp = await client.query<{ id: number }>(
      `insert into competitions (sport_id, key, name) values ($1, 'test-league', 'Test League')
       on conflict (key) do update set name = excluded.name returning id`,
      [sportId],
    );
    const teams = await client.query<{ id: number }>(
      `insert into teams (sport_id, name) values ($1, 'Partition Home'), ($1, 'Partition Away')
       on conflict (sport_id, name) do update set name = excluded.name returning id`,
      [sportId],
    );
    const match = await client.query<{ id: number }>(
      `insert into matches (sport_id, competition_id, home_team_id, away_team_id, start_at, provider, external_match_id)
       values ($1, $2, $3, $4, '2031-07-10T19:00:00Z'::timestamptz + $5 * interval '1 day', 'test', 'partition-test-' || $5) returning id`,
      [sportId, comp.rows[0]!.id, teams.rows[0]!.id, teams.rows[1]!.id, seeded],
    );
    return Number(match.rows[0]!.id);
  } finally {
    client.release();
  }
}

const insertOdds = (matchId: number, capturedAt: string, point: number | null, price = 2.1) =>
  db.pool.query(
    `insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at)
     values ($1, 'test', 'pinnacle', $2, 'home', $3, $4, 'pre_match', $5) on conflict do nothing`,
    [matchId, point === null ? 'h2h' : 'spreads', point, price, capturedAt],
  );

describe('monthly partitions', () => {
  it('refuses a row for a month with no partition, then accepts it once the month is created on demand', async () => {
    const matchId = await seedMatch();
    await expect(insertOdds(matchId, '2031-07-09T12:00:00Z', null)).rejects.toThrow(/no partition of relation "odds_snapshots"/);
    const { rows } = await db.pool.query<{ name: string }>(`select ensure_month_partition('odds_snapshots', '2031-07-23') as name`);
    expect(rows[0]!.name).toBe('odds_snapshots_y2031m07');
    await insertOdds(matchId, '2031-07-09T12:00:00Z', null);
    const stored = await db.pool.query(`select tableoid::regclass::text as part from odds_snapshots where match_id = $1`, [matchId]);
    expect(stored.rows).toEqual([{ part: 'odds_snapshots_y2031m07' }]);
  });

  it('creates past months too, and is idempotent', async () => {
    const first = await db.pool.query<{ name: string }>(`select ensure_month_partitions('predictions', '2014-08-01', '2014-10-31') as name`);
    expect(first.rows.map((r) => r.name)).toEqual(['predictions_y2014m08', 'predictions_y2014m09', 'predictions_y2014m10']);
    const again = await db.pool.query<{ name: string }>(`select ensure_month_partition('predictions', '2014-09-30') as name`);
    expect(again.rows[0]!.name).toBe('predictions_y2014m09');
  });

  it('bounds a month at UTC midnights whatever the session time zone', async () => {
    const client = await db.pool.connect();
    try {
      await client.query(`set time zone 'Pacific/Auckland'`);
      await client.query(`select ensure_month_partition('odds_snapshots', '2033-01-01')`);
      const { rows } = await client.query<{ bound: string }>(
        `set time zone 'UTC'; select pg_get_expr(relpartbound, oid) as bound from pg_class where relname = 'odds_snapshots_y2033m01'`,
      ).then((r) => (Array.isArray(r) ? r[1]! : r));
      expect(rows[0]!.bound).toBe(`FOR VALUES FROM ('2033-01-01 00:00:00+00') TO ('2033-02-01 00:00:00+00')`);
    } finally {
      client.release();
    }
  });
});

describe('odds_snapshots natural key', () => {
  it('keeps one row when a 1X2 price with a NULL point is inserted twice', async () => {
    const matchId = await seedMatch();
    await db.pool.query(`select ensure_month_partition('odds_snapshots', '2031-08-01')`);
    const first = await insertOdds(matchId, '2031-08-02T10:00:00Z', null);
    const second = await insertOdds(matchId, '2031-08-02T10:00:00Z', null, 2.2);
    expect([first.rowCount, second.rowCount]).toEqual([1, 0]);
    const { rows } = await db.pool.query(`select count(*)::int as n from odds_snapshots where match_id = $1`, [matchId]);
    expect(rows[0]).toEqual({ n: 1 });
    // Without ON CONFLICT the duplicate is a unique violation, not a silent second row.
    await expect(
      db.pool.query(
        `insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at)
         values ($1, 'test', 'pinnacle', 'h2h', 'home', null, 2.3, 'pre_match', '2031-08-02T10:00:00Z')`,
        [matchId],
      ),
    ).rejects.toThrow(/duplicate key value violates unique constraint/);
  });

  it('still tells different lines of the same market apart', async () => {
    const matchId = await seedMatch();
    await db.pool.query(`select ensure_month_partition('odds_snapshots', '2031-08-01')`);
    await insertOdds(matchId, '2031-08-03T10:00:00Z', -0.5);
    await insertOdds(matchId, '2031-08-03T10:00:00Z', -0.25);
    await insertOdds(matchId, '2031-08-03T10:00:00Z', -0.5);
    const { rows } = await db.pool.query(`select count(*)::int as n from odds_snapshots where match_id = $1`, [matchId]);
    expect(rows[0]).toEqual({ n: 2 });
  });
});
