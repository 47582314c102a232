// A plain TypeScript evaluation of a bundle's ONNX models, read straight out of their single ai.onnx.ml tree
// node: a TreeEnsembleRegressor giving the trees' margins (format 2, what models/xgb_onnx.py writes) or a
// TreeEnsembleClassifier giving probabilities (format 1). It exists as the yardstick of
// `npm run bench:inference`: issue #7 bounds ORT's per-row cost at 2× a walk of the same trees, and the walk
// must first be shown to give ORT's probabilities (test/node/tree-walk.test.ts). It reads only the ONNX bytes,
// so it cannot drift from what ORT serves.
//
// The protobuf reader is hand-written (protobuf.ts: a few wire types are all an ONNX graph of one node needs)
// rather than pulling protobufjs and the onnx.proto schema into the repository for a benchmark.
import { ProtoReader } from './protobuf';

/** The tree ensemble attributes the walk needs, as ONNX stores them (a regressor's target_* as class_*). */
interface TreeEnsembleAttributes {
  opType: 'TreeEnsembleClassifier' | 'TreeEnsembleRegressor';
  nodes_treeids: number[];
  nodes_nodeids: number[];
  nodes_featureids: number[];
  nodes_values: number[];
  nodes_modes: string[];
  nodes_truenodeids: number[];
  nodes_falsenodeids: number[];
  nodes_missing_value_tracks_true: number[];
  class_treeids: number[];
  class_nodeids: number[];
  class_ids: number[];
  class_weights: number[];
  classlabels_int64s: number[];
  base_values: number[];
  post_transform: string;
}

/** int64 varints of negative numbers arrive as 2^64 + n. */
const int64 = (n: number) => (n >= 2 ** 63 ? n - 2 ** 64 : n);

type AttributeValue = number | string | number[] | string[];

/** onnx.proto AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, strings 9 (proto2: packed or not). */
function readAttribute(r: ProtoReader): [string, AttributeValue] {
  let name = '';
  let scalar: number | string | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) name = r.text(r.lengthDelimited());
    else if (field === 2 && wire === 5) scalar = r.float32();
    else if (field === 3 && wire === 0) scalar = int64(r.varint());
    else if (field === 4 && wire === 2) scalar = r.text(r.lengthDelimited());
    else if (field === 7 && wire === 5) floats.push(r.float32());
    else if (field === 7 && wire === 2) {
      const packed = r.sub(r.lengthDelimited());
      while (!packed.done()) floats.push(packed.float32());
    } else if (field === 8 && wire === 0) ints.push(int64(r.varint()));
    else if (field === 8 && wire === 2) {
      const packed = r.sub(r.lengthDelimited());
      while (!packed.done()) ints.push(int64(packed.varint()));
    } else if (field === 9 && wire === 2) strings.push(r.text(r.lengthDelimited()));
    else r.skip(wire);
  }
  const value = floats.length ? floats : ints.length ? ints : strings.length ? strings : scalar;
  return [name, value ?? []];
}

