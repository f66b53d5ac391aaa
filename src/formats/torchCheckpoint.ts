// Over 500 lines on purpose: both torch formats (zip and legacy) share the storage and view checks and the
// container unwrapping, and torch's record-name rules sit beside the reads they guard.
// PyTorch checkpoints: the zip format of torch.save (since 1.6) and the legacy magic-number format.
// data.pkl runs through the inert unpickler; persistent ids map to storage records whose dtype, size
// and every tensor view (offset, shape, strides) are checked against the bytes that exist. The pickled
// container is then unwrapped to the tensor dict the user means ({'model': ...}, EMA copies, prefixes).
import type { ByteSource } from './byteSource';
import { ModelLensError } from './errors';
import { STORAGE_DTYPES, sortFindings } from './findings';
import { DTYPE_BYTES, type Checkpoint, type DType, type ExtraValue, type Finding, type TensorInfo, type WeightVariant } from './checkpoint';
import {
  PyDict,
  PyGlobal,
  PyList,
  PyObject,
  PyStorage,
  PyTensor,
  PyTuple,
  pyRepr,
  PICKLE_LIMITS,
  pyToJson,
  runPickle,
  setOwn,
  type PyValue,
} from './pickle';
import { checkScriptGlobals, flattenScriptModule, isTorchScriptArchive, scriptCodeEntries, torchScriptFinding, withoutScriptMarkerFindings } from './torchScript';
import { WindowReader } from './windowReader';
import { entryDataOffset, entryDataOffsets, openZip, readEntry, type ZipArchive, type ZipEntry } from './zip';

export interface TorchOpenOptions {
  /** Weight set to select (a key of Checkpoint.variants), e.g. "model_ema". */
  variant?: string;
}

// A pickle's own bytes (inflated, for a compressed data.pkl) and the values built from them share one
// budget of PICKLE_LIMITS.workBytes (256 MB); the bytes alone may take at most half of it.
const MAX_PICKLE_BYTES = PICKLE_LIMITS.workBytes / 2;
const pickleBudget = (bytes: Uint8Array): number => PICKLE_LIMITS.workBytes - bytes.length;
/** The first pickle of a legacy torch.save file is this integer. */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const STRIP_PREFIXES = ['module.', 'encoder.', 'backbone.'];
const PREFERRED = ['state_dict', 'model', 'module', 'model_state_dict', 'model_state', 'net', 'network', 'weights', 'params', 'teacher', 'student'];
const NON_WEIGHTS = /^(optimizer|optim|opt|optimizers|scaler|loss_scaler|amp|lr_scheduler|scheduler|lr_schedulers|grad_scaler)$/i;
const EMA = /(^|[_.\-])ema($|[_.\-])|^ema[A-Z]|[a-z]Ema($|[A-Z_])|^shadow/;
const CONFIG_KEYS = ['args', 'config', 'cfg', 'hyper_parameters', 'hparams', 'opt', 'opts'];

/**
 * Record lookup exactly as torch.load's PyTorchStreamReader does it: the archive folder is the part
 * before the first '/' of the first central-directory entry, every entry must lie in that folder
 * (case-sensitive prefix), and a record "x" is the entry named "<folder>/x" compared without regard
 * to ASCII letter case. When two entries compare equal that way, which one torch reads depends on
 * miniz's sort of the directory (it has loaded either in practice), so such archives are refused:
 * the inspector must show what torch would load, never a decoy beside it.
 */
