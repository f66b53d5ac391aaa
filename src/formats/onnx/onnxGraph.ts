// A full in-memory parse of a ModelProto's main graph for graph rewriting (instrumentation): nodes
// with their attributes, initializer headers, value infos, and the byte span of every field so an
// edited model can be re-emitted by copying untouched fields verbatim.
import { ModelLensError } from '../errors';
import { ONNX_GRAPH_LIMITS, type OnnxGraphLimits, ProtoReader, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from './protobuf';

export interface ParsedAttr {
  name: string;
  type: number;
  i?: number;
  f?: number;
  s?: string;
  ints?: number[];
  floats?: number[];
  /** Header of a tensor attribute (Constant's `value`). */
  t?: ParsedTensor;
}

export interface ParsedNode {
  index: number;
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, ParsedAttr>;
  span: { start: number; end: number };
}

export interface ParsedTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** raw_data payload span within the model bytes. */
  raw?: { offset: number; length: number };
  /** Small int64/int32 values decoded from int64_data/int32_data or raw_data (shape constants). */
  ints?: number[];
  external: Record<string, string>;
  dataLocation: number;
  span: { start: number; end: number };
}

export interface ParsedValueInfo {
  name: string;
  elemType: number;
  /** Undefined when the value has no shape; a dim is a number, a symbol, or null when unknown. */
  shape?: Array<number | string | null>;
  span: { start: number; end: number };
}

export interface ParsedGraph {
  nodes: ParsedNode[];
  initializers: ParsedTensor[];
  inputs: ParsedValueInfo[];
  outputs: ParsedValueInfo[];
  valueInfo: ParsedValueInfo[];
  /** Every field of the GraphProto, in order, with its field number and byte span. */
  fields: Array<{ field: number; start: number; end: number }>;
}

export interface ParsedModel {
  bytes: Uint8Array;
  irVersion: number;
  opsets: Array<{ domain: string; version: number }>;
  graph: ParsedGraph;
  /** Top-level fields other than the graph, with spans, for verbatim copying. */
  fields: Array<{ field: number; start: number; end: number }>;
  graphField: { start: number; end: number };
}

const SMALL_INT_TENSOR = 64;

function readTensor(r: ProtoReader, start: number, end: number): ParsedTensor {
  const t: ParsedTensor = { name: '', dims: [], dataType: 0, external: {}, dataLocation: 0, span: { start, end } };
  const ints: number[] = [];
  while (!r.done()) {
    const tag = r.readTag();
    switch (tag.field) {
      case 1:
        r.readRepeatedInt64(tag.wire, t.dims);
        if (t.dims.length > 64) throw new ModelLensError('corrupt', r.file, 'tensor has more than 64 dims', tag.offset);
        break;
      case 2:
        t.dataType = r.readVarint();
        break;
      case 5:
      case 7:
        if (ints.length <= SMALL_INT_TENSOR) r.readRepeatedInt64(tag.wire, ints);
        else r.skip(tag.wire, tag.field);
        break;
      case 8:
        t.name = r.readString();
        break;
      case 9:
        t.raw = r.readSpan();
        break;
      case 13: {
        const kv = r.readMessage();
        let k = '';
        let v = '';
        while (!kv.done()) {
          const tt = kv.readTag();
          if (tt.field === 1 && tt.wire === WIRE_LEN) k = kv.readString();
          else if (tt.field === 2 && tt.wire === WIRE_LEN) v = kv.readString();
          else kv.skip(tt.wire, tt.field);
        }
        t.external[k] = v;
        break;
      }
      case 14:
        t.dataLocation = r.readVarint();
        break;
      default:
        r.skip(tag.wire, tag.field);
    }
  }
  const numel = t.dims.reduce((a, b) => a * b, 1);
  if (ints.length > 0 && ints.length === numel) t.ints = ints;
  else if (t.raw && (t.dataType === 7 || t.dataType === 6) && numel <= SMALL_INT_TENSOR) {
    const w = t.dataType === 7 ? 8 : 4;
    if (t.raw.length === numel * w) {
      const dv = new DataView(r.buf.buffer, r.buf.byteOffset + t.raw.offset - r.base, t.raw.length);
      t.ints = [];
      for (let i = 0; i < numel; i++) t.ints.push(w === 8 ? Number(dv.getBigInt64(i * 8, true)) : dv.getInt32(i * 4, true));
    }
  }
  return t;
}

