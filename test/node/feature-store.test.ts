// The feature store against the full replay, on real history (E0 2022/23 and 2023/24 in a database of this
// file's own): advanced week by week as results become known, its stored states are byte for byte those of
// featureStateAt (the timeline every training vector comes from), including after a late result and a
// corrected score; serving's read returns the same states for an upcoming match.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeDatabase } from '../../scripts/lib/db';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { FEATURE_VERSION, featureStateAt, headToHeadKey, resultKnownAt, type TimelineMatch } from '../../src/services/features';
import { advanceFeatureStore, FeatureStateRepository, isNbaState, timelineMatches } from '../../src/services/feature-store';
import { DomainError } from '../../src/lib/errors';
import { problemOf } from '../../src/lib/problem';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();
const DAY = 86_400_000;

const timeline = (): Promise<TimelineMatch[]> => timelineMatches(nodeDatabase(db.pool));

/** Every stored state as its exact JSON text, keyed like the replay's. */
async function storedStates(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const read = async (table: string, key: string) => {
    const { rows } = await db.pool.query<{ key: string; state: string }>(`select ${key} as key, state::text as state from ${table} where feature_version = $1`, [FEATURE_VERSION]);
    return rows;
  };
  for (const r of await read('feature_team_states', `'team:' || team_id`)) out[r.key] = r.state;
  for (const r of await read('feature_pair_states', `'pair:' || team_low || '-' || team_high`)) out[r.key] = r.state;
  for (const r of await read('feature_league_states', `'league:' || competition_id`)) out[r.key] = r.state;
  return out;
}

/** The full replay's states as of `asOf`, serialised as the store writes them. */
function replayedStates(matches: readonly TimelineMatch[], asOf: number): Record<string, string> {
  const store = featureStateAt(matches, asOf);
  const out: Record<string, string> = {};
  for (const t of store.teams.values()) out[`team:${t.teamId}`] = JSON.stringify(t);
  for (const p of store.pairs.values()) out[`pair:${headToHeadKey(p.teamIds[0], p.teamIds[1])}`] = JSON.stringify(p);
  for (const l of store.leagues.values()) out[`league:${l.competitionId}`] = JSON.stringify(l);
  return out;
}

const advance = (at: number) => advanceFeatureStore(nodeDatabase(db.pool), at);

let all: TimelineMatch[];
let firstKickoff: number;
let lastKnown: number;

beforeAll(async () => {
  // No advance on import: the test walks the store through the seasons itself.
  const summary = await importFootballData(db.pool, ['E0_2223.csv', 'E0_2324.csv'].map((f) => join(REPO_DATA_DIR, f)), { featureStoreAt: null });
  expect(summary.failedFiles).toBe(0);
  all = await timeline();
  firstKickoff = Math.min(...all.map((m) => m.startAt));
  lastKnown = Math.max(...all.map(resultKnownAt));
}, 300_000);

