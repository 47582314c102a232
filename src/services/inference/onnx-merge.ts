// Several single-input ONNX models as one graph, so that one session.run serves all of them. onnxruntime-web
// has a fixed cost per run (bench:inference measures it with an Identity model) that a bundle's two small tree
// ensembles would otherwise pay twice per row.
//
// Only the fields that name tensors are decoded and re-encoded; everything else (the tree ensembles' large
// attributes above all) is copied byte for byte, so the merged graph computes exactly what the parts do. Like
// onnx.compose.merge_models, parts must agree on the IR version and on each shared domain's opset version: an
// operator's meaning can change between opsets, so a part is never run under an opset it was not written for.
import { ProtoReader, ProtoWriter } from './protobuf';

/** onnx.proto TensorProto.DataType */
export const ONNX_FLOAT = 1;

/** A ValueInfoProto: a graph input's or output's name and tensor type. */
export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType, undefined when the value is not a tensor. */
  elemType: number | undefined;
  /** A number for a fixed size, a string for a named (dim_param) one, null for one left unknown; undefined without a shape. */
  dims: Array<number | string | null> | undefined;
  /** Every field but the name, as encoded. */
  rest: Uint8Array[];
}

interface OnnxNode {
  inputs: string[];
  outputs: string[];
  name: string;
  opType: string;
  domain: string;
  /** Every field but input, output and name, as encoded. */
  rest: Uint8Array[];
}

export interface OnnxModel {
  irVersion: number;
  /** domain ('' is the default one) → opset version */
  opsets: Map<string, number>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: OnnxNode[];
  valueInfo: OnnxValueInfo[];
}

// Field numbers of onnx.proto.
const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8, functions: 25 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12, valueInfo: 13, sparseInitializer: 15 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTRIBUTE = { name: 1, i: 3, graph: 6, graphs: 11, type: 20 } as const;
const ATTRIBUTE_TYPE_INT = 2;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensor: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIM = { value: 1, param: 2 } as const;

/** Reads what merging needs out of a serialized ModelProto; throws on what it cannot merge faithfully. */
export function readOnnxModel(bytes: Uint8Array): OnnxModel {
  const model: OnnxModel = { irVersion: 0, opsets: new Map(), inputs: [], outputs: [], nodes: [], valueInfo: [] };
  let graphs = 0;
  const r = new ProtoReader(bytes);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === MODEL.irVersion && wire === 0) model.irVersion = r.varint();
    else if (field === MODEL.opsetImport && wire === 2) {
      const o = r.sub(r.lengthDelimited());
      let domain = '';
      let version = 0;
      while (!o.done()) {
        const t = o.tag();
        if (t.field === OPSET.domain && t.wire === 2) domain = o.text(o.lengthDelimited());
        else if (t.field === OPSET.version && t.wire === 0) version = o.varint();
        else o.skip(t.wire);
      }
      // 'ai.onnx' is the default domain's other spelling.
      model.opsets.set(domain === 'ai.onnx' ? '' : domain, version);
    } else if (field === MODEL.graph && wire === 2) {
      graphs++;
      readGraph(r.sub(r.lengthDelimited()), model);
    } else if (field === MODEL.functions && wire === 2) {
      throw new Error('model-local functions are not supported');
    } else r.skip(wire);
  }
  if (graphs !== 1) throw new Error(graphs ? 'more than one graph field' : 'no graph');
  if (!model.irVersion) throw new Error('no ir_version');
  return model;
}

function readGraph(g: ProtoReader, model: OnnxModel): void {
  while (!g.done()) {
    const { field, wire } = g.tag();
    if (wire !== 2) {
      g.skip(wire);
      continue;
    }
    const range = g.lengthDelimited();
    if (field === GRAPH.node) model.nodes.push(readNode(g.sub(range)));
    else if (field === GRAPH.input) model.inputs.push(readValueInfo(g.sub(range)));
    else if (field === GRAPH.output) model.outputs.push(readValueInfo(g.sub(range)));
    else if (field === GRAPH.valueInfo) model.valueInfo.push(readValueInfo(g.sub(range)));
    // Initializers would need their names rewritten too; the tree ensembles carry everything in attributes.
    else if (field === GRAPH.initializer || field === GRAPH.sparseInitializer) throw new Error('graph initializers are not supported');
  }
}

function readNode(n: ProtoReader): OnnxNode {
  const node: OnnxNode = { inputs: [], outputs: [], name: '', opType: '', domain: '', rest: [] };
  while (!n.done()) {
    const start = n.offset;
    const { field, wire } = n.tag();
    if (field === NODE.input && wire === 2) node.inputs.push(n.text(n.lengthDelimited()));
    else if (field === NODE.output && wire === 2) node.outputs.push(n.text(n.lengthDelimited()));
    else if (field === NODE.name && wire === 2) node.name = n.text(n.lengthDelimited());
    else {
      if (field === NODE.opType && wire === 2) node.opType = n.text(n.lengthDelimited());
      else if (field === NODE.domain && wire === 2) node.domain = n.text(n.lengthDelimited());
      else if (field === NODE.attribute && wire === 2) refuseSubgraph(n.sub(n.lengthDelimited()));
      else n.skip(wire);
      node.rest.push(n.bytesOf([start, n.offset]));
    }
  }
  return node;
}