function readAttr(r: ProtoReader): ParsedAttr {
  const a: ParsedAttr = { name: '', type: 0 };
  while (!r.done()) {
    const tag = r.readTag();
    switch (tag.field) {
      case 1:
        a.name = r.readString();
        break;
      case 20:
        a.type = r.readVarint();
        break;
      case 2:
        a.f = r.readFloat();
        break;
      case 3:
        a.i = r.readInt64();
        break;
      case 4:
        a.s = new TextDecoder().decode(r.readBytes());
        break;
      case 5: {
        const start = r.absPos;
        const m = r.readMessage();
        a.t = readTensor(m, start, r.absPos);
        break;
      }
      case 7:
        a.floats ??= [];
        r.readRepeatedFloat(tag.wire, a.floats);
        break;
      case 8:
        a.ints ??= [];
        r.readRepeatedInt64(tag.wire, a.ints);
        break;
      default:
        r.skip(tag.wire, tag.field);
    }
  }
  return a;
}

function readNode(r: ProtoReader, index: number, start: number, end: number): ParsedNode {
  const n: ParsedNode = { index, opType: '', domain: '', name: '', inputs: [], outputs: [], attrs: new Map(), span: { start, end } };
  while (!r.done()) {
    const tag = r.readTag();
    switch (tag.field) {
      case 1:
        n.inputs.push(r.readString());
        break;
      case 2:
        n.outputs.push(r.readString());
        break;
      case 3:
        n.name = r.readString();
        break;
      case 4:
        n.opType = r.readString();
        break;
      case 5: {
        const a = readAttr(r.readMessage());
        n.attrs.set(a.name, a);
        break;
      }
      case 7:
        n.domain = r.readString();
        break;
      default:
        r.skip(tag.wire, tag.field);
    }
  }
  return n;
}

function readValueInfo(r: ProtoReader, start: number, end: number): ParsedValueInfo {
  const v: ParsedValueInfo = { name: '', elemType: 0, span: { start, end } };
  while (!r.done()) {
    const tag = r.readTag();
    if (tag.field === 1 && tag.wire === WIRE_LEN) v.name = r.readString();
    else if (tag.field === 2 && tag.wire === WIRE_LEN) {
      const type = r.readMessage();
      while (!type.done()) {
        const t1 = type.readTag();
        if (t1.field === 1 && t1.wire === WIRE_LEN) {
          const tt = type.readMessage();
          while (!tt.done()) {
            const t2 = tt.readTag();
            if (t2.field === 1 && t2.wire === WIRE_VARINT) v.elemType = tt.readVarint();
            else if (t2.field === 2 && t2.wire === WIRE_LEN) {
              v.shape = [];
              const sh = tt.readMessage();
              while (!sh.done()) {
                const t3 = sh.readTag();
                if (t3.field === 1 && t3.wire === WIRE_LEN) {
                  const dm = sh.readMessage();
                  let d: number | string | null = null;
                  while (!dm.done()) {
                    const t4 = dm.readTag();
                    if (t4.field === 1 && t4.wire === WIRE_VARINT) d = dm.readInt64();
                    else if (t4.field === 2 && t4.wire === WIRE_LEN) d = dm.readString();
                    else dm.skip(t4.wire, t4.field);
                  }
                  v.shape.push(d);
                } else sh.skip(t3.wire, t3.field);
              }
            } else tt.skip(t2.wire, t2.field);
          }
        } else type.skip(t1.wire, t1.field);
      }
    } else r.skip(tag.wire, tag.field);
  }
  return v;
}

