// The Worker's import graph (src/, durable-objects/, cron/, type-only imports included): no cycle, and nothing in
// src/ reaches up into cron/ or scripts/. Parsed with the TypeScript compiler's own pre-processor, so every
// import, `import type`, `export … from` and dynamic import() counts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
// cron/ is gone (the schedules and jobs are in src/jobs/), but stays scanned so a file put back there is checked.
const SCANNED = ['src', 'durable-objects', 'cron'];

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names, or null for a package or a non-TypeScript asset (.wasm, .onnx). */
function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Every file's local imports, as repository-relative paths. */
export function importGraph(root = ROOT): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of SCANNED.flatMap((dir) => sourceFiles(join(root, dir)))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.map((i) => resolveSpecifier(file, i.fileName)).filter((t): t is string => t !== null);
    const unresolved = importedFiles.filter((i) => i.fileName.startsWith('.') && resolveSpecifier(file, i.fileName) === null && !/\.(wasm|onnx|json)$/.test(i.fileName));
    if (unresolved.length) throw new Error(`${relative(root, file)}: cannot resolve ${unresolved.map((i) => i.fileName).join(', ')}`);
    graph.set(relative(root, file), [...new Set(targets.map((t) => relative(root, t)))]);
  }
  return graph;
}

/** Strongly connected components of more than one file (or a file importing itself): the cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

describe('the import graph of src/, durable-objects/ and cron/', () => {
  const graph = importGraph();

  it('reads the whole tree', () => {
    expect(graph.has('src/index.ts')).toBe(true);
    expect(graph.has('durable-objects/match-odds.ts')).toBe(true);
    expect(graph.size).toBeGreaterThan(100);
  });

  it('has no cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no arrow from src/ up to cron/ or scripts/', () => {
    const upward = [...graph].flatMap(([from, targets]) =>
      from.startsWith('src/') ? targets.filter((t) => t.startsWith('cron/') || t.startsWith('scripts/')).map((t) => `${from} → ${t}`) : [],
    );
    expect(upward).toEqual([]);
  });

  it('keeps the feature builder and the odds module free of providers (serving must not depend on a parser)', () => {
    const offending = [...graph].flatMap(([from, targets]) =>
      /^src\/(services\/features|domain)\//.test(from) ? targets.filter((t) => t.startsWith('src/providers/')).map((t) => `${from} → ${t}`) : [],
    );
    expect(offending).toEqual([]);
  });

  it('lets env.ts import nothing of the app at run time (only the types of the bindings it names)', () => {
    const text = readFileSync(join(ROOT, 'src/env.ts'), 'utf8');
    const local = [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'(\.[^']*)'/gms)];
    expect(local.length).toBeGreaterThan(0);
    expect(local.filter((m) => !m[1]).map((m) => m[2])).toEqual([]);
  });

  it('finds a cycle and an upward arrow when there is one (the checks can fail)', () => {
    const bad = new Map([
      ['src/a.ts', ['src/b.ts']],
      ['src/b.ts', ['src/a.ts', 'cron/c.ts']],
      ['cron/c.ts', []],
    ]);
    expect(cycles(bad)).toEqual([['src/a.ts', 'src/b.ts']]);
  });
});
