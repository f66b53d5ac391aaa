// Over 500 lines on purpose: one streaming walk over ModelProto/GraphProto/TensorProto whose field
// handlers share the chunk buffer and offset bookkeeping.
// Reads an ONNX ModelProto for the inspector by walking the protobuf in place: tags and small fields
// are read through a chunk buffer, tensor payloads (raw_data, packed float_data) are recorded by
// file offset and never loaded, so a multi-GB model opens in bounded memory.
import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { ByteSource } from '../byteSource';
import { ModelLensError } from '../errors';
import { DTYPE_BYTES, type Checkpoint, type DType, type ExtraValue, type Finding, type OnnxSummary, type TensorInfo } from '../checkpoint';
import { ONNX_GRAPH_LIMITS, type OnnxGraphLimits, ProtoReader, ProtoStream, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf';

export interface ReadOnnxOptions {
  /**
   * Check external-data references against the file system (default true): each must name an
   * existing regular file inside the model's folder that holds the tensor's bytes. Unsafe paths
   * (absolute, `..`, symlinks leaving the folder) then throw `unsafe-path`. With false, no other file
   * is touched: unsafe references become a danger finding and their tensors are left out.
   */
  resolveExternal?: boolean;
  /** Per-graph count caps (default ONNX_GRAPH_LIMITS). */
  limits?: OnnxGraphLimits;
}

/** ONNX TensorProto.DataType -> DType, for the types a TensorInfo can describe. */
const DTYPE_OF: Readonly<Record<number, DType>> = {
  1: 'F32', 2: 'U8', 3: 'I8', 5: 'I16', 6: 'I32', 7: 'I64', 9: 'BOOL', 10: 'F16', 11: 'F64', 16: 'BF16', 17: 'F8_E4M3', 19: 'F8_E5M2',
};

/** Names of TensorProto.DataType values, for summaries and messages. */
export const ONNX_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL',
  10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
};

const MAX_SMALL_FIELD = 1 << 20;
const MAX_META_FIELD = 16 << 20;
const MAX_DIMS = 64;
const MAX_EXTRAS_VALUES = 16;

function typeName(t: number): string {
  return ONNX_TYPE_NAMES[t] ?? `type ${t}`;
}

interface RawTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Offset of the TensorProto (for errors). */
  at: number;
  raw?: { offset: number; length: number };
  /** Packed float_data / double_data: the payload is little-endian elements, same as raw bytes. */
  packedFixed?: { offset: number; length: number; width: number };
  /** Varint-encoded or unpacked repeated values: not a raw byte span. */
  encoded?: { field: number; offset: number; length: number; packed: boolean };
  external: Record<string, string>;
  dataLocation: number;
  segment: boolean;
}

async function readStringField(s: ProtoStream, wire: number, cap: number): Promise<string> {
  expectWire(s.file, wire, WIRE_LEN, s.pos, 'string');
  const at = s.pos;
  const b = await s.readSmallBytes(cap);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw new ModelLensError('corrupt', s.file, 'string field is not valid UTF-8', at);
  }
}

function expectWire(file: string, wire: number, want: number, at: number, what: string): void {
  if (wire !== want) throw new ModelLensError('corrupt', file, `${what} field has wire type ${wire}, expected ${want}`, at);
}