/** Parses a whole ModelProto held in memory (the main graph; subgraphs stay opaque bytes). */
export function parseModel(bytes: Uint8Array, file: string, limits: OnnxGraphLimits = ONNX_GRAPH_LIMITS): ParsedModel {
  const top = new ProtoReader(bytes, file);
  const fields: ParsedModel['fields'] = [];
  const opsets: ParsedModel['opsets'] = [];
  let irVersion = 0;
  let graph: ParsedGraph | undefined;
  let graphField: ParsedModel['graphField'] | undefined;
  while (!top.done()) {
    const start = top.pos;
    const tag = top.readTag();
    if (tag.field === 7 && tag.wire === WIRE_LEN) {
      if (graph) throw new ModelLensError('unsupported', file, 'more than one graph field', start);
      const g = top.readMessage();
      graph = parseGraph(g, limits);
      graphField = { start, end: top.pos };
      continue;
    }
    if (tag.field === 1 && tag.wire === WIRE_VARINT) irVersion = top.readInt64();
    else if (tag.field === 8 && tag.wire === WIRE_LEN) {
      const m = top.readMessage();
      let domain = '';
      let version = 0;
      while (!m.done()) {
        const t = m.readTag();
        if (t.field === 1 && t.wire === WIRE_LEN) domain = m.readString();
        else if (t.field === 2 && t.wire === WIRE_VARINT) version = m.readInt64();
        else m.skip(t.wire, t.field);
      }
      opsets.push({ domain, version });
    } else top.skip(tag.wire, tag.field);
    fields.push({ field: tag.field, start, end: top.pos });
  }
  if (!graph || !graphField) throw new ModelLensError('corrupt', file, 'no graph in the model (ModelProto field 7)', 0);
  return { bytes, irVersion, opsets, graph, fields, graphField };
}

function checkGraphCounts(file: string, at: number, field: number, g: ParsedGraph, L: OnnxGraphLimits): void {
  const over =
    g.fields.length >= L.fields ? `more than ${L.fields} fields`
    : field === 1 && g.nodes.length >= L.nodes ? `more than ${L.nodes} nodes`
    : field === 5 && g.initializers.length >= L.initializers ? `more than ${L.initializers} initializers`
    : (field === 11 || field === 12 || field === 13) && g.inputs.length + g.outputs.length + g.valueInfo.length >= L.valueInfos ? `more than ${L.valueInfos} value infos`
    : undefined;
  if (over !== undefined) throw new ModelLensError('too-large', file, `graph has ${over}`, at);
}

function parseGraph(g: ProtoReader, limits: OnnxGraphLimits): ParsedGraph {
  const out: ParsedGraph = { nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [], fields: [] };
  while (!g.done()) {
    const start = g.pos;
    const tag = g.readTag();
    checkGraphCounts(g.file, tag.offset, tag.field, out, limits);
    if (tag.wire === WIRE_LEN && [1, 5, 11, 12, 13].includes(tag.field)) {
      const absStart = g.base + start;
      const m = g.readMessage();
      const absEnd = g.absPos;
      if (tag.field === 1) out.nodes.push(readNode(m, out.nodes.length, absStart, absEnd));
      else if (tag.field === 5) out.initializers.push(readTensor(m, absStart, absEnd));
      else {
        const v = readValueInfo(m, absStart, absEnd);
        (tag.field === 11 ? out.inputs : tag.field === 12 ? out.outputs : out.valueInfo).push(v);
      }
    } else if (tag.wire === WIRE_FIXED32 || tag.wire === WIRE_LEN || tag.wire === WIRE_VARINT || tag.wire === 1 || tag.wire === 3) {
      g.skip(tag.wire, tag.field);
    } else throw new ModelLensError('corrupt', g.file, `unexpected wire type ${tag.wire} in graph`, tag.offset);
    out.fields.push({ field: tag.field, start: g.base + start, end: g.absPos });
  }
  return out;
}
