// safetensors reader: single files and sharded folders (`*.safetensors.index.json`). It makes every
// check the reference implementation makes (header size cap, UTF-8 JSON, known dtypes, shape×dtype
// size equal to the byte span with overflow-safe arithmetic, contiguous in-bounds offsets, data ending
// exactly at the end of the file) plus duplicate-key detection. Only the header is read.
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { FileByteSource, type ByteSource } from './byteSource';
import { ModelLensError } from './errors';
import { DTYPE_BYTES, type Checkpoint, type DType, type Finding, type TensorInfo } from './checkpoint';
import { setOwn } from './pickle';
import { JsonSyntaxError, JsonTooLargeError, parseStrictJson, type JsonValue } from './strictJson';

/** The reference implementation's cap on the header length. */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * Memory a header may take while it is read: its own bytes, the parsed JSON and the tensor list
 * (estimated as they are built). A header of a million tiny tensors fits under the length cap but
 * would take gigabytes; it is refused early instead.
 */
export const HEADER_WORK_BYTES = 256 * 1024 * 1024;
/** Estimated heap bytes per tensor after parsing (raw entry + TensorInfo + sort), beyond its JSON. */
const TENSOR_COST = 320;
/** Estimated heap bytes of one tensor's parsed JSON entry ({dtype, shape, data_offsets} and its key). */
const JSON_ENTRY_COST = 700;
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** Absolute offset of the data section (8 + header length). */
  dataStart: number;
  headerLength: number;
}