/** A subgraph (If, Loop, Scan) may name tensors of the enclosing graph, which renaming would leave dangling. */
function refuseSubgraph(a: ProtoReader): void {
  while (!a.done()) {
    const { field, wire } = a.tag();
    if ((field === ATTRIBUTE.graph || field === ATTRIBUTE.graphs) && wire === 2) throw new Error('nodes with subgraph attributes are not supported');
    a.skip(wire);
  }
}

function readValueInfo(v: ProtoReader): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: undefined, dims: undefined, rest: [] };
  while (!v.done()) {
    const start = v.offset;
    const { field, wire } = v.tag();
    if (field === VALUE_INFO.name && wire === 2) {
      info.name = v.text(v.lengthDelimited());
      continue;
    }
    if (field === VALUE_INFO.type && wire === 2) readType(v.sub(v.lengthDelimited()), info);
    else v.skip(wire);
    info.rest.push(v.bytesOf([start, v.offset]));
  }
  return info;
}

function readType(t: ProtoReader, info: OnnxValueInfo): void {
  while (!t.done()) {
    const { field, wire } = t.tag();
    if (field !== TYPE.tensor || wire !== 2) {
      t.skip(wire);
      continue;
    }
    const tensor = t.sub(t.lengthDelimited());
    while (!tensor.done()) {
      const tt = tensor.tag();
      if (tt.field === TENSOR_TYPE.elemType && tt.wire === 0) info.elemType = tensor.varint();
      else if (tt.field === TENSOR_TYPE.shape && tt.wire === 2) {
        info.dims = [];
        const shape = tensor.sub(tensor.lengthDelimited());
        while (!shape.done()) {
          const s = shape.tag();
          if (s.field !== SHAPE.dim || s.wire !== 2) {
            shape.skip(s.wire);
            continue;
          }
          const dim = shape.sub(shape.lengthDelimited());
          let size: number | string | null = null;
          while (!dim.done()) {
            const d = dim.tag();
            if (d.field === DIM.value && d.wire === 0) size = dim.varint();
            else if (d.field === DIM.param && d.wire === 2) size = dim.text(dim.lengthDelimited());
            else dim.skip(d.wire);
          }
          info.dims.push(size);
        }
      } else tensor.skip(tt.wire);
    }
  }
}

export interface MergePart {
  model: OnnxModel;
  /** Prepended (with '/') to every tensor and node name of this part, so parts cannot collide. */
  prefix: string;
  /** The part's graph output to keep; its other outputs are still computed by their nodes but not fetched. */
  output: string;
}

export interface MergedModel {
  bytes: Uint8Array;
  /** The one input every part reads. */
  input: string;
  /** The merged graph's output: the parts' kept outputs concatenated along axis 1, in part order. */
  output: string;
}

const sameDim = (a: number | string | null, b: number | string | null) => typeof a !== 'number' || typeof b !== 'number' || a === b;

/**
 * One model whose graph holds every part's nodes, all reading one shared input, with a Concat of the parts'
 * [n, k_i] outputs as its single output [n, Σk_i]: each output tensor of a run is its own copy out of WASM
 * memory and its own Tensor, and one Concat cost less than a second output (bench: 29.8 → 28.2 µs per row).
 */