/** ModelProto.graph (7) → GraphProto.node (1) → NodeProto: op_type 4, attribute 5, domain 7. */
function readTreeEnsemble(bytes: Uint8Array): TreeEnsembleAttributes {
  const model = new ProtoReader(bytes);
  const nodes: Array<{ opType: string; domain: string; attributes: Map<string, AttributeValue> }> = [];
  while (!model.done()) {
    const { field, wire } = model.tag();
    if (field !== 7 || wire !== 2) {
      model.skip(wire);
      continue;
    }
    const graph = model.sub(model.lengthDelimited());
    while (!graph.done()) {
      const g = graph.tag();
      if (g.field !== 1 || g.wire !== 2) {
        graph.skip(g.wire);
        continue;
      }
      const node = graph.sub(graph.lengthDelimited());
      const parsed = { opType: '', domain: '', attributes: new Map<string, AttributeValue>() };
      while (!node.done()) {
        const n = node.tag();
        if (n.field === 4 && n.wire === 2) parsed.opType = node.text(node.lengthDelimited());
        else if (n.field === 7 && n.wire === 2) parsed.domain = node.text(node.lengthDelimited());
        else if (n.field === 5 && n.wire === 2) parsed.attributes.set(...readAttribute(node.sub(node.lengthDelimited())));
        else node.skip(n.wire);
      }
      nodes.push(parsed);
    }
  }
  const opType = nodes[0]?.opType;
  if (nodes.length !== 1 || (opType !== 'TreeEnsembleClassifier' && opType !== 'TreeEnsembleRegressor') || nodes[0]!.domain !== 'ai.onnx.ml') {
    throw new Error(`expected one ai.onnx.ml TreeEnsembleRegressor or TreeEnsembleClassifier node, got ${nodes.map((n) => `${n.domain}:${n.opType}`).join(', ') || 'none'}`);
  }
  const a = nodes[0]!.attributes;
  const list = <T>(name: string, fallback?: T[]): T[] => {
    const v = a.get(name);
    if (Array.isArray(v)) return v as T[];
    if (fallback) return fallback;
    throw new Error(`${opType} has no ${name} attribute`);
  };
  const leaf = opType === 'TreeEnsembleRegressor' ? 'target' : 'class';
  const targets = a.get('n_targets');
  return {
    opType,
    nodes_treeids: list('nodes_treeids'),
    nodes_nodeids: list('nodes_nodeids'),
    nodes_featureids: list('nodes_featureids'),
    nodes_values: list('nodes_values'),
    nodes_modes: list('nodes_modes'),
    nodes_truenodeids: list('nodes_truenodeids'),
    nodes_falsenodeids: list('nodes_falsenodeids'),
    nodes_missing_value_tracks_true: list('nodes_missing_value_tracks_true', []),
    class_treeids: list(`${leaf}_treeids`),
    class_nodeids: list(`${leaf}_nodeids`),
    class_ids: list(`${leaf}_ids`),
    class_weights: list(`${leaf}_weights`),
    // A regressor has n_targets outputs where a classifier has labels; the walk only needs how many.
    classlabels_int64s: leaf === 'target' ? Array.from({ length: typeof targets === 'number' ? targets : 1 }, (_, i) => i) : list('classlabels_int64s'),
    base_values: list('base_values', []),
    post_transform: (a.get('post_transform') as string | undefined) ?? 'NONE',
  };
}

// ---------------------------------------------------------------------------------------------------------
// The flattened ensemble: every node of every tree in one set of typed arrays, children as global indices.

export interface TreeEnsemble {
  /**
   * One row (float32 feature values, NaN for missing): a regressor's margins (the trees' sums plus the base
   * values), or a classifier's probabilities in its class order.
   */
  predictRow(row: Float32Array): number[];
  /** `margins` for a TreeEnsembleRegressor, `probabilities` for a TreeEnsembleClassifier. */
  output: 'margins' | 'probabilities';
  trees: number;
  nodes: number;
  /** Outputs per row: targets or classes. */
  classes: number;
}

