// A small typed builder for ONNX ModelProto bytes: enough to express a ViT forward pass plus its
// reduction subgraphs, and to append nodes to an existing model. Field numbers follow onnx.proto.
import { endianness } from 'node:os';
import { ProtoWriter } from '../../formats/onnx/protobuf';

/** onnx.TensorProto.DataType values used by the builder and the reader. */
export const OnnxDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

/** An attribute value; the variant says its ONNX type (a JS number alone cannot tell int from float). */
export type OnnxAttr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { t: OnnxTensor };

export const attrInt = (i: number): OnnxAttr => ({ i });
export const attrFloat = (f: number): OnnxAttr => ({ f });
export const attrString = (s: string): OnnxAttr => ({ s });
export const attrInts = (ints: readonly number[]): OnnxAttr => ({ ints });
export const attrFloats = (floats: readonly number[]): OnnxAttr => ({ floats });
export const attrTensor = (t: OnnxTensor): OnnxAttr => ({ t });

export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: readonly number[];
  /** Little-endian element bytes (raw_data). */
  raw: Uint8Array;
}

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attrs?: Readonly<Record<string, OnnxAttr>>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** Fixed sizes, or symbolic names (dim_param). */
  dims: ReadonlyArray<number | string>;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Little-endian bytes of a typed array without copying on little-endian hosts. */
export function leBytes(a: Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN || a.BYTES_PER_ELEMENT === 1) return view;
  const out = new Uint8Array(view.length);
  const w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += w) for (let k = 0; k < w; k++) out[i + k] = view[i + w - 1 - k]!;
  return out;
}

export function f32Tensor(name: string, dims: readonly number[], data: Float32Array): OnnxTensor {
  checkCount(name, dims, data.length);
  return { name, dataType: OnnxDataType.FLOAT, dims, raw: leBytes(data) };
}

export function i64Tensor(name: string, dims: readonly number[], data: readonly number[]): OnnxTensor {
  checkCount(name, dims, data.length);
  return { name, dataType: OnnxDataType.INT64, dims, raw: leBytes(BigInt64Array.from(data, (v) => BigInt(v))) };
}

function checkCount(name: string, dims: readonly number[], n: number): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (want !== n) throw new RangeError(`tensor ${name}: dims [${dims.join(',')}] need ${want} elements, got ${n}`);
}

export function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int64(1, d);
  w.int64(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

function encodeAttr(name: string, a: OnnxAttr): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  if ('i' in a) w.int64(3, a.i).int64(20, 2);
  else if ('f' in a) w.float(2, a.f).int64(20, 1);
  else if ('s' in a) w.string(4, a.s).int64(20, 3);
  else if ('ints' in a) {
    for (const v of a.ints) w.int64(8, v);
    w.int64(20, 7);
  } else if ('floats' in a) {
    for (const v of a.floats) w.float(7, v);
    w.int64(20, 6);
  } else w.message(5, encodeTensor(a.t)).int64(20, 4);
  return w;
}

export function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, encodeAttr(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

export function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int64(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int64(1, v.elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

export interface ModelOptions {
  irVersion?: number;
  opset?: number;
  producer?: string;
  /** Extra operator sets, e.g. com.microsoft. */
  extraOpsets?: ReadonlyArray<{ domain: string; version: number }>;
  metadata?: Readonly<Record<string, string>>;
}

/** Accumulates one graph and serializes it as a ModelProto. */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private used = new Set<string>();
  private counter = 0;
  private constCache = new Map<string, string>();

  constructor(readonly graphName = 'model_lens') {}

  /** Marks names that already exist (e.g. in a model being instrumented) so fresh names avoid them. */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.used.add(n);
  }

  fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.used.has(n));
    this.used.add(n);
    return n;
  }

  input(name: string, elemType: number, dims: ReadonlyArray<number | string>): string {
    this.used.add(name);
    this.inputs.push({ name, elemType, dims });
    return name;
  }

  output(name: string, elemType: number, dims: ReadonlyArray<number | string>): void {
    this.outputs.push({ name, elemType, dims });
  }

  initializer(t: OnnxTensor): string {
    this.used.add(t.name);
    this.initializers.push(t);
    return t.name;
  }

  /** float32 initializer under a fresh name derived from `hint`. */
  f32(hint: string, dims: readonly number[], data: Float32Array): string {
    return this.initializer(f32Tensor(this.fresh(hint), dims, data));
  }

  /** Shared int64 constant (shapes, axes), deduplicated by value. */
  i64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join(',')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(i64Tensor(this.fresh('const_i64'), dims, values));
    this.constCache.set(key, name);
    return name;
  }

  /** Shared float32 scalar (or small) constant, deduplicated by value. */
  scalar(v: number): string {
    const key = `f32:${v}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(f32Tensor(this.fresh('const_f32'), [], Float32Array.of(v)));
    this.constCache.set(key, name);
    return name;
  }

  /** Adds a node with explicit outputs. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs?: Record<string, OnnxAttr>, domain?: string): void {
    for (const o of outputs) this.used.add(o);
    const n: OnnxNode = { opType, inputs, outputs, name: this.fresh(opType) };
    if (attrs) n.attrs = attrs;
    if (domain) n.domain = domain;
    this.nodes.push(n);
  }

  /** Adds a single-output node and returns its fresh output name. */
  op(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>, hint?: string): string {
    const out = this.fresh(hint ?? opType.toLowerCase());
    this.node(opType, inputs, [out], attrs);
    return out;
  }

  encodeGraph(): ProtoWriter {
    const g = new ProtoWriter();
    for (const n of this.nodes) g.message(1, encodeNode(n));
    g.string(2, this.graphName);
    for (const t of this.initializers) g.message(5, encodeTensor(t));
    for (const v of this.inputs) g.message(11, encodeValueInfo(v));
    for (const v of this.outputs) g.message(12, encodeValueInfo(v));
    return g;
  }

  toModel(opts: ModelOptions = {}): Uint8Array {
    return encodeModel(this.encodeGraph(), opts);
  }
}

export function encodeModel(graph: ProtoWriter, opts: ModelOptions = {}): Uint8Array {
  const m = new ProtoWriter();
  m.int64(1, opts.irVersion ?? 8);
  m.string(2, opts.producer ?? 'model-lens');
  m.string(3, '0.1.0');
  m.message(7, graph);
  m.message(8, new ProtoWriter().string(1, '').int64(2, opts.opset ?? 17));
  for (const o of opts.extraOpsets ?? []) m.message(8, new ProtoWriter().string(1, o.domain).int64(2, o.version));
  for (const [k, v] of Object.entries(opts.metadata ?? {})) m.message(14, new ProtoWriter().string(1, k).string(2, v));
  return m.finish();
}
