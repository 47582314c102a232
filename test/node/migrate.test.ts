import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { migrate, MIGRATIONS_DIR } from '../../scripts/lib/migrate';
import { testPool } from './support/db';

const pool = testPool();

describe('db:migrate', () => {
  it('applies nothing the second time', async () => {
    const result = await migrate(inject('databaseUrl'));
    expect(result.applied).toEqual([]);
    expect(result.skipped).toContain('0001_init.sql');
  });

  it('refuses a migration that was edited after it was applied', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'senzu-migrations-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await writeFile(join(dir, '0001_init.sql'), '-- edited\n', { flag: 'a' });
      await expect(migrate(inject('databaseUrl'), dir)).rejects.toThrow(/0001_init.sql was changed after it was applied/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rolls back a failing migration as a whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'senzu-migrations-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await writeFile(join(dir, '9999_broken.sql'), 'create table migrate_probe (id int);\nselect * from no_such_table;\n');
      await expect(migrate(inject('databaseUrl'), dir)).rejects.toThrow(/9999_broken.sql failed: .*no_such_table/);
      const { rows } = await pool.query(`select to_regclass('migrate_probe') as t, (select count(*)::int from schema_migrations where name = '9999_broken.sql') as n`);
      expect(rows[0]).toEqual({ t: null, n: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