describe('the feature store', () => {
  it('equals the full replay, byte for byte, at every week of two seasons as results become known', async () => {
    let applied = 0;
    let checkpoints = 0;
    for (let at = firstKickoff - DAY; at <= lastKnown + 7 * DAY; at += 7 * DAY) {
      const summary = await advance(at);
      expect(summary.rebuilt).toBe(false);
      applied += summary.applied;
      expect(summary.applied).toBe(all.filter((m) => resultKnownAt(m) <= at && resultKnownAt(m) > at - 7 * DAY).length);
      expect(await storedStates()).toEqual(replayedStates(all, at));
      checkpoints++;
    }
    expect(checkpoints).toBeGreaterThan(90);
    expect(applied).toBe(all.length);
    // Nothing new: nothing applied, nothing rewritten.
    expect(await advance(lastKnown + 8 * DAY)).toMatchObject({ applied: 0, rebuilt: false });
  }, 300_000);

  it('stays equal to the replay when a result arrives late or an applied score is corrected', async () => {
    const end = lastKnown + 10 * DAY;
    await advance(end);
    // A match of October 2023 whose result the provider only sends now: until then it looked unplayed.
    const late = all.filter((m) => new Date(m.startAt).toISOString().startsWith('2023-10')).at(0)!;
    await db.pool.query(`update matches set status = 'scheduled', home_score = null, away_score = null where id = $1`, [late.matchId]);
    const withoutLate = await timeline();
    // The change to an applied result makes the next advance start from scratch.
    expect(await advance(end)).toMatchObject({ rebuilt: true, applied: all.length - 1 });
    expect(await storedStates()).toEqual(replayedStates(withoutLate, end));
    await db.pool.query(`update matches set status = 'finished', home_score = $2, away_score = $3 where id = $1`, [late.matchId, late.homeScore, late.awayScore]);
    // It sorts before results already applied: a replay is the only exact answer.
    expect(await advance(end)).toMatchObject({ rebuilt: true, applied: all.length });
    expect(await storedStates()).toEqual(replayedStates(all, end));

    const corrected = all.filter((m) => new Date(m.startAt).toISOString().startsWith('2024-01')).at(-1)!;
    await db.pool.query(`update matches set home_score = home_score + 1 where id = $1`, [corrected.matchId]);
    expect(await advance(end)).toMatchObject({ rebuilt: true });
    expect(await storedStates()).toEqual(replayedStates(await timeline(), end));
    await db.pool.query(`update matches set home_score = home_score - 1 where id = $1`, [corrected.matchId]);
    await advance(end);
    expect(await storedStates()).toEqual(replayedStates(all, end));
  }, 300_000);

  it('does not apply a stored result before it is known, and says when the states stop being current', async () => {
    const last = all.reduce((a, b) => (resultKnownAt(a) >= resultKnownAt(b) ? a : b));
    const justBefore = resultKnownAt(last) - 1;
    await db.pool.query(`update matches set home_score = home_score + 1 where id = $1`, [last.matchId]);
    const summary = await advance(justBefore);
    expect(summary.rebuilt).toBe(true);
    expect(summary.nextKnownAt).toBe(resultKnownAt(last));
    const current = await timeline();
    expect(await storedStates()).toEqual(replayedStates(current, justBefore));
    const sameInstant = all.filter((m) => resultKnownAt(m) === resultKnownAt(last)).length;
    expect(await advance(resultKnownAt(last))).toMatchObject({ applied: sameInstant, rebuilt: false, nextKnownAt: null });
    expect(await storedStates()).toEqual(replayedStates(current, resultKnownAt(last)));
    await db.pool.query(`update matches set home_score = home_score - 1 where id = $1`, [last.matchId]);
    await advance(resultKnownAt(last));
  }, 300_000);

  it("serves an upcoming match the two teams', the pair's and the league's stored states, as the replay has them", async () => {
    const end = lastKnown + 10 * DAY;
    await advance(end);
    const template = all.reduce((a, b) => (a.startAt >= b.startAt ? a : b));
    const startAt = new Date(end + 3 * DAY);
    const { rows } = await db.pool.query<{ id: string }>(
      `insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, status, provider, external_match_id)
       select sport_id, competition_id, null, away_team_id, home_team_id, $2, 'scheduled', 'feature-store-test', 'upcoming-1' from matches where id = $1
       returning id`,
      [template.matchId, startAt],
    );
    const id = Number(rows[0]!.id);
    const stored = await new FeatureStateRepository(() => nodeDatabase(db.pool)).forMatch(id, end);
    expect(stored?.kind).toBe('upcoming');
    if (stored?.kind !== 'upcoming' || isNbaState(stored.state)) throw new Error('expected a football state');
    const replay = featureStateAt(all, end);
    expect(JSON.stringify(stored.state.home)).toBe(JSON.stringify(replay.teams.get(template.awayTeamId)));
    expect(JSON.stringify(stored.state.away)).toBe(JSON.stringify(replay.teams.get(template.homeTeamId)));
    expect(JSON.stringify(stored.state.pair)).toBe(JSON.stringify(replay.pairs.get(headToHeadKey(template.homeTeamId, template.awayTeamId))));
    expect(JSON.stringify(stored.state.league)).toBe(JSON.stringify(replay.leagues.get(template.competitionId)));
    expect(stored.state.staleAfter).toBe(startAt.getTime());
    // A finished match is only ever served its stored prediction.
    expect(await new FeatureStateRepository(() => nodeDatabase(db.pool)).forMatch(template.matchId, end)).toEqual({ kind: 'started', sport: 'soccer', startAt: template.startAt });
  }, 120_000);
  it('refuses to serve from a store of this feature version that was never set up: a 503, not empty states', async () => {
    const now = lastKnown + 10 * DAY;
    const template = all.reduce((a, b) => (a.startAt >= b.startAt ? a : b));
    const client = await db.pool.connect();
    const read = (id: number) => new FeatureStateRepository(() => nodeDatabase(client)).forMatch(id, now);
    try {
      // Inside a transaction that is rolled back, so the other tests keep the store.
      await client.query('begin');
      const { rows } = await client.query<{ id: string }>(
        `insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, status, provider, external_match_id)
         select sport_id, competition_id, null, away_team_id, home_team_id, $2, 'scheduled', 'feature-store-test', 'never-built' from matches where id = $1
         returning id`,
        [template.matchId, new Date(now + 4 * DAY)],
      );
      const id = Number(rows[0]!.id);
      expect((await read(id))?.kind).toBe('upcoming');
      await client.query('delete from feature_store_progress where feature_version = $1', [FEATURE_VERSION]);
      const refused = await read(id).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(DomainError);
      const answer = problemOf(refused as DomainError);
      expect(answer.status).toBe(503);
      expect(answer.detail).toContain(`feature store of ${FEATURE_VERSION}`);
    } finally {
      await client.query('rollback');
      client.release();
    }
  }, 60_000);
});
