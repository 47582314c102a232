// No request path reads a whole table: every statement the Worker sends while serving a request is captured
// on the wire (the test's WebSocket proxy records the connections of one application_name), then EXPLAINed as
// a generic plan with sequential scans disabled. A scan of matches or odds_snapshots that still has neither an
// index condition nor a LIMIT that stops it early is a read whose cost grows with the history: the test fails
// and names the route and the statement. Every GET route of the OpenAPI document is called (new routes are
// covered without editing this file), plus the query variants that take other plans, and the prediction
// route's cold miss: no feature state in KV and a MatchOdds object never woken.
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import worker from '../../src/index';
import { promote, registerUser, type TestUser } from './support/auth';
import { withDb } from './support/models';

const bundle = inject('defaultBundle');
const bytes = (name: string) => Uint8Array.from(atob(bundle.files[name]!), (c) => c.charCodeAt(0));

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** Tables whose full read grows with the history. */
const GUARDED = (relation: string) => relation === 'matches' || relation.startsWith('odds_snapshots');
/** Nodes that read their whole input before producing a row: a LIMIT above them does not stop the scan below. */
const BLOCKING = new Set(['Sort', 'Incremental Sort', 'Aggregate', 'Hash', 'Materialize', 'WindowAgg', 'SetOp', 'Group']);

/** The unbounded scans of a plan: no index condition, and no LIMIT that can stop them early. */
export function unboundedScans(node: PlanNode, limited = false): string[] {
  const out: string[] = [];
  const type = node['Node Type'];
  const relation = node['Relation Name'];
  if (relation && GUARDED(relation)) {
    const keyed = (type === 'Index Scan' || type === 'Index Only Scan') && node['Index Cond'] !== undefined;
    const bitmap = type === 'Bitmap Heap Scan';
    if (!keyed && !bitmap && !limited) out.push(`${type} on ${relation}`);
  }
  const childLimited = type === 'Limit' ? true : BLOCKING.has(type) ? false : limited;
  for (const child of node.Plans ?? []) out.push(...unboundedScans(child, childLimited));
  return out;
}

// RECORD_PREFIX of scripts/lib/ws-proxy.ts (a Node module, so not imported into workerd).
const applicationName = `record-statements-bounded-${Date.now().toString(36)}`;
const probeEnv = {
  ...env,
  DATABASE_URL: `${env.DATABASE_URL}${env.DATABASE_URL.includes('?') ? '&' : '?'}application_name=${applicationName}`,
};
const proxyHost = inject('wsProxy').split('/')[0];

async function recorded(): Promise<string[]> {
  return (await (await fetch(`http://${proxyHost}/statements?application_name=${encodeURIComponent(applicationName)}`)).json()) as string[];
}

let user: TestUser;
let seen = 0;
/** Statements per call, as the wire carried them (a route called twice has two entries). */
const byRoute: Array<[string, string[]]> = [];

/** Calls the Worker with the recorded database connection; what it sent on the wire is this route's. */
async function call(route: string, path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://api.test${path}`, { headers: { authorization: `Bearer ${user.accessToken}`, 'cf-connecting-ip': '10.9.8.7' } }),
    probeEnv,
    ctx,
  );
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  const all = await recorded();
  byRoute.push([`${route} (${path})`, all.slice(seen)]);
  seen = all.length;
  return res;
}