export interface TorchRecords {
  /** The archive folder with its trailing '/'. */
  prefix: string;
  get(record: string): ZipEntry | undefined;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export function torchRecords(zip: ZipArchive): TorchRecords {
  const file = zip.source.path;
  const folded = new Map<string, ZipEntry>();
  for (const e of zip.entries.values()) {
    const key = asciiLower(e.name);
    const prev = folded.get(key);
    if (prev) {
      throw new ModelLensError(
        'corrupt',
        file,
        `zip entries "${prev.name}" and "${e.name}" name the same record for torch.load (it matches record names without regard to letter case and could read either); refusing the archive`,
        e.centralOffset,
      );
    }
    folded.set(key, e);
  }
  const first = zip.entries.values().next().value;
  const hasPkl = [...folded.keys()].some((k) => k === 'data.pkl' || k.endsWith('/data.pkl'));
  if (first === undefined || !hasPkl) {
    throw new ModelLensError('unknown-format', file, 'zip archive without data.pkl: not a torch.save checkpoint', zip.centralDirOffset);
  }
  const slash = first.name.indexOf('/');
  if (slash < 0) {
    throw new ModelLensError('corrupt', file, `the first zip entry "${first.name}" is not inside a folder; torch.load refuses such archives`, first.centralOffset);
  }
  const prefix = first.name.slice(0, slash + 1);
  for (const e of zip.entries.values()) {
    if (!e.name.startsWith(prefix)) {
      throw new ModelLensError('corrupt', file, `zip entry "${e.name}" lies outside the archive folder "${prefix}"; torch.load refuses such archives`, e.centralOffset);
    }
  }
  return { prefix, get: (record) => folded.get(asciiLower(prefix + record)) };
}

/** Reads a torch.save zip archive. */
export async function readTorchZip(src: ByteSource, opts: TorchOpenOptions = {}): Promise<Checkpoint> {
  const zip = await openZip(src);
  const file = src.path;
  const records = torchRecords(zip);
  const prefix = records.prefix;
  const pkl = records.get('data.pkl');
  if (pkl === undefined) {
    throw new ModelLensError('unknown-format', file, `zip archive without ${prefix}data.pkl: not a torch.save checkpoint`, zip.centralDirOffset);
  }
  const pklName = pkl.name;
  const byteorder = records.get('byteorder');
  if (byteorder) {
    const { data } = await readEntry(zip, byteorder, 64);
    const order = new TextDecoder().decode(data).trim();
    if (order !== 'little') throw new ModelLensError('unsupported', file, `tensors are stored ${order}-endian`, byteorder.centralOffset);
  }
  const { data, offset } = await readEntry(zip, pkl, MAX_PICKLE_BYTES);
  const storages = new Map<string, PyStorage>();
  const result = runPickle(data, {
    file,
    workBytes: pickleBudget(data),
    baseOffset: pkl.method === 0 ? offset : 0,
    label: pklName,
    rejectTrailing: true,
    persistentLoad: (pid, at) => storageFromPid(file, pid, at, storages),
  });
  let findings: Finding[] = [...result.findings];
  let root = result.value;
  let format: Checkpoint['format'] = 'pytorch-zip';
  let scriptRoot: string | undefined;
  if (isTorchScriptArchive(zip, prefix, (r) => records.get(r) !== undefined)) {
    // torch.jit.load would compile code/ and run it; only data.pkl's module tree is read, inertly.
    checkScriptGlobals(file, pklName, result.globals);
    const tree = flattenScriptModule(file, pklName, result.value);
    const dict = new PyDict();
    for (const [name, t] of tree.tensors) dict.set(name, t);
    root = dict;
    format = 'torchscript';
    scriptRoot = tree.rootClass;
    findings = [...withoutScriptMarkerFindings(findings), torchScriptFinding(tree, scriptCodeEntries(zip, prefix), records.get('constants.pkl') !== undefined)];
  }
  // Local headers of all storages, read in file order through one read-ahead window.
  const wanted = [...storages.values()]
    .map((s) => records.get(`data/${s.key}`))
    .filter((e): e is NonNullable<typeof e> => e !== undefined);
  const starts = await entryDataOffsets(zip, wanted);
  const resolveStorage = async (s: PyStorage, t: PyTensor): Promise<{ start: number; bytes: number }> => {
    const entry = records.get(`data/${s.key}`);
    const name = entry?.name ?? `${prefix}data/${s.key}`;
    if (!entry) throw new ModelLensError('corrupt', file, `storage record "${name}" referenced by the pickle is missing from the archive`, s.offset);
    if (entry.method !== 0) throw new ModelLensError('unsupported', file, `storage record "${name}" is compressed; only stored records can be read by range`, entry.centralOffset);
    const start = starts.get(name) ?? (await entryDataOffset(zip, entry));
    const bytes = storageBytes(s, t);
    if (BigInt(entry.uncompressedSize) < bytes) {
      throw new ModelLensError(
        'corrupt',
        file,
        `storage "${name}" holds ${entry.uncompressedSize} bytes but its ${s.typeName} claims ${s.numel} elements (${bytes} bytes)`,
        start,
      );
    }
    return { start, bytes: Number(bytes) };
  };
  const ck = await assemble(file, src.size, format, root, findings, resolveStorage, opts, zip);
  // Archive facts worth showing beside the tensors.
  setOwn(ck.metadata, 'torch.archive', prefix.replace(/\/$/, '') || '(root)');
  if (scriptRoot !== undefined) {
    setOwn(ck.metadata, 'torchscript.root_class', scriptRoot);
    setOwn(ck.metadata, 'torchscript.code', `${scriptCodeEntries(zip, prefix)} entries under code/, not read`);
  }
  setOwn(ck.metadata, 'torch.pickle_protocol', String(result.protocol));
  for (const [rec, key] of [['version', 'torch.format_version'], ['.data/version', 'torch.data_version'], ['byteorder', 'torch.byteorder']] as const) {
    const e = records.get(rec);
    if (e && e.uncompressedSize <= 64) setOwn(ck.metadata, key, new TextDecoder().decode((await readEntry(zip, e, 64)).data).trim());
  }
  return ck;
}

/** Reads the legacy (pre-1.6, `_use_new_zipfile_serialization=False`) format, or a plain pickle. */
export async function readTorchLegacy(src: ByteSource, opts: TorchOpenOptions = {}): Promise<Checkpoint> {
  const file = src.path;
  // The pickles sit at the start of the file, before raw storage bytes; read a growing window.
  let window = Math.min(src.size, 4 * 1024 * 1024);
  for (;;) {
    const head = await src.read(0, window);
    try {
      return await parseLegacy(src, head, opts);
    } catch (e) {
      const grow = e instanceof ModelLensError && e.code === 'truncated' && window < src.size && window < MAX_PICKLE_BYTES && (e.offset ?? 0) < window;
      if (!grow) throw e;
      window = Math.min(src.size, window * 4, MAX_PICKLE_BYTES);
    }
  }
}

async function parseLegacy(src: ByteSource, head: Uint8Array, opts: TorchOpenOptions): Promise<Checkpoint> {
  const file = src.path;
  const first = runPickle(head, { file, label: 'pickle#0', workBytes: pickleBudget(head) });
  const isMagic = (typeof first.value === 'bigint' && first.value === LEGACY_MAGIC) || (typeof first.value === 'number' && BigInt(first.value) === LEGACY_MAGIC);
  if (!isMagic) {
    // A plain pickle (pickle.dump or torch.save of non-torch data): show what it references, no tensors.
    const findings: Finding[] = [
      ...first.findings,
      { severity: 'warning', kind: 'plain-pickle', message: 'plain Python pickle, not written by torch.save; no tensors can be read', offset: 0 },
    ];
    const trailing = head.length === src.size && first.end < src.size;
    if (trailing) throw new ModelLensError('corrupt', file, `${src.size - first.end} unexpected bytes after the pickle`, first.end);
    const ck: Checkpoint = { file, format: 'pytorch-legacy', sizeBytes: src.size, tensors: [], metadata: {}, extras: [], findings: sortFindings(findings), variants: [] };
    addExtras(ck, first.value, new Set());
    return ck;
  }
  const proto = runPickle(head, { file, label: 'pickle#1', start: first.end, workBytes: pickleBudget(head) });
  if (proto.value !== 1001) throw new ModelLensError('unsupported', file, `legacy torch format with protocol version ${pyRepr(proto.value)} (only 1001 is known)`, first.end);
  const sys = runPickle(head, { file, label: 'sys_info', start: proto.end, workBytes: pickleBudget(head) });
  if (sys.value instanceof PyDict && sys.value.get('little_endian') === false) {
    throw new ModelLensError('unsupported', file, 'legacy checkpoint written on a big-endian machine', proto.end);
  }
  const storages = new Map<string, PyStorage>();
  const main = runPickle(head, { file, label: 'data pickle', start: sys.end, workBytes: pickleBudget(head), persistentLoad: (pid, at) => storageFromPid(file, pid, at, storages) });
  const keys = runPickle(head, { file, label: 'storage keys', start: main.end, workBytes: pickleBudget(head) });
  if (!(keys.value instanceof PyList) || !keys.value.items.every((k) => typeof k === 'string')) {
    throw new ModelLensError('corrupt', file, 'legacy storage-key list is not a list of strings', main.end);
  }
  // Raw storages follow, each an int64 element count and the bytes.
  const where = new Map<string, { start: number; bytes: number }>();
  let pos = keys.end;
  const window = new WindowReader(src);
  for (const k of keys.value.items as string[]) {
    const s = storages.get(k);
    if (!s) throw new ModelLensError('corrupt', file, `storage "${k}" is listed but no tensor refers to it`, pos);
    const hdr = await window.read(pos, 8);
    const count = new DataView(hdr.buffer, hdr.byteOffset, 8).getBigInt64(0, true);
    const elsize = BigInt(storageElementSize(s));
    if (count < 0n || count * elsize > BigInt(src.size - pos - 8)) {
      throw new ModelLensError('truncated', file, `storage "${k}" claims ${count} elements but only ${src.size - pos - 8} bytes remain`, pos);
    }
    if (count !== BigInt(s.numel)) {
      throw new ModelLensError('corrupt', file, `storage "${k}" holds ${count} elements but the pickle says ${s.numel}`, pos);
    }
    where.set(k, { start: pos + 8, bytes: Number(count * elsize) });
    pos += 8 + Number(count * elsize);
  }
  if (pos !== src.size) throw new ModelLensError('corrupt', file, `${src.size - pos} unexpected bytes after the last storage`, pos);
  const findings = [...first.findings, ...proto.findings, ...sys.findings, ...main.findings, ...keys.findings];
  const resolveStorage = async (s: PyStorage, t: PyTensor): Promise<{ start: number; bytes: number }> => {
    const w = where.get(s.key);
    if (!w) throw new ModelLensError('corrupt', file, `storage "${s.key}" is not among the serialized storages`, s.offset);
    const need = storageBytes(s, t);
    if (BigInt(w.bytes) < need) throw new ModelLensError('corrupt', file, `storage "${s.key}" holds ${w.bytes} bytes, needs ${need}`, w.start);
    return w;
  };
  const ck = await assemble(file, src.size, 'pytorch-legacy', main.value, findings, resolveStorage, opts, undefined);
  setOwn(ck.metadata, 'torch.legacy_protocol_version', '1001');
  setOwn(ck.metadata, 'torch.pickle_protocol', String(main.protocol));
  if (sys.value instanceof PyDict) setOwn(ck.metadata, 'torch.sys_info', pyRepr(sys.value, 200));
  return ck;
}

function storageFromPid(file: string, pid: PyValue, at: number, cache: Map<string, PyStorage>): PyValue {
  if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') {
    throw new ModelLensError('corrupt', file, `unrecognised persistent id ${pyRepr(pid, 80)}`, at);
  }
  const [, type, key, location, numel, view] = pid.items;
  if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) {
    throw new ModelLensError('corrupt', file, `persistent id names storage type ${pyRepr(type ?? null, 80)}, not a torch storage class`, at);
  }
  if (typeof key !== 'string' || key.length === 0 || key.length > 256 || key.includes('..') || key.includes('/')) {
    throw new ModelLensError('corrupt', file, `bad storage key ${pyRepr(key ?? null, 80)}`, at);
  }
  const n = typeof numel === 'bigint' ? Number(numel) : numel;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ModelLensError('corrupt', file, `bad storage size ${pyRepr(numel ?? null, 80)}`, at);
  if (view !== undefined && view !== null) {
    throw new ModelLensError('unsupported', file, 'storage views of the pre-0.4 legacy format are not supported', at);
  }
  const prev = cache.get(key);
  if (prev) {
    if (prev.typeName !== type.name || prev.numel !== n) throw new ModelLensError('corrupt', file, `storage "${key}" is declared twice with different types or sizes`, at);
    return prev;
  }
  const s = new PyStorage(type.name, (STORAGE_DTYPES[type.name] ?? null) as DType | null, key, typeof location === 'string' ? location : pyRepr(location ?? null, 40), n, at);
  cache.set(key, s);
  return s;
}

