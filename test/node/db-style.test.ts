// One database style for the Worker (docs/architecture.md "Database access"): drizzle's builder, and its `sql`
// template where the builder cannot say it, with the columns as typed references. The third style, Postgres text
// with `$1` placeholders handed to a query function, was removed (issue 18, item 7) and must not come back: every
// string and template literal under src/ and durable-objects/ is parsed with the TypeScript compiler, and one
// that reads as SQL and holds a `$n` placeholder fails the test. And a raw statement (`db.execute(sql`…`)`, whose
// rows come back untyped) must say why the builder could not: a comment naming the builder in the function
// before the call.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const SCANNED = ['src', 'durable-objects'];

const PLACEHOLDER = /\$\d+/;
const SQL_WORDS = /\b(select|insert|update|delete|from|where|values|returning|on conflict)\b/i;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The text of every string and template literal in `source` that reads as SQL and holds a `$n` placeholder. */
export function placeholderSql(source: string, fileName = 'source.ts'): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const check = (text: string) => {
    if (PLACEHOLDER.test(text) && SQL_WORDS.test(text)) found.push(text.trim().replace(/\s+/g, ' ').slice(0, 100));
  };
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) check(node.text);
    // A template with substitutions: its literal parts joined, so `... where id = $1 and ${x} ...` is caught too.
    else if (ts.isTemplateExpression(node)) check([node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' '));
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** A comment that gives the reason for a raw statement: it names the builder ("the builder's update cannot ..."). */
const BUILDER_REASON = /\/\/[^\n]*\bbuilder\b|\/\*[\s\S]*?\bbuilder\b[\s\S]*?\*\//i;

/**
 * Every `.execute(...)` call in `source` without a comment naming the builder between the start of its enclosing
 * function (or the file) and the call: `line: text` of each. A prepared builder query's `.execute({ … })` binds its
 * placeholders and sends no SQL of its own: its argument, an object literal, is not a statement.
 */
export function unexplainedExecutes(source: string, fileName = 'source.ts'): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node, scopeStart: number) => {
    const start = ts.isFunctionLike(node) ? node.getStart(file) : scopeStart;
    const placeholderValues = ts.isCallExpression(node) && node.arguments.length === 1 && ts.isObjectLiteralExpression(node.arguments[0]!);
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'execute' && !placeholderValues) {
      const call = node.getStart(file);
      if (!BUILDER_REASON.test(source.slice(start, call))) {
        const line = file.getLineAndCharacterOfPosition(call).line + 1;
        found.push(`${line}: ${node.getText(file).replace(/\s+/g, ' ').slice(0, 80)}`);
      }
    }
    ts.forEachChild(node, (child) => visit(child, start));
  };
  visit(file, 0);
  return found;
}

/** `file:line: text` for every raw statement without its reason under the scanned directories of `root`. */
export function unexplainedExecutesUnder(root = ROOT): string[] {
  return SCANNED.flatMap((dir) => sourceFiles(join(root, dir)))
    .flatMap((path) => unexplainedExecutes(readFileSync(path, 'utf8'), path).map((hit) => `${relative(root, path)}:${hit}`));
}

/** `file: text` for every placeholder statement under the scanned directories of `root`. */
export function placeholderSqlUnder(root = ROOT): string[] {
  return SCANNED.flatMap((dir) => sourceFiles(join(root, dir))).flatMap((path) =>
    placeholderSql(readFileSync(path, 'utf8'), path).map((text) => `${relative(root, path)}: ${text}`),
  );
}

describe('the database style of src/ and durable-objects/', () => {
  it('has no `$n` placeholder SQL text: queries are drizzle, with `sql` templates where the builder cannot say it', () => {
    expect(placeholderSqlUnder()).toEqual([]);
  });

  it('finds the old style in every form it took (the check can fail)', () => {
    const old = [
      "await query(`select alias, team_id from team_aliases where provider = $1 and alias = any($2::text[])`, [provider, names]);",
      "await query(`delete from ${table} where feature_version = $1`, [FEATURE_VERSION]);",
      "await client.query('update ingestion_jobs set status = $2 where id = $1', [id, status]);",
      'const text = "insert into sports (key, name) values ($1, $2) on conflict (key) do nothing";',
    ].join('\n');
    expect(placeholderSql(old)).toHaveLength(4);
  });

  it('leaves alone what is not SQL text: a regex replacement, a comment, a drizzle template', () => {
    const fine = [
      "const route = pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}');",
      '// Statements are parameterised ($1...), so the text holds no user data.',
      'await db.execute(sql`select ${t.id} from ${t} where ${t.key} = ${key}`);',
    ].join('\n');
    expect(placeholderSql(fine)).toEqual([]);
  });

  it('has no raw statement without its reason: a comment in the function saying what the builder cannot do', () => {
    expect(unexplainedExecutesUnder()).toEqual([]);
  });

  it('finds a raw read with cast rows and no reason (the check can fail)', () => {
    const old = [
      'export async function teams(db: Database, id: number) {',
      '  // One round trip: the sport row tells "unknown sport" apart from "a sport with no teams".',
      '  const result = await db.execute<{ team_id: number | null }>(sql`select t.id as team_id from sports s where s.id = ${id}`);',
      '  return result.rows;',
      '}',
      'export const ranges = (tx: Transaction) => tx.execute(sql`select 1`);',
    ].join('\n');
    expect(unexplainedExecutes(old)).toHaveLength(2);
  });

  it('accepts a raw statement whose function says why the builder cannot say it, and only in that function', () => {
    const fine = [
      'async function widen(db: PgDb) {',
      '  // Each match widens to its own range: UPDATE ... FROM unnest, which the builder cannot say.',
      '  const o = matches;',
      '  await db.execute(sql`update ${o} set ...`);',
      '}',
      'async function other(db: PgDb) {',
      '  await db.execute(sql`select 1`);',
      '}',
    ].join('\n');
    expect(unexplainedExecutes(fine)).toEqual(['7: db.execute(sql`select 1`)']);
  });

  it("accepts a prepared builder query's execute with its placeholder values, and still finds a raw one beside it", () => {
    const source = [
      'const byId = db.select().from(matches).where(eq(matches.id, sql.placeholder("id"))).prepare("");',
      'await byId.execute({ id: 1 });',
      'await db.execute(sql`select 1`);',
    ].join('\n');
    expect(unexplainedExecutes(source)).toEqual(['3: db.execute(sql`select 1`)']);
  });
});