export function mergeModels(parts: MergePart[], output = 'merged/output'): MergedModel {
  if (parts.length === 0) throw new Error('nothing to merge');
  const first = parts[0]!.model;
  if (new Set(parts.map((p) => p.prefix)).size !== parts.length) throw new Error('part prefixes must differ');

  const opsets = new Map(first.opsets);
  for (const { model, prefix } of parts) {
    if (model.irVersion !== first.irVersion) throw new Error(`${prefix}: IR version ${model.irVersion} differs from ${first.irVersion}`);
    for (const [domain, version] of model.opsets) {
      const seen = opsets.get(domain);
      if (seen !== undefined && seen !== version) throw new Error(`${prefix}: opset ${domain || 'ai.onnx'} ${version} differs from ${seen}`);
      opsets.set(domain, version);
    }
  }
  if (!opsets.has('')) throw new Error('no part imports the default opset, which Concat needs');

  if (first.inputs.length !== 1) throw new Error(`${parts[0]!.prefix}: ${first.inputs.length} graph inputs, expected 1`);
  const input = first.inputs[0]!;
  for (const { model, prefix } of parts) {
    const other = model.inputs[0];
    if (model.inputs.length !== 1 || !other) throw new Error(`${prefix}: ${model.inputs.length} graph inputs, expected 1`);
    if (
      other.elemType !== input.elemType ||
      other.dims?.length !== input.dims?.length ||
      !(other.dims ?? []).every((d, i) => sameDim(d, input.dims![i]!))
    ) {
      throw new Error(`${prefix}: input ${describeValue(other)} is not ${describeValue(input)}`);
    }
  }

  const graph = new ProtoWriter();
  const kept: OnnxValueInfo[] = [];
  const keptNames: string[] = [];
  const nodeNames = new Set<string>();
  const tensorNames = new Set<string>([input.name]);
  for (const { model, prefix, output: wanted } of parts) {
    const ownInput = model.inputs[0]!.name;
    const produced = new Set(model.nodes.flatMap((n) => n.outputs).filter(Boolean));
    if (produced.has(ownInput)) throw new Error(`${prefix}: a node writes the graph input ${ownInput}`);
    const rename = (name: string) => {
      if (name === '') return '';
      if (name === ownInput) return input.name;
      if (!produced.has(name)) throw new Error(`${prefix}: ${name} is neither the graph input nor any node's output`);
      return `${prefix}/${name}`;
    };
    for (const node of model.nodes) {
      const w = new ProtoWriter();
      for (const name of node.inputs) w.string(NODE.input, rename(name));
      for (const name of node.outputs) {
        const renamed = name === '' ? '' : `${prefix}/${name}`;
        if (renamed) tensorNames.add(renamed);
        w.string(NODE.output, renamed);
      }
      const name = `${prefix}/${node.name || `${node.domain ? `${node.domain}:` : ''}${node.opType}`}`;
      if (nodeNames.has(name)) throw new Error(`${prefix}: two nodes named ${name}`);
      nodeNames.add(name);
      w.string(NODE.name, name);
      for (const field of node.rest) w.raw(field);
      graph.message(GRAPH.node, w);
    }
    const out = model.outputs.find((o) => o.name === wanted);
    if (!out) throw new Error(`${prefix}: no graph output ${wanted}`);
    if (!produced.has(wanted)) throw new Error(`${prefix}: output ${wanted} is not computed by any node`);
    kept.push(out);
    keptNames.push(rename(wanted));
    for (const info of model.valueInfo) {
      if (produced.has(info.name)) graph.message(GRAPH.valueInfo, valueInfo(rename(info.name), info.rest));
    }
  }

  // Concat's output type is written out so that the session's output metadata is as specific as the parts'.
  const elemType = kept[0]!.elemType;
  const rows = kept[0]!.dims?.[0] ?? null;
  let width = 0;
  for (const [i, out] of kept.entries()) {
    const k = out.dims?.[1];
    if (out.elemType !== elemType || out.dims?.length !== 2 || typeof k !== 'number') {
      throw new Error(`${parts[i]!.prefix}: output ${describeValue(out)} cannot be concatenated (rank 2, a fixed width, one element type)`);
    }
    width += k;
  }
  const concatName = 'merged/concat';
  if (nodeNames.has(concatName) || tensorNames.has(output)) throw new Error(`${output} collides with a part's names`);
  const concat = new ProtoWriter();
  for (const name of keptNames) concat.string(NODE.input, name);
  concat
    .string(NODE.output, output)
    .string(NODE.name, concatName)
    .string(NODE.opType, 'Concat')
    .message(NODE.attribute, new ProtoWriter().string(ATTRIBUTE.name, 'axis').uint(ATTRIBUTE.i, 1).uint(ATTRIBUTE.type, ATTRIBUTE_TYPE_INT));
  graph.message(GRAPH.node, concat);
  graph.string(GRAPH.name, 'merged');
  graph.message(GRAPH.input, valueInfo(input.name, input.rest));
  graph.message(GRAPH.output, valueInfo(output, [tensorType(elemType!, [rows, width])]));

  const model = new ProtoWriter().uint(MODEL.irVersion, first.irVersion).string(MODEL.producerName, 'senzu onnx-merge');
  for (const [domain, version] of opsets) model.message(MODEL.opsetImport, new ProtoWriter().string(OPSET.domain, domain).uint(OPSET.version, version));
  model.message(MODEL.graph, graph);
  return { bytes: model.finish(), input: input.name, output };
}

function valueInfo(name: string, rest: Uint8Array[]): ProtoWriter {
  const w = new ProtoWriter().string(VALUE_INFO.name, name);
  for (const field of rest) w.raw(field);
  return w;
}

/** ValueInfoProto.type as an encoded field: a tensor of elemType with these dims. */
function tensorType(elemType: number, dims: Array<number | string | null>): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.uint(DIM.value, d);
    else if (typeof d === 'string') dim.string(DIM.param, d);
    shape.message(SHAPE.dim, dim);
  }
  const tensor = new ProtoWriter().uint(TENSOR_TYPE.elemType, elemType).message(TENSOR_TYPE.shape, shape);
  return new ProtoWriter().message(VALUE_INFO.type, new ProtoWriter().message(TYPE.tensor, tensor)).finish();
}

export function describeValue(v: OnnxValueInfo): string {
  const type = v.elemType === ONNX_FLOAT ? 'float32' : v.elemType === undefined ? 'non-tensor' : `type ${v.elemType}`;
  return `${v.name} ${type} [${(v.dims ?? ['?']).map((d) => d ?? '?').join(', ')}]`;
}
