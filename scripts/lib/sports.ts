// The sports declared as data: every data/sports/*.json, validated (src/domain/sports/definition.ts) and
// loaded into the database by db:migrate after the SQL migrations (scripts/lib/migrate.ts). docs/sports.md.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSportDefinition, type SportDefinition } from '../../src/domain/sports/definition';

export const SPORTS_DIR = new URL('../../data/sports/', import.meta.url).pathname;

/** The definitions of `dir`, in file-name order. A file that is not valid JSON or not a definition throws, naming it. */
export async function readSportDefinitions(dir = SPORTS_DIR): Promise<SportDefinition[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const defs: SportDefinition[] = [];
  for (const file of files) {
    const path = join(dir, file);
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new Error(`${path}: not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    defs.push(parseSportDefinition(value, path));
  }
  const keys = new Set<string>();
  for (const def of defs) {
    if (keys.has(def.key)) throw new Error(`${dir}: the sport "${def.key}" is declared by two files`);
    keys.add(def.key);
  }
  return defs;
}