function storageElementSize(s: PyStorage): number {
  if (s.typeName === 'UntypedStorage') return 1;
  if (s.dtype === null) {
    const complex: Record<string, number> = { ComplexFloatStorage: 8, ComplexDoubleStorage: 16, QInt8Storage: 1, QUInt8Storage: 1, QInt32Storage: 4, QUInt4x2Storage: 1, QUInt2x4Storage: 1 };
    return complex[s.typeName] ?? 1;
  }
  return DTYPE_BYTES[s.dtype];
}

function storageBytes(s: PyStorage, _t: PyTensor): bigint {
  return BigInt(s.numel) * BigInt(storageElementSize(s));
}

type StorageResolver = (s: PyStorage, t: PyTensor) => Promise<{ start: number; bytes: number }>;

/** Validates a view against its storage and returns where its bytes are. */
async function tensorInfo(file: string, name: string, t: PyTensor, resolve: StorageResolver, dataFile: string): Promise<TensorInfo | undefined> {
  const dtype = t.dtype ?? t.storage.dtype;
  if (dtype === null) return undefined;
  const el = BigInt(DTYPE_BYTES[dtype]);
  const { start, bytes } = await resolve(t.storage, t);
  const storageLen = BigInt(bytes);
  const so = BigInt(t.storageOffset);
  const empty = t.shape.some((d) => d === 0);
  let last = so;
  if (!empty) for (let i = 0; i < t.shape.length; i++) last += BigInt(t.shape[i]! - 1) * BigInt(t.stride[i]!);
  const endByte = empty ? so * el : (last + 1n) * el;
  if (endByte > storageLen || so * el > storageLen) {
    throw new ModelLensError(
      'corrupt',
      file,
      `tensor "${name}" (offset ${t.storageOffset}, shape [${t.shape.join(', ')}], stride [${t.stride.join(', ')}]) reaches byte ${endByte} of a ${storageLen}-byte storage`,
      t.offset,
    );
  }
  const info: TensorInfo = {
    name,
    dtype,
    shape: [...t.shape],
    location: { file: dataFile, offset: start + Number(so * el), length: Number(endByte - so * el) },
  };
  if (!isContiguous(t.shape, t.stride)) info.strides = [...t.stride];
  return info;
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expect) return false;
    expect *= shape[i]!;
  }
  return true;
}