/** Returns the first invalid UTF-8 byte index, or -1. Rejects overlongs, surrogates and > U+10FFFF. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    if (i + need >= n) return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

function asInt(v: JsonValue | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

/** Parses and validates the header of one safetensors file. */
export async function readSafetensorsHeader(src: ByteSource): Promise<SafetensorsHeader> {
  const file = src.path;
  if (src.size < 8) throw new ModelLensError('truncated', file, `safetensors needs an 8-byte header length, file has ${src.size} bytes`, 0);
  const lenBytes = await src.read(0, 8);
  const dv = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8);
  const n = dv.getBigUint64(0, true);
  // A length that cannot be right and no '{' where the JSON header must start: this is not a safetensors
  // file at all (random bytes, another format renamed), which is the first thing to say.
  if ((n > BigInt(MAX_HEADER_BYTES) || n + 8n > BigInt(src.size)) && src.size > 8) {
    const b8 = (await src.read(8, 1))[0]!;
    if (b8 !== 0x7b) {
      throw new ModelLensError('unknown-format', file, `not a safetensors file: a safetensors file starts with an 8-byte header length and a JSON header at byte 8, but here the length reads ${n} (the file has ${src.size} bytes) and byte 8 is 0x${b8.toString(16).padStart(2, '0')}, not "{"`, 0);
    }
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new ModelLensError('too-large', file, `safetensors header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`, 0);
  }
  const headerLength = Number(n);
  if (8 + headerLength > src.size) {
    throw new ModelLensError('truncated', file, `safetensors header length ${headerLength} runs past the end of the ${src.size}-byte file`, 0);
  }
  if (headerLength < 2) throw new ModelLensError('corrupt', file, `safetensors header length ${headerLength} is too small for a JSON object`, 0);
  const raw = await src.read(8, headerLength);
  // The format requires '{' as the very first byte: a byte-order mark (which a decoder would silently
  // drop, shifting every later offset) or leading whitespace is not a safetensors header.
  if (raw[0] !== 0x7b) {
    const what = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 'starts with a UTF-8 byte-order mark' : 'does not start with "{"';
    throw new ModelLensError('corrupt', file, `safetensors header ${what}; the format requires "{" as its first byte`, 8);
  }
  const bad = firstInvalidUtf8(raw);
  if (bad >= 0) throw new ModelLensError('corrupt', file, 'safetensors header is not valid UTF-8', 8 + bad);
  // ignoreBOM: decode every byte as it is, so string positions map back to file offsets exactly.
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  const budget = HEADER_WORK_BYTES - 2 * headerLength;
  // Every tensor entry is an object: counting '{' bytes bounds the entries before anything is parsed.
  let objects = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i] === 0x7b) objects++;
  if (objects * (TENSOR_COST + JSON_ENTRY_COST) > budget) {
    throw new ModelLensError('too-large', file, `safetensors header holds ${objects} objects, more than ${HEADER_WORK_BYTES / (1024 * 1024)} MB of memory allows`, 8);
  }
  const byteAt = (pos: number): number => 8 + new TextEncoder().encode(text.slice(0, pos)).length;
  let json: JsonValue;
  try {
    json = parseStrictJson(text, 64, budget);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ModelLensError('corrupt', file, `safetensors header JSON: ${e.message}`, byteAt(e.position));
    if (e instanceof JsonTooLargeError) {
      throw new ModelLensError('too-large', file, `safetensors header would take more than ${HEADER_WORK_BYTES / (1024 * 1024)} MB of memory to read; refusing it`, byteAt(e.position));
    }
    throw e;
  }
  if (json instanceof Map && json.size * TENSOR_COST > budget) {
    throw new ModelLensError('too-large', file, `safetensors header lists ${json.size} entries, more than ${HEADER_WORK_BYTES / (1024 * 1024)} MB of memory allows`, 8);
  }
  if (!(json instanceof Map)) throw new ModelLensError('corrupt', file, 'safetensors header is not a JSON object', 8);
  const dataStart = 8 + headerLength;
  const dataLen = BigInt(src.size - dataStart);
  const metadata: Record<string, string> = {};
  type Raw = { name: string; dtype: DType; shape: number[]; begin: bigint; end: bigint };
  const raws: Raw[] = [];
  for (const [name, v] of json) {
    if (name === '__metadata__') {
      if (!(v instanceof Map)) throw new ModelLensError('corrupt', file, '__metadata__ is not an object', 8);
      for (const [k, mv] of v) {
        if (typeof mv !== 'string') throw new ModelLensError('corrupt', file, `__metadata__["${k}"] is not a string`, 8);
        setOwn(metadata as Record<string, unknown>, k, mv);
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (!(v instanceof Map)) throw new ModelLensError('corrupt', file, `${where}: entry is not an object`, 8);
    const dtype = v.get('dtype');
    if (typeof dtype !== 'string') throw new ModelLensError('corrupt', file, `${where}: missing dtype`, 8);
    if (!isDType(dtype)) throw new ModelLensError('unsupported', file, `${where}: unknown dtype "${dtype.slice(0, 40)}"`, 8);
    const shapeV = v.get('shape');
    if (!Array.isArray(shapeV)) throw new ModelLensError('corrupt', file, `${where}: shape is not an array`, 8);
    let numel = 1n;
    const shape: number[] = [];
    for (const d of shapeV) {
      const b = asInt(d);
      if (b === undefined || b < 0n) throw new ModelLensError('corrupt', file, `${where}: shape entry ${JSON.stringify(String(d))} is not a non-negative integer`, 8);
      numel *= b;
      shape.push(Number(b));
    }
    const offs = v.get('data_offsets');
    if (!Array.isArray(offs) || offs.length !== 2) throw new ModelLensError('corrupt', file, `${where}: data_offsets is not [begin, end]`, 8);
    const begin = asInt(offs[0]);
    const end = asInt(offs[1]);
    if (begin === undefined || end === undefined || begin < 0n || end < begin) {
      throw new ModelLensError('corrupt', file, `${where}: invalid data_offsets`, 8);
    }
    const nbytes = numel * BigInt(DTYPE_BYTES[dtype]);
    if (nbytes >= 1n << 64n || shape.some((s) => !Number.isSafeInteger(s))) {
      throw new ModelLensError('corrupt', file, `${where}: shape [${shapeV.map(String).join(', ')}] × ${dtype} size overflows`, 8);
    }
    if (nbytes !== end - begin) {
      throw new ModelLensError('corrupt', file, `${where}: shape [${shape.join(', ')}] × ${dtype} is ${nbytes} bytes but data_offsets span ${end - begin}`, 8);
    }
    raws.push({ name, dtype, shape, begin, end });
  }
  // Offsets must tile the data section exactly: sorted, starting at 0, no gaps, no overlaps.
  const sorted = [...raws].sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
  let cursor = 0n;
  for (const r of sorted) {
    if (r.begin > cursor) {
      throw new ModelLensError('corrupt', file, `gap: tensor "${r.name}" starts at data offset ${r.begin}, expected ${cursor}`, dataStart + Number(cursor));
    }
    if (r.begin < cursor) {
      throw new ModelLensError('corrupt', file, `tensor "${r.name}" at data offset ${r.begin} overlaps the previous tensor (ends at ${cursor})`, dataStart + Number(r.begin));
    }
    cursor = r.end;
    if (cursor > dataLen) {
      throw new ModelLensError('truncated', file, `tensor "${r.name}" ends at data offset ${cursor} but the data section has ${dataLen} bytes`, dataStart + Number(r.begin));
    }
  }
  if (cursor !== dataLen) {
    throw new ModelLensError('corrupt', file, `${dataLen - cursor} trailing bytes after the last tensor`, dataStart + Number(cursor));
  }
  const tensors: TensorInfo[] = raws.map((r) => ({
    name: r.name,
    dtype: r.dtype,
    shape: r.shape,
    location: { file, offset: dataStart + Number(r.begin), length: Number(r.end - r.begin) },
  }));
  return { tensors, metadata, dataStart, headerLength };
}

/** Opens a single safetensors file (header only). */
export async function readSafetensors(src: ByteSource): Promise<Checkpoint> {
  const h = await readSafetensorsHeader(src);
  return {
    file: src.path,
    format: 'safetensors',
    sizeBytes: src.size,
    tensors: h.tensors,
    metadata: h.metadata,
    extras: [],
    findings: [],
    variants: [],
  };
}

/** Resolves a shard name from an index so that it stays inside `folder` (no absolute paths, `..`, or escaping symlinks). */
export async function resolveInside(folder: string, name: string, indexFile: string): Promise<string> {
  if (name.length === 0 || name.includes('\0')) throw new ModelLensError('unsafe-path', indexFile, `invalid shard name ${JSON.stringify(name)}`);
  if (isAbsolute(name) || /^[a-zA-Z]:/.test(name) || name.startsWith('\\') || name.startsWith('/')) {
    throw new ModelLensError('unsafe-path', indexFile, `shard path ${JSON.stringify(name)} is absolute; shards must stay inside ${folder}`);
  }
  if (name.split(/[\\/]/).some((seg) => seg === '..')) {
    throw new ModelLensError('unsafe-path', indexFile, `shard path ${JSON.stringify(name)} leaves the model folder`);
  }
  const full = resolve(folder, name);
  const rel = relative(resolve(folder), full);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new ModelLensError('unsafe-path', indexFile, `shard path ${JSON.stringify(name)} leaves the model folder`);
  let real: string;
  let realFolder: string;
  try {
    real = await realpath(full);
    realFolder = await realpath(folder);
  } catch {
    throw new ModelLensError('not-found', indexFile, `shard ${JSON.stringify(name)} not found in ${folder}`);
  }
  const rrel = relative(realFolder, real);
  if (rrel.startsWith('..') || isAbsolute(rrel) || rrel.split(sep)[0] === '..') {
    throw new ModelLensError('unsafe-path', indexFile, `shard ${JSON.stringify(name)} is a link that leaves the model folder`);
  }
  return full;
}

/** Opens a sharded model from its `*.safetensors.index.json` (reads each shard's header only). */
/** Opens one shard named by an index; defaults to the safetensors header reader. */
export type ShardOpener = (src: ByteSource) => Promise<Checkpoint>;

/**
 * Opens a sharded model from its index (`model.safetensors.index.json`, or `pytorch_model.bin.index.json`
 * with `openShard` reading torch files). Reads each shard's header only.
 */
export async function readSafetensorsIndex(indexPath: string, openShard: ShardOpener = readSafetensors): Promise<Checkpoint> {
  const src = await FileByteSource.open(indexPath);
  let text: string;
  try {
    if (src.size > MAX_INDEX_BYTES) throw new ModelLensError('too-large', indexPath, `index file of ${src.size} bytes`, 0);
    const raw = await src.read(0, src.size);
    const bad = firstInvalidUtf8(raw);
    if (bad >= 0) throw new ModelLensError('corrupt', indexPath, 'index is not valid UTF-8', bad);
    text = new TextDecoder('utf-8').decode(raw);
  } finally {
    await src.close();
  }
  let json: JsonValue;
  try {
    json = parseStrictJson(text.replace(/^\uFEFF/, ''), 64, HEADER_WORK_BYTES - 3 * text.length);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ModelLensError('corrupt', indexPath, `index JSON: ${e.message}`, e.position);
    if (e instanceof JsonTooLargeError) throw new ModelLensError('too-large', indexPath, `index would take more than ${HEADER_WORK_BYTES / (1024 * 1024)} MB of memory to read`, e.position);
    throw e;
  }
  const weightMap = json instanceof Map ? json.get('weight_map') : undefined;
  if (!(weightMap instanceof Map)) throw new ModelLensError('corrupt', indexPath, 'index has no "weight_map" object');
  const folder = dirname(indexPath);
  const byShard = new Map<string, string[]>();
  for (const [tensor, shard] of weightMap) {
    if (typeof shard !== 'string') throw new ModelLensError('corrupt', indexPath, `weight_map["${tensor}"] is not a string`);
    const list = byShard.get(shard) ?? [];
    list.push(tensor);
    byShard.set(shard, list);
  }
  const metadata: Record<string, string> = {};
  const meta = json instanceof Map ? json.get('metadata') : undefined;
  if (meta instanceof Map) for (const [k, v] of meta) setOwn(metadata as Record<string, unknown>, k, typeof v === 'string' ? v : String(v));
  const tensors: TensorInfo[] = [];
  const seen = new Map<string, string>();
  const findings: Finding[] = [];
  const extras: Checkpoint['extras'] = [];
  let size = 0;
  let format: Checkpoint['format'] = 'safetensors-sharded';
  let config: Checkpoint['config'];
  for (const [shard, names] of byShard) {
    // An index naming an index (itself, say) would recurse; shards are weight files.
    if (/\.json$/i.test(shard)) throw new ModelLensError('corrupt', indexPath, `shard ${JSON.stringify(shard)} is not a weights file`);
    const path = await resolveInside(folder, shard, indexPath);
    const s = await FileByteSource.open(path);
    try {
      size += s.size;
      const h = await openShard(s);
      if (h.format !== 'safetensors') format = h.format;
      for (const f of h.findings) findings.push({ ...f, message: `${shard}: ${f.message}` });
      for (const x of h.extras) extras.push({ key: `${shard}: ${x.key}`, value: x.value });
      config ??= h.config;
      const have = new Set(h.tensors.map((t) => t.name));
      for (const n of names) {
        if (!have.has(n)) throw new ModelLensError('corrupt', indexPath, `weight_map puts "${n}" in ${shard}, which does not contain it`);
      }
      for (const t of h.tensors) {
        const prev = seen.get(t.name);
        if (prev !== undefined) throw new ModelLensError('corrupt', path, `tensor "${t.name}" appears in both ${prev} and ${shard}`);
        seen.set(t.name, shard);
        tensors.push(t);
      }
      const unlisted = h.tensors.length - names.length;
      if (unlisted > 0) findings.push({ severity: 'info', kind: 'shard-unlisted', message: `${shard} holds ${unlisted} tensors the index does not list` });
      for (const [k, v] of Object.entries(h.metadata)) if (!Object.prototype.hasOwnProperty.call(metadata, k)) setOwn(metadata as Record<string, unknown>, k, v);
    } finally {
      await s.close();
    }
  }
  const ck: Checkpoint = { file: indexPath, format, sizeBytes: size, tensors, metadata, extras, findings, variants: [] };
  if (config) ck.config = config;
  return ck;
}
