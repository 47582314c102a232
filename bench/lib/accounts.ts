// What the prediction benches need from the running Worker and its database before they measure.
import type pg from 'pg';

/** A pro account on the Worker at `base` (registered, raised to pro in Postgres, signed in): its request headers. */
export async function proAccountHeaders(base: string, pool: pg.Pool, tag: string): Promise<Record<string, string>> {
  const email = `${tag}@example.com`;
  const password = 'a long enough passphrase 42';
  const json = { 'content-type': 'application/json' };
  const reg = await fetch(`${base}/auth/register`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
  if (reg.status !== 202) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  await pool.query(`update users set tier = 'pro' where email = $1`, [email]);
  const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const { accessToken } = (await login.json()) as { accessToken: string };
  return { authorization: `Bearer ${accessToken}` };
}

/** Football's active model run. */
export async function activeFootballRun(pool: pg.Pool): Promise<{ id: string; name: string }> {
  const { rows } = await pool.query<{ id: string; name: string }>(
    `select r.id, r.name from model_runs r join sports s on s.id = r.sport_id where r.status = 'active' and s.key = 'soccer'`,
  );
  if (!rows[0]) throw new Error('no football model run is active');
  return rows[0];
}