interface Candidate {
  key: string;
  path: string[];
  tensors: Array<[string, PyTensor]>;
}

/** Finds every dict of tensors (and pickled nn.Modules) reachable from the root. */
function findCandidates(root: PyValue, findings: Finding[]): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<object>();
  let truncated = false;
  const visit = (v: PyValue, path: string[], depth: number): void => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array || seen.has(v)) return;
    if (depth > 12) {
      truncated = true;
      return;
    }
    seen.add(v);
    if (v instanceof PyObject) {
      const st = v.state;
      if (st instanceof PyDict && (st.get('_parameters') !== undefined || st.get('_modules') !== undefined)) {
        const tensors: Array<[string, PyTensor]> = [];
        flattenModule(v, '', tensors, new Set(), 0, () => (truncated = true));
        if (tensors.length > 0) out.push({ key: path.length ? path.join('.') : '(root)', path, tensors });
        return;
      }
      if (v.dictItems) visit(v.dictItems, path, depth);
      else if (st instanceof PyDict) visit(st, path, depth);
      return;
    }
    if (!(v instanceof PyDict)) return;
    const tensors: Array<[string, PyTensor]> = [];
    for (let i = 0; i < v.keys.length; i++) {
      const k = v.keys[i]!;
      const val = v.values[i]!;
      if (val instanceof PyTensor && typeof k === 'string') tensors.push([k, val]);
    }
    if (tensors.length > 0) out.push({ key: path.length ? path.join('.') : '(root)', path, tensors });
    for (let i = 0; i < v.keys.length; i++) {
      const k = v.keys[i]!;
      const val = v.values[i]!;
      if (typeof k !== 'string' && typeof k !== 'number') continue;
      if (path.length === 0 && typeof k === 'string' && NON_WEIGHTS.test(k)) continue;
      if (val instanceof PyDict || val instanceof PyObject) visit(val, [...path, String(k)], depth + 1);
    }
  };
  visit(root, [], 0);
  if (truncated) findings.push({ severity: 'warning', kind: 'deep-nesting', message: 'containers nested too deeply were not searched for tensors' });
  return out;
}