async function readTensorStream(s: ProtoStream, at: number): Promise<RawTensor> {
  const t: RawTensor = { name: '', dims: [], dataType: 0, at, external: {}, dataLocation: 0, segment: false };
  while (!s.done()) {
    const tag = await s.readTag();
    switch (tag.field) {
      case 1: // dims
        if (tag.wire === WIRE_VARINT) t.dims.push(await s.readInt64());
        else {
          expectWire(s.file, tag.wire, WIRE_LEN, tag.offset, 'dims');
          const r = await s.readMessage(MAX_SMALL_FIELD);
          while (!r.done()) {
            t.dims.push(r.readInt64());
            if (t.dims.length > MAX_DIMS) break;
          }
        }
        if (t.dims.length > MAX_DIMS) throw new ModelLensError('corrupt', s.file, `tensor has more than ${MAX_DIMS} dims`, tag.offset);
        break;
      case 2:
        expectWire(s.file, tag.wire, WIRE_VARINT, tag.offset, 'data_type');
        t.dataType = await s.readVarint();
        break;
      case 3:
        t.segment = true;
        await s.skip(tag.wire, tag.field);
        break;
      case 4: // float_data
      case 10: // double_data
        if (tag.wire === WIRE_LEN) {
          const span = await s.readSpan();
          const width = tag.field === 4 ? 4 : 8;
          if (span.length % width !== 0) throw new ModelLensError('corrupt', s.file, `packed ${tag.field === 4 ? 'float' : 'double'}_data length ${span.length} is not a multiple of ${width}`, tag.offset);
          t.packedFixed = { ...span, width };
        } else {
          await skipEncoded(s, t, tag.field, tag.wire, tag.offset);
        }
        break;
      case 5: // int32_data
      case 7: // int64_data
      case 11: // uint64_data
        if (tag.wire === WIRE_LEN) {
          const span = await s.readSpan();
          t.encoded = { field: tag.field, offset: span.offset, length: span.length, packed: true };
        } else {
          await skipEncoded(s, t, tag.field, tag.wire, tag.offset);
        }
        break;
      case 6: // string_data
        await skipEncoded(s, t, tag.field, tag.wire, tag.offset);
        break;
      case 8:
        t.name = await readStringField(s, tag.wire, MAX_SMALL_FIELD);
        break;
      case 9:
        expectWire(s.file, tag.wire, WIRE_LEN, tag.offset, 'raw_data');
        t.raw = await s.readSpan();
        break;
      case 13: {
        expectWire(s.file, tag.wire, WIRE_LEN, tag.offset, 'external_data');
        const r = await s.readMessage(MAX_SMALL_FIELD);
        const kv = readStringPair(r);
        t.external[kv.key] = kv.value;
        break;
      }
      case 14:
        expectWire(s.file, tag.wire, WIRE_VARINT, tag.offset, 'data_location');
        t.dataLocation = await s.readVarint();
        break;
      default:
        await s.skip(tag.wire, tag.field);
    }
  }
  return t;
}

/** Unpacked repeated values: remember the run (tags included) so small ones can be decoded later. */
async function skipEncoded(s: ProtoStream, t: RawTensor, field: number, wire: number, tagOffset: number): Promise<void> {
  if (!t.encoded || t.encoded.field !== field || t.encoded.packed) t.encoded = { field, offset: tagOffset, length: 0, packed: false };
  await s.skip(wire, field);
  t.encoded.length = s.pos - t.encoded.offset;
}

function readStringPair(r: ProtoReader): { key: string; value: string } {
  let key = '';
  let value = '';
  while (!r.done()) {
    const tag = r.readTag();
    if (tag.field === 1 && tag.wire === WIRE_LEN) key = r.readString();
    else if (tag.field === 2 && tag.wire === WIRE_LEN) value = r.readString();
    else r.skip(tag.wire, tag.field);
  }
  return { key, value };
}

interface ValueInfo {
  name: string;
  elemType: string;
  shape: Array<number | string>;
}

function readValueInfo(r: ProtoReader): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 'UNDEFINED', shape: [] };
  while (!r.done()) {
    const tag = r.readTag();
    if (tag.field === 1 && tag.wire === WIRE_LEN) v.name = r.readString();
    else if (tag.field === 2 && tag.wire === WIRE_LEN) readType(r.readMessage(), v);
    else r.skip(tag.wire, tag.field);
  }
  return v;
}

