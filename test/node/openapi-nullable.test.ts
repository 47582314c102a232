// A value the API can answer with null is documented as nullable where it occurs, so that a typed client checks
// for it. The generator mishandles `.nullable()` on a named schema: it writes the null into the shared component
// (every other use of it becomes nullable too), or into an `allOf` beside the `$ref` that no null can satisfy
// (the client typed `Score.halfTime` as `Goals & (Record<string, never> | null)`, never null). Schemas use
// `orNull` (src/schemas/common.ts) instead. client/openapi.json is the served document
// (test/node/client-freshness.test.ts fails when it is not).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/openapi-document';

type Node = Record<string, unknown>;
const document = JSON.parse(readFileSync(join(ROOT, 'client/openapi.json'), 'utf8')) as { components: { schemas: Record<string, Node> } };
const types = (node: Node): unknown[] => ([] as unknown[]).concat(node.type ?? []);

function* nodes(node: unknown, path: string): Generator<[string, Node]> {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) yield* nodes(child, `${path}/${i}`);
    return;
  }
  yield [path, node as Node];
  for (const [key, child] of Object.entries(node)) yield* nodes(child, `${path}/${key}`);
}

/** Whether a property's schema admits null: its own type, or one branch of its anyOf/oneOf. */
const admitsNull = (schema: Node): boolean =>
  types(schema).includes('null') || [...((schema.anyOf as Node[]) ?? []), ...((schema.oneOf as Node[]) ?? [])].some((branch) => types(branch).includes('null'));

describe('nullable values in the OpenAPI document', () => {
  it('keeps null out of shared components and out of allOf, where it would be lost or spread', () => {
    const nullableComponents = Object.entries(document.components.schemas)
      .filter(([, schema]) => types(schema).includes('null'))
      .map(([name]) => name);
    expect(nullableComponents).toEqual([]);
    const nullInAllOf = [...nodes(document, '#')]
      .filter(([, node]) => Array.isArray(node.allOf) && (node.allOf as Node[]).some((member) => types(member).includes('null')))
      .map(([path]) => path);
    expect(nullInAllOf).toEqual([]);
  });

  it.each([
    ['Match', 'score'],
    ['Match', 'statistics'],
    ['Score', 'halfTime'],
    ['PredictionListItem', 'settlement'],
    ['MatchPrediction', 'model'],
  ])('documents %s.%s, which the API answers with null, as nullable', (component, property) => {
    const schema = (document.components.schemas[component]!.properties as Record<string, Node>)[property]!;
    expect(admitsNull(schema), JSON.stringify(schema)).toBe(true);
  });
});