export function treeEnsembleFromOnnx(bytes: Uint8Array): TreeEnsemble {
  const a = readTreeEnsemble(bytes);
  const n = a.nodes_treeids.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(`${a.nodes_treeids[i]}:${a.nodes_nodeids[i]}`, i);
  const at = (tree: number, node: number) => {
    const i = index.get(`${tree}:${node}`);
    if (i === undefined) throw new Error(`tree ${tree} has no node ${node}`);
    return i;
  };

  const feature = new Int32Array(n).fill(-1); // -1: leaf
  const threshold = new Float32Array(n);
  const onTrue = new Int32Array(n);
  const onFalse = new Int32Array(n);
  const missingTrue = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const mode = a.nodes_modes[i];
    if (mode === 'LEAF') continue;
    if (mode !== 'BRANCH_LT') throw new Error(`node mode ${mode} is not supported (models/xgb_onnx.py writes BRANCH_LT only)`);
    const tree = a.nodes_treeids[i]!;
    feature[i] = a.nodes_featureids[i]!;
    threshold[i] = a.nodes_values[i]!;
    onTrue[i] = at(tree, a.nodes_truenodeids[i]!);
    onFalse[i] = at(tree, a.nodes_falsenodeids[i]!);
    missingTrue[i] = a.nodes_missing_value_tracks_true[i] ?? 0;
  }

  // A leaf may carry weights for several classes (not in our models, but the format allows it).
  const leafStart = new Int32Array(n + 1);
  const counts = new Int32Array(n);
  for (let k = 0; k < a.class_treeids.length; k++) counts[at(a.class_treeids[k]!, a.class_nodeids[k]!)]!++;
  for (let i = 0; i < n; i++) leafStart[i + 1] = leafStart[i]! + counts[i]!;
  const leafClass = new Int32Array(a.class_treeids.length);
  const leafWeight = new Float32Array(a.class_treeids.length);
  const filled = new Int32Array(n);
  for (let k = 0; k < a.class_treeids.length; k++) {
    const i = at(a.class_treeids[k]!, a.class_nodeids[k]!);
    const slot = leafStart[i]! + filled[i]!++;
    leafClass[slot] = a.class_ids[k]!;
    leafWeight[slot] = a.class_weights[k]!;
  }

  const roots: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const tree = a.nodes_treeids[i]!;
    if (!seen.has(tree)) {
      seen.add(tree);
      roots.push(at(tree, 0));
    }
  }
  const rootIndex = Int32Array.from(roots);

  const classes = a.classlabels_int64s.length;
  const regressor = a.opType === 'TreeEnsembleRegressor';
  // onnxruntime's binary case: two labels, every weight on class 0, one score through the sigmoid.
  const binary = !regressor && classes === 2 && a.class_ids.every((c) => c === 0);
  const slots = binary ? 1 : classes;
  const base = Float64Array.from({ length: slots }, (_, k) => a.base_values[k] ?? 0);
  if (regressor && a.post_transform !== 'NONE') throw new Error(`post_transform ${a.post_transform} is not supported for a margin model`);
  if (!regressor && !binary && a.post_transform !== 'SOFTMAX') throw new Error(`post_transform ${a.post_transform} is not supported for ${classes} classes`);
  if (binary && a.post_transform !== 'LOGISTIC') throw new Error(`post_transform ${a.post_transform} is not supported for a binary model`);

  const scores = new Float64Array(slots);
  return {
    output: regressor ? 'margins' : 'probabilities',
    trees: rootIndex.length,
    nodes: n,
    classes,
    predictRow(row) {
      scores.set(base);
      for (let t = 0; t < rootIndex.length; t++) {
        let i = rootIndex[t]!;
        let f = feature[i]!;
        while (f >= 0) {
          const x = row[f]!;
          // NaN fails every comparison, so it is tested first: a missing value follows its recorded branch.
          i = (x !== x ? missingTrue[i] === 1 : x < threshold[i]!) ? onTrue[i]! : onFalse[i]!;
          f = feature[i]!;
        }
        for (let s = leafStart[i]!; s < leafStart[i + 1]!; s++) scores[leafClass[s]!]! += leafWeight[s]!;
      }
      if (regressor) return Array.from(scores);
      if (binary) {
        const p = 1 / (1 + Math.exp(-scores[0]!));
        return [1 - p, p];
      }
      let max = -Infinity;
      for (let k = 0; k < slots; k++) max = Math.max(max, scores[k]!);
      let sum = 0;
      const out = new Array<number>(slots);
      for (let k = 0; k < slots; k++) sum += out[k] = Math.exp(scores[k]! - max);
      for (let k = 0; k < slots; k++) out[k] = out[k]! / sum;
      return out;
    },
  };
}