/** EXPLAIN of a statement as a generic plan (the values of $n unknown), sequential scans disabled. */
async function explain(statement: string): Promise<PlanNode | { error: string }> {
  const params = Math.max(0, ...[...statement.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  return withDb((db) =>
    db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
      try {
        await tx.execute(sql.raw(`savepoint probe`));
        await tx.execute(sql.raw(`prepare bounded_probe as ${statement}`));
        const args = params === 0 ? '' : `(${Array.from({ length: params }, () => 'null').join(', ')})`;
        const { rows } = await tx.execute<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(sql.raw(`explain (format json) execute bounded_probe${args}`));
        await tx.execute(sql.raw(`deallocate bounded_probe`));
        const plan = rows[0]!['QUERY PLAN'];
        return (typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan as PlanNode;
      } catch (error) {
        await tx.execute(sql.raw(`rollback to savepoint probe`));
        return { error: (error as Error).message };
      }
    }),
  );
}

const EXPLAINABLE = /^\s*(select|with|insert|update|delete)\b/i;

beforeAll(async () => {
  for (const name of Object.keys(bundle.files)) if (name !== 'parity.json') await env.MODELS.put(`models/${bundle.id}/${name}`, bytes(name));
  user = await promote(await registerUser('bounded-reads'), { tier: 'pro', role: 'admin' });
}, 60_000);

describe('request paths read a bounded number of rows', () => {
  it('the plan test itself tells a whole-table read from a keyed one', () => {
    expect(unboundedScans({ 'Node Type': 'Seq Scan', 'Relation Name': 'matches' })).toEqual(['Seq Scan on matches']);
    expect(unboundedScans({ 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Sort', Plans: [{ 'Node Type': 'Seq Scan', 'Relation Name': 'matches' }] }] })).toHaveLength(1);
    expect(unboundedScans({ 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Index Scan', 'Relation Name': 'matches' }] })).toEqual([]);
    expect(unboundedScans({ 'Node Type': 'Index Scan', 'Relation Name': 'odds_snapshots_2023_09', 'Index Cond': '(match_id = $1)' })).toEqual([]);
    expect(unboundedScans({ 'Node Type': 'Index Only Scan', 'Relation Name': 'odds_snapshots_2023_09' })).toHaveLength(1);
  });

  it('every GET route, its query variants and the cold prediction miss', async () => {
    const ids = await withDb(async (db) => {
      const finished = await db.execute<{ id: string; sport_id: number; competition_id: number }>(
        // Football's: the only modelled sport, so its upcoming twin below gets a prediction (another sport is a 404).
        sql`select id, sport_id, competition_id from matches
            where status = 'finished' and sport_id = (select id from sports where key = 'soccer') order by start_at desc, id limit 1`,
      );
      const f = finished.rows[0]!;
      // A fixture nobody has asked for: no feature state in KV, no cached prediction, its MatchOdds never created.
      const upcoming = await db.execute<{ id: string }>(sql`
        insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, status, provider, external_match_id)
        select sport_id, competition_id, null, away_team_id, home_team_id, now() + interval '3 days', 'scheduled', 'bounded-reads', ${applicationName}
        from matches where id = ${f.id} returning id`);
      return { finished: f.id, upcoming: upcoming.rows[0]!.id, sport: String(f.sport_id), competition: String(f.competition_id) };
    });
    const doc = (await (await worker.fetch(new Request('http://api.test/openapi.json'), env, createExecutionContext())).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const values: Record<string, string> = { matchId: ids.upcoming, modelId: bundle.runId, sportId: ids.sport, userId: user.id, keyId: '00000000-0000-0000-0000-000000000000' };
    const templates = Object.entries(doc.paths)
      .filter(([, ops]) => 'get' in ops)
      .map(([path]) => path);
    expect(templates).toContain('/matches/{matchId}/predictions');
    const unfilled = templates.flatMap((t) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)).filter((name) => !(name in values));
    expect(unfilled, 'path parameters this test has no value for').toEqual([]);

    // The cold miss first, while nothing about the fixture exists anywhere but in Postgres.
    const cold = await call('GET /matches/{matchId}/predictions, cold miss', `/matches/${ids.upcoming}/predictions`);
    expect(cold.status).toBe(200);
    expect(cold.headers.get('x-cache')).toBe('MISS');
    for (const template of templates) {
      await call(`GET ${template}`, template.replace(/\{(\w+)\}/g, (_, name: string) => values[name]!));
    }
    const variants = [
      `/matches/${ids.finished}`,
      `/matches/${ids.finished}/odds`,
      `/matches/${ids.finished}/odds?market=h2h&bookmaker=pinnacle`,
      `/matches/${ids.finished}/predictions`,
      `/matches?competitionId=${ids.competition}&status=finished&limit=5`,
      `/matches?from=2023-01-01T00:00:00Z&to=2024-06-01T00:00:00Z`,
      `/matches?teamId=1`,
      `/predictions?minEv=0.05&market=h2h`,
      `/predictions?settled=true&competitionId=${ids.competition}`,
      `/predictions?sportId=${ids.sport}&market=spreads`,
      `/predictions?settled=true&sportId=${ids.sport}&sort=-kickoff`,
      `/sports/${ids.sport}/teams?limit=5`,
    ];
    for (const path of variants) await call(`GET ${path.split('?')[0]}`, path);

    const findings: string[] = [];
    let explained = 0;
    for (const [route, statements] of byRoute) {
      for (const statement of new Set(statements)) {
        if (!EXPLAINABLE.test(statement)) continue;
        const plan = await explain(statement);
        if ('error' in plan) {
          // A statement that cannot be planned without its values still must not be about the history tables.
          if (/\b(matches|odds_snapshots)\b/.test(statement)) findings.push(`${route}: could not EXPLAIN (${plan.error}): ${statement.slice(0, 300)}`);
          continue;
        }
        explained++;
        for (const scan of unboundedScans(plan)) findings.push(`${route}: ${scan}: ${statement.replace(/\s+/g, ' ').slice(0, 300)}`);
      }
    }
    expect(explained, 'statements captured and explained').toBeGreaterThan(20);
    // The cold miss went to Postgres for its feature state (and so was checked), not to a warm KV entry.
    expect(byRoute[0]![1].some((s) => /\bmatches\b/.test(s))).toBe(true);
    expect(findings).toEqual([]);
  }, 180_000);
});