function readType(r: ProtoReader, v: ValueInfo): void {
  while (!r.done()) {
    const tag = r.readTag();
    if (tag.field === 1 && tag.wire === WIRE_LEN) {
      const tt = r.readMessage();
      while (!tt.done()) {
        const t2 = tt.readTag();
        if (t2.field === 1 && t2.wire === WIRE_VARINT) v.elemType = typeName(tt.readVarint());
        else if (t2.field === 2 && t2.wire === WIRE_LEN) {
          const shape = tt.readMessage();
          while (!shape.done()) {
            const t3 = shape.readTag();
            if (t3.field === 1 && t3.wire === WIRE_LEN) {
              const dim = shape.readMessage();
              let d: number | string = '?';
              while (!dim.done()) {
                const t4 = dim.readTag();
                if (t4.field === 1 && t4.wire === WIRE_VARINT) d = dim.readInt64();
                else if (t4.field === 2 && t4.wire === WIRE_LEN) d = dim.readString();
                else dim.skip(t4.wire, t4.field);
              }
              v.shape.push(d);
              if (v.shape.length > MAX_DIMS) throw new ModelLensError('corrupt', r.file, `value has more than ${MAX_DIMS} dims`, t3.offset);
            } else shape.skip(t3.wire, t3.field);
          }
        } else tt.skip(t2.wire, t2.field);
      }
    } else if (tag.wire === WIRE_LEN && [4, 5, 8, 9].includes(tag.field)) {
      v.elemType = { 4: 'sequence', 5: 'map', 8: 'sparse_tensor', 9: 'optional' }[tag.field] ?? 'other';
      r.skip(tag.wire, tag.field);
    } else r.skip(tag.wire, tag.field);
  }
}

interface NodeSummary {
  opType: string;
  domain: string;
}

async function readNodeStream(s: ProtoStream): Promise<NodeSummary> {
  const n: NodeSummary = { opType: '', domain: '' };
  while (!s.done()) {
    const tag = await s.readTag();
    if (tag.field === 4) n.opType = await readStringField(s, tag.wire, MAX_SMALL_FIELD);
    else if (tag.field === 7) n.domain = await readStringField(s, tag.wire, MAX_SMALL_FIELD);
    else await s.skip(tag.wire, tag.field);
  }
  return n;
}

/** Key under which an operator is counted: its type, prefixed by its domain outside the default one. */
export function opKey(domain: string, opType: string): string {
  return domain === '' || domain === 'ai.onnx' ? opType : `${domain}.${opType}`;
}

function numelOf(dims: number[], file: string, at: number): number {
  let n = 1;
  for (const d of dims) {
    if (d < 0) throw new ModelLensError('corrupt', file, `negative tensor dimension ${d}`, at);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new ModelLensError('corrupt', file, `tensor size overflows (dims ${dims.join('×')})`, at);
  }
  return n;
}

/**
 * Checks an external-data location string and resolves it inside `modelDir`. Returns the path, or an
 * explanation of why it is unsafe.
 */
export function checkExternalLocation(location: string, modelDir: string): { path: string } | { unsafe: string } {
  if (location === '') return { unsafe: 'empty location' };
  if (location.includes('\0')) return { unsafe: 'location contains a NUL byte' };
  if (isAbsolute(location) || /^[A-Za-z]:/.test(location) || location.startsWith('\\') || location.startsWith('/')) {
    return { unsafe: `absolute location "${location}"` };
  }
  const parts = location.split(/[\\/]+/);
  if (parts.some((p) => p === '..')) return { unsafe: `location "${location}" leaves the model's folder` };
  return { path: join(modelDir, ...parts.filter((p) => p !== '' && p !== '.')) };
}

async function resolveInside(candidate: string, modelDir: string, file: string, at: number, location: string): Promise<number> {
  let real: string;
  let realDir: string;
  try {
    realDir = await realpath(modelDir);
    real = await realpath(candidate);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelLensError(code === 'ENOENT' ? 'not-found' : 'io', file, `external data file "${location}" ${code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code})`}`, at);
  }
  const rel = relative(realDir, real);
  if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
    throw new ModelLensError('unsafe-path', file, `external data "${location}" resolves outside the model's folder (symlink to ${real})`, at);
  }
  const st = await stat(real);
  if (!st.isFile()) throw new ModelLensError('unsafe-path', file, `external data "${location}" is not a regular file`, at);
  return st.size;
}

/** Parses an external-data offset/length string strictly (decimal digits only). */
export function parseNonNegative(v: string | undefined, what: string, file: string, at: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ModelLensError('corrupt', file, `external data ${what} "${v}" is not a non-negative integer`, at);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new ModelLensError('corrupt', file, `external data ${what} ${v} is too large`, at);
  return n;
}