function flattenModule(obj: PyObject, prefix: string, out: Array<[string, PyTensor]>, seen: Set<object>, depth: number, onDeep: () => void): void {
  if (seen.has(obj)) return;
  if (depth > 64) {
    onDeep();
    return;
  }
  seen.add(obj);
  const st = obj.state;
  if (!(st instanceof PyDict)) return;
  for (const field of ['_parameters', '_buffers']) {
    const d = st.get(field);
    if (!(d instanceof PyDict)) continue;
    for (let i = 0; i < d.keys.length; i++) {
      const k = d.keys[i];
      const v = d.values[i];
      if (typeof k === 'string' && v instanceof PyTensor) out.push([prefix + k, v]);
    }
  }
  const mods = st.get('_modules');
  if (mods instanceof PyDict) {
    for (let i = 0; i < mods.keys.length; i++) {
      const k = mods.keys[i];
      const v = mods.values[i];
      if (typeof k === 'string' && v instanceof PyObject) flattenModule(v, `${prefix}${k}.`, out, seen, depth + 1, onDeep);
    }
  }
}

/**
 * A weight set that is a top-level name prefix inside one state dict (MoCo v3's `momentum_encoder` beside
 * `base_encoder`): the tensors under `${variant}.` (after a DDP `module.`), names kept.
 */
