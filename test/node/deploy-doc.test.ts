// docs/deploy.md only cites commands that exist: every `npm run X` is a package.json script, every file or
// directory it names in the repo exists, and it covers the steps issue 9 asks for.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(`${ROOT}docs/deploy.md`, 'utf8');
const scripts = Object.keys((JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts);

/** The shell lines of the fenced code blocks (continuations joined), without comments. */
function shellLines(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```(?:sh|bash)?\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l && !l.startsWith('#'));
}

describe('docs/deploy.md', () => {
  it('cites only npm scripts that package.json defines', () => {
    const cited = [...doc.matchAll(/npm run(?: -s)? ([a-z][\w:-]*)/g)].map((m) => m[1]!);
    expect(cited.length).toBeGreaterThan(0);
    expect([...new Set(cited)].filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it('runs only standard CLIs, npm and npx wrangler in its shell blocks', () => {
    const allowed = new Set(['terraform', 'npm', 'npx', 'openssl', 'curl', 'psql', 'node', 'git', 'cd', 'cp', 'export', 'tee', 'head']);
    const programs = shellLines(doc)
      .flatMap((line) => line.split(/\s*(?:\||&&)\s*/))
      .map((cmd) => cmd.trim().split(/\s+/)[0]!)
      .filter((p) => p && !p.startsWith('-') && !p.startsWith('"') && !p.startsWith('|'));
    expect([...new Set(programs)].filter((p) => !allowed.has(p) && !/^[A-Z_]+=/.test(p))).toEqual([]);
    const npx = shellLines(doc).flatMap((l) => [...l.matchAll(/npx (\S+)/g)].map((m) => m[1]!));
    expect([...new Set(npx)]).toEqual(['wrangler']);
  });

  it('names only repository paths that exist', () => {
    const paths = [...doc.matchAll(/`((?:terraform|docs|models|migrations|scripts|data|test|\.github)\/[\w./-]*)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !existsSync(`${ROOT}${p}`))).toEqual([]);
  });

  it('covers accounts, secrets, terraform apply, migrations, deploy, the model, curl checks and rollback', () => {
    for (const needle of [
      'terraform apply',
      'openssl genpkey -algorithm RSA',
      'JWT_PRIVATE_KEYS',
      'PASSWORD_PEPPER',
      'secret put DATABASE_URL --env staging',
      'AWS_ACCESS_KEY_ID',
      'npm run db:migrate',
      'npx wrangler deploy --env staging',
      'npm run model:register -- models/bundles/$(cat models/bundles/DEFAULT) --remote',
      '/activate',
      '"force": true',
      '"reason"',
      '$API/health',
      '$API/ready',
      '$API/openapi.json',
      '$API/matches',
      'npx wrangler rollback',
      'forward-only',
      'terraform validate',
    ])
      expect(doc, needle).toContain(needle);
    expect(existsSync(`${ROOT}models/bundles/DEFAULT`)).toBe(true);
  });
});