interface GraphResult {
  tensors: TensorInfo[];
  extras: ExtraValue[];
  findings: Finding[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  opCounts: Record<string, number>;
  nodeCount: number;
}

async function readGraph(g: ProtoStream, src: ByteSource, resolveExternal: boolean, L: OnnxGraphLimits): Promise<GraphResult> {
  const file = src.path;
  const modelDir = dirname(file);
  const res: GraphResult = { tensors: [], extras: [], findings: [], inputs: [], outputs: [], opCounts: Object.create(null) as Record<string, number>, nodeCount: 0 };
  const raws: RawTensor[] = [];
  let sparse = 0;
  let fields = 0;
  let valueInfos = 0;
  const tooLarge = (what: string, at: number): never => {
    throw new ModelLensError('too-large', file, `graph has more than ${what}`, at);
  };
  while (!g.done()) {
    const tag = await g.readTag();
    if (++fields > L.fields) tooLarge(`${L.fields} fields`, tag.offset);
    if (tag.field === 1 && res.nodeCount >= L.nodes) tooLarge(`${L.nodes} nodes`, tag.offset);
    if ((tag.field === 11 || tag.field === 12 || tag.field === 13) && ++valueInfos > L.valueInfos) tooLarge(`${L.valueInfos} value infos`, tag.offset);
    switch (tag.field) {
      case 1: {
        expectWire(file, tag.wire, WIRE_LEN, tag.offset, 'node');
        const n = await readNodeStream(await g.readSubStream());
        const key = opKey(n.domain, n.opType);
        res.opCounts[key] = (res.opCounts[key] ?? 0) + 1;
        res.nodeCount++;
        break;
      }
      case 5:
        expectWire(file, tag.wire, WIRE_LEN, tag.offset, 'initializer');
        if (raws.length >= L.initializers) tooLarge(`${L.initializers} initializers`, tag.offset);
        raws.push(await readTensorStream(await g.readSubStream(), tag.offset));
        break;
      case 11:
      case 12:
        expectWire(file, tag.wire, WIRE_LEN, tag.offset, tag.field === 11 ? 'input' : 'output');
        (tag.field === 11 ? res.inputs : res.outputs).push(readValueInfo(await g.readMessage(MAX_SMALL_FIELD)));
        break;
      case 15:
        sparse++;
        await g.skip(tag.wire, tag.field);
        break;
      default:
        await g.skip(tag.wire, tag.field);
    }
  }
  if (sparse > 0) res.findings.push({ severity: 'info', kind: 'onnx-sparse-initializer', message: `${sparse} sparse initializer(s) are not listed as tensors` });
  const initNames = new Set(raws.map((r) => r.name));
  // Before IR 4 initializers were also listed as graph inputs; those are weights, not inputs.
  res.inputs = res.inputs.filter((v) => !initNames.has(v.name));

  let skippedUnsafe = 0;
  for (const t of raws) {
    const dtype = DTYPE_OF[t.dataType];
    const numel = numelOf(t.dims, file, t.at);
    const shapeText = `[${t.dims.join(', ')}]`;
    if (t.segment) {
      res.extras.push({ key: t.name, value: `${typeName(t.dataType)}${shapeText} (segmented tensor, not shown)` });
      continue;
    }
    if (!dtype) {
      res.extras.push({ key: t.name, value: `${typeName(t.dataType)}${shapeText} (element type not supported by the tensor view)` });
      continue;
    }
    const bytes = numel * DTYPE_BYTES[dtype];
    if (t.dataLocation === 1) {
      const ext = t.external;
      const location = ext['location'] ?? '';
      const checked = checkExternalLocation(location, modelDir);
      if ('unsafe' in checked) {
        if (resolveExternal) throw new ModelLensError('unsafe-path', file, `initializer "${t.name}": external data ${checked.unsafe}; only files inside the model's folder are read`, t.at);
        res.findings.push({ severity: 'danger', kind: 'external-data', message: `initializer "${t.name}": external data ${checked.unsafe}; it will not be read`, offset: t.at });
        skippedUnsafe++;
        continue;
      }
      const offset = parseNonNegative(ext['offset'], 'offset', file, t.at) ?? 0;
      const length = parseNonNegative(ext['length'], 'length', file, t.at) ?? bytes;
      if (length !== bytes) throw new ModelLensError('corrupt', file, `initializer "${t.name}": external data length ${length} but ${dtype}${shapeText} needs ${bytes} bytes`, t.at);
      if (resolveExternal) {
        const size = await resolveInside(checked.path, modelDir, file, t.at, location);
        if (offset + length > size) {
          throw new ModelLensError('truncated', file, `initializer "${t.name}": external data "${location}" needs bytes ${offset}..${offset + length} but has ${size}`, t.at);
        }
      }
      res.tensors.push({ name: t.name, dtype, shape: t.dims, location: { file: checked.path, offset, length } });
      continue;
    }
    if (t.raw) {
      if (t.raw.length !== bytes) throw new ModelLensError('corrupt', file, `initializer "${t.name}": raw_data has ${t.raw.length} bytes but ${dtype}${shapeText} needs ${bytes}`, t.raw.offset);
      res.tensors.push({ name: t.name, dtype, shape: t.dims, location: { file, offset: t.raw.offset, length: t.raw.length } });
      continue;
    }
    if (t.packedFixed && ((t.packedFixed.width === 4 && dtype === 'F32') || (t.packedFixed.width === 8 && dtype === 'F64'))) {
      // Packed float_data/double_data is the little-endian element array: a valid raw span.
      if (t.packedFixed.length !== bytes) throw new ModelLensError('corrupt', file, `initializer "${t.name}": packed data has ${t.packedFixed.length} bytes but ${dtype}${shapeText} needs ${bytes}`, t.packedFixed.offset);
      res.tensors.push({ name: t.name, dtype, shape: t.dims, location: { file, offset: t.packedFixed.offset, length: t.packedFixed.length } });
      continue;
    }
    if (numel === 0) {
      res.tensors.push({ name: t.name, dtype, shape: t.dims, location: { file, offset: t.at, length: 0 } });
      continue;
    }
    if (t.encoded && (t.encoded.field === 5 || t.encoded.field === 7 || t.encoded.field === 11) && t.encoded.length <= 1 << 16) {
      // Varint-encoded values cannot be read as a raw byte span; small ones are shown as values.
      const vals = await decodeVarints(src, t.encoded);
      res.extras.push({ key: t.name, value: `${dtype}${shapeText} = [${vals.slice(0, MAX_EXTRAS_VALUES).join(', ')}${numel > MAX_EXTRAS_VALUES ? ', …' : ''}] (varint-encoded in the ONNX file)` });
      continue;
    }
    res.extras.push({ key: t.name, value: `${dtype}${shapeText} (stored as ONNX typed fields, not raw bytes; not shown)` });
  }
  if (skippedUnsafe > 0) res.findings.push({ severity: 'danger', kind: 'external-data', message: `${skippedUnsafe} initializer(s) reference external data outside the model's folder and are not listed` });
  return res;
}

async function decodeVarints(src: ByteSource, enc: NonNullable<RawTensor['encoded']>): Promise<number[]> {
  const buf = await src.read(enc.offset, enc.length);
  const r = new ProtoReader(buf, src.path, enc.offset);
  const out: number[] = [];
  while (!r.done() && out.length <= MAX_EXTRAS_VALUES) {
    if (enc.packed) out.push(r.readInt64());
    else {
      const tag = r.readTag();
      if (tag.field === enc.field && tag.wire === WIRE_VARINT) out.push(r.readInt64());
      else r.skip(tag.wire, tag.field);
    }
  }
  return out;
}

/** Reads an ONNX model's summary, initializers (by offset), metadata and external-data references. */
export async function readOnnx(src: ByteSource, opts: ReadOnnxOptions = {}): Promise<Checkpoint> {
  const file = src.path;
  const resolveExternal = opts.resolveExternal ?? true;
  if (src.size === 0) throw new ModelLensError('empty-file', file, 'the file is empty');
  const top = new ProtoStream(src, 0, src.size);
  let irVersion = 0;
  let producer = '';
  let producerVersion = '';
  const opsets: OnnxSummary['opsets'] = [];
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const extras: ExtraValue[] = [];
  const findings: Finding[] = [];
  let graph: GraphResult | undefined;
  let functions = 0;
  let trainingInfo = false;
  while (!top.done()) {
    const tag = await top.readTag();
    switch (tag.field) {
      case 1:
        expectWire(file, tag.wire, WIRE_VARINT, tag.offset, 'ir_version');
        irVersion = await top.readInt64();
        break;
      case 2:
        producer = await readStringField(top, tag.wire, MAX_SMALL_FIELD);
        break;
      case 3:
        producerVersion = await readStringField(top, tag.wire, MAX_SMALL_FIELD);
        break;
      case 4: {
        const d = await readStringField(top, tag.wire, MAX_SMALL_FIELD);
        if (d) extras.push({ key: 'domain', value: d });
        break;
      }
      case 5:
        expectWire(file, tag.wire, WIRE_VARINT, tag.offset, 'model_version');
        extras.push({ key: 'model_version', value: String(await top.readInt64()) });
        break;
      case 6: {
        expectWire(file, tag.wire, WIRE_LEN, tag.offset, 'doc_string');
        const at = top.pos;
        const span = await top.readSpan();
        if (span.length > 0 && span.length <= MAX_SMALL_FIELD) {
          const b = await src.read(span.offset, span.length);
          const text = new TextDecoder('utf-8', { fatal: false }).decode(b);
          extras.push({ key: 'doc_string', value: text.length > 500 ? text.slice(0, 500) + '…' : text });
        } else if (span.length > MAX_SMALL_FIELD) extras.push({ key: 'doc_string', value: `(${span.length} bytes at offset ${at}, not shown)` });
        break;
      }
      case 7:
        expectWire(file, tag.wire, WIRE_LEN, tag.offset, 'graph');
        if (graph) throw new ModelLensError('unsupported', file, 'more than one graph field (merged graphs are not supported)', tag.offset);
        graph = await readGraph(await top.readSubStream(), src, resolveExternal, opts.limits ?? ONNX_GRAPH_LIMITS);
        break;
      case 8: {
        expectWire(file, tag.wire, WIRE_LEN, tag.offset, 'opset_import');
        const r = await top.readMessage(MAX_SMALL_FIELD);
        let domain = '';
        let version = 0;
        while (!r.done()) {
          const t = r.readTag();
          if (t.field === 1 && t.wire === WIRE_LEN) domain = r.readString();
          else if (t.field === 2 && t.wire === WIRE_VARINT) version = r.readInt64();
          else r.skip(t.wire, t.field);
        }
        opsets.push({ domain, version });
        break;
      }
      case 14: {
        expectWire(file, tag.wire, WIRE_LEN, tag.offset, 'metadata_props');
        const kv = readStringPair(await top.readMessage(MAX_META_FIELD));
        metadata[kv.key] = kv.value;
        break;
      }
      case 20:
        trainingInfo = true;
        await top.skip(tag.wire, tag.field);
        break;
      case 25:
        functions++;
        await top.skip(tag.wire, tag.field);
        break;
      default:
        if (tag.wire !== WIRE_VARINT && tag.wire !== WIRE_LEN && tag.wire !== WIRE_FIXED32 && tag.wire !== WIRE_FIXED64) {
          throw new ModelLensError('corrupt', file, `unexpected wire type ${tag.wire} for top-level field ${tag.field}; not an ONNX model`, tag.offset);
        }
        await top.skip(tag.wire, tag.field);
    }
  }
  if (!graph) throw new ModelLensError('corrupt', file, 'no graph in the protobuf (field 7 of ModelProto); not an ONNX model', 0);
  if (irVersion <= 0) findings.push({ severity: 'warning', kind: 'onnx-ir-version', message: 'the model declares no IR version' });
  if (functions > 0) extras.push({ key: 'functions', value: `${functions} model-local function(s)` });
  if (trainingInfo) extras.push({ key: 'training_info', value: 'present' });
  const onnx: OnnxSummary = {
    irVersion,
    opsets,
    producer: producerVersion ? `${producer} ${producerVersion}` : producer,
    inputs: graph.inputs,
    outputs: graph.outputs,
    opCounts: graph.opCounts,
    nodeCount: graph.nodeCount,
  };
  return {
    file,
    format: 'onnx',
    sizeBytes: src.size,
    tensors: graph.tensors,
    metadata,
    extras: [...extras, ...graph.extras],
    findings: [...findings, ...graph.findings],
    variants: [],
    onnx,
  };
}