function subPrefixVariant(c: Candidate | undefined, variant: string): Candidate | undefined {
  if (!c || variant.length === 0) return undefined;
  const tensors = c.tensors.filter(([n]) => n.startsWith(`${variant}.`) || n.startsWith(`module.${variant}.`));
  return tensors.length > 0 ? { key: variant, path: c.path, tensors } : undefined;
}

function rankCandidate(c: Candidate): [number, number, number] {
  const ema = c.path.some((p) => EMA.test(p) || EMA.test(p.toLowerCase())) ? 1 : 0;
  const first = c.path[0];
  const pref = c.path.length === 0 ? -1 : first !== undefined && PREFERRED.includes(first) ? PREFERRED.indexOf(first) : PREFERRED.length;
  return [ema, pref, -c.tensors.length];
}

function addExtras(ck: Checkpoint, root: PyValue, skip: Set<string>): void {
  const extras: ExtraValue[] = [];
  const dict = root instanceof PyDict ? root : root instanceof PyObject && root.dictItems ? root.dictItems : undefined;
  if (!dict) {
    if (!(root instanceof PyTensor)) extras.push({ key: '(root)', value: pyRepr(root, 300) });
    ck.extras = extras;
    return;
  }
  for (let i = 0; i < dict.keys.length && extras.length < 500; i++) {
    const k = dict.keys[i]!;
    const v = dict.values[i]!;
    const key = typeof k === 'string' ? k : pyRepr(k, 60);
    if (skip.has(key) || v instanceof PyTensor) continue;
    extras.push({ key, value: summarize(v) });
  }
  ck.extras = extras;
  for (const ck2 of CONFIG_KEYS) {
    const v = dict.get(ck2);
    if (v === undefined) continue;
    const isCfg = v instanceof PyDict || (v instanceof PyObject && (v.dictItems !== undefined || (v.allowed && v.state instanceof PyDict)));
    if (!isCfg) continue;
    const json = pyToJson(v);
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      ck.config = json as Record<string, unknown>;
      break;
    }
  }
}

function summarize(v: PyValue): string {
  if (v instanceof PyDict) {
    let tensors = 0;
    for (const x of v.values) if (x instanceof PyTensor) tensors++;
    if (tensors > 0 || v.size > 20) return `dict(${v.size} entries${tensors ? `, ${tensors} tensors` : ''})`;
  }
  return pyRepr(v, 300);
}

async function assemble(
  file: string,
  size: number,
  format: Checkpoint['format'],
  root: PyValue,
  findings: Finding[],
  resolve: StorageResolver,
  opts: TorchOpenOptions,
  _zip?: ZipArchive,
): Promise<Checkpoint> {
  const candidates = findCandidates(root, findings);
  if (root instanceof PyTensor) candidates.push({ key: '(root)', path: [], tensors: [['tensor', root]] });
  const ranked = [...candidates].sort((a, b) => {
    const ra = rankCandidate(a);
    const rb = rankCandidate(b);
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
  });
  // Validate every view in the file, not only the selected variant: a corrupt EMA copy is still corrupt.
  const infos = new Map<PyTensor, TensorInfo | undefined>();
  let skipped = 0;
  for (const c of candidates) {
    for (const [name, t] of c.tensors) {
      if (infos.has(t)) continue;
      const info = await tensorInfo(file, name, t, resolve, file);
      if (!info) skipped++;
      infos.set(t, info);
    }
  }
  if (skipped > 0) findings.push({ severity: 'info', kind: 'unsupported-dtype', message: `${skipped} tensors with complex or quantized dtypes are not shown` });
  let selected: Candidate | undefined = ranked[0];
  if (opts.variant !== undefined) {
    selected = candidates.find((c) => c.key === opts.variant) ?? subPrefixVariant(ranked[0], opts.variant);
    if (!selected) {
      throw new ModelLensError('not-found', file, `no weight set "${opts.variant}" in this checkpoint (available: ${candidates.map((c) => c.key).join(', ') || 'none'})`);
    }
  }
  const tensors: TensorInfo[] = [];
  if (selected) {
    for (const [name, t] of selected.tensors) {
      const info = infos.get(t);
      if (info) tensors.push({ ...info, name, location: { ...info.location } });
    }
  }
  let strippedPrefix = '';
  for (let again = true; again && tensors.length > 0; ) {
    again = false;
    for (const p of STRIP_PREFIXES) {
      if (tensors.every((t) => t.name.startsWith(p) && t.name.length > p.length)) {
        for (const t of tensors) t.name = t.name.slice(p.length);
        strippedPrefix += p;
        again = true;
      }
    }
  }
  const variants: WeightVariant[] = ranked.map((c) => ({ key: c.key, tensorCount: c.tensors.length }));
  const ck: Checkpoint = {
    file,
    format,
    sizeBytes: size,
    tensors,
    metadata: {},
    extras: [],
    findings: [],
    variants,
  };
  if (selected) ck.selectedVariant = selected.key;
  if (strippedPrefix) ck.strippedPrefix = strippedPrefix;
  const skip = new Set(candidates.filter((c) => c.path.length === 1).map((c) => c.path[0]!));
  addExtras(ck, root, skip);
  if (candidates.length === 0) findings.push({ severity: 'warning', kind: 'no-tensors', message: 'no tensors found in this checkpoint' });
  ck.findings = sortFindings(findings);
  return ck;
}
