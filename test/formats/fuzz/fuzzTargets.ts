// Fuzz targets for every reader of untrusted bytes, their seed corpora (taken from test/fixtures/)
// and format-aware mutators. A target returns normally or throws; the engine treats a
// ModelLensError as a correct rejection and anything else as a finding.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeImage } from '../../../src/analysis/imageDecode';
import { MemoryByteSource } from '../../../src/formats/byteSource';
import { openSource } from '../../../src/formats/openCheckpoint';
import { parseModel } from '../../../src/formats/onnx/onnxGraph';
import { pyRepr, pyToJson, runPickle } from '../../../src/formats/pickle';
import { readSafetensorsHeader, readSafetensorsIndex } from '../../../src/formats/safetensors';
import { readTensorF32 } from '../../../src/formats/tensorData';
import { openZip, readEntry } from '../../../src/formats/zip';
import { buildZip } from '../readerTestUtil';

export type Rng = () => number;

export interface FuzzTarget {
  name: string;
  seeds(): Uint8Array[];
  mutate(input: Uint8Array, rng: Rng, corpus: Uint8Array[]): Promise<Uint8Array> | Uint8Array;
  run(input: Uint8Array): Promise<void>;
}

const ROOT = resolve(__dirname, '..', '..', '..');
const FIXTURES = resolve(ROOT, 'test', 'fixtures');
const MAX_SEED = 512 * 1024;
export const MAX_INPUT = 1024 * 1024;
const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

function fixtureFiles(test: (name: string, head: Uint8Array) => boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size > 0 && st.size <= MAX_SEED) {
        const b = new Uint8Array(readFileSync(p));
        if (test(name, b.subarray(0, 16))) out.push(b);
      }
    }
  };
  walk(FIXTURES);
  return out;
}

const isZip = (h: Uint8Array): boolean => h[0] === 0x50 && h[1] === 0x4b;
const pick = <T>(xs: readonly T[], r: Rng): T => xs[Math.floor(r() * xs.length)]!;

// --- generic byte-level mutations with a per-format dictionary ---------------------------------

const INTERESTING_INTS = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, -1, 64, 1000, 1 << 20];

function writeInt(d: Uint8Array, at: number, v: number, width: number): void {
  for (let i = 0; i < width && at + i < d.length; i++) d[at + i] = Math.floor(v / 2 ** (8 * i)) & 0xff;
}

export function mutateBytes(src: Uint8Array, r: Rng, dict: readonly Uint8Array[], corpus: readonly Uint8Array[]): Uint8Array {
  let d: Uint8Array = new Uint8Array(src);
  const rounds = 1 + Math.floor(r() * 3);
  for (let k = 0; k < rounds; k++) {
    const at = d.length === 0 ? 0 : Math.floor(r() * d.length);
    switch (Math.floor(r() * 9)) {
      case 0:
        if (d.length > 0) d[at]! ^= 1 << Math.floor(r() * 8);
        break;
      case 1:
        if (d.length > 0) d[at] = pick([0x00, 0xff, 0x7f, 0x80, 0x01, 0x7b, 0x22, 0x2e], r);
        break;
      case 2:
        writeInt(d, at, pick(INTERESTING_INTS, r) >>> 0, pick([1, 2, 4, 8], r));
        break;
      case 3: {
        // insert a dictionary token
        const t = pick(dict, r);
        d = concat(d.subarray(0, at), t, d.subarray(at));
        break;
      }
      case 4: {
        // overwrite with a dictionary token
        const t = pick(dict, r);
        d = new Uint8Array(d);
        d.set(t.subarray(0, Math.max(0, d.length - at)), at);
        break;
      }
      case 5: {
        // delete a span
        const n = Math.floor(r() * Math.min(64, d.length - at + 1));
        d = concat(d.subarray(0, at), d.subarray(at + n));
        break;
      }
      case 6: {
        // duplicate a span
        const n = Math.floor(r() * Math.min(256, d.length - at + 1));
        d = concat(d.subarray(0, at + n), d.subarray(at, at + n), d.subarray(at + n));
        break;
      }
      case 7: {
        // splice with another corpus entry
        const o = pick(corpus, r);
        const from = Math.floor(r() * o.length);
        d = concat(d.subarray(0, at), o.subarray(from, from + Math.floor(r() * 512)));
        break;
      }
      default:
        // truncate
        d = d.subarray(0, at);
    }
  }
  return d.length > MAX_INPUT ? d.subarray(0, MAX_INPUT) : d;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const i32 = (v: number): string => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
const PICKLE_DICT = [
  '(', ')', '}', ']', 'N', '.', 't', 'l', 'd', 'R', 'b', 's', 'u', 'a', 'e', '0', '1', '2', '\x85', '\x86', '\x87', '\x81', '\x92', '\x93',
  '\x94', '\x88', '\x89', '\x8f', '\x90', '\x91', 'K\x01', 'K\xff', 'M\xff\xff', 'J\xff\xff\xff\xff', 'q\x00', 'h\x00', 'r\x00\x00\x00\x00',
  'j\x00\x00\x00\x00', 'g0\n', 'p0\n', 'I1\n', 'L123L\n', 'F1.5\n', 'G?\xf0\x00\x00\x00\x00\x00\x00', '\x8a\x01\xff', `\x8b${i32(9)}\x01\x02\x03\x04\x05\x06\x07\x08\x80`,
  `X${i32(3)}abc`, 'X\xff\xff\xff\x7f', '\x8c\x03abc', 'C\x02ab', `B${i32(2)}ab`, 'S\'x\'\n', 'Vabc\n', '\x95\x10\x00\x00\x00\x00\x00\x00\x00',
  '\x80\x02', '\x80\x04', '\x80\x05', 'Q', 'Pid\n', 'ctorch._utils\n_rebuild_tensor_v2\n', 'ctorch\nFloatStorage\n', 'ccollections\nOrderedDict\n',
  'cos\nsystem\n', 'cbuiltins\ngetattr\n', 'ccopyreg\n_reconstructor\n', 'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\ndtype\n',
  'ctorch._utils\n_rebuild_parameter\n', 'ctorch\nSize\n', 'cargparse\nNamespace\n', '\x82\x01', 'isubprocess\ncall\n', 'o', '\x96\x01\x00\x00\x00\x00\x00\x00\x00x',
].map(enc);
const ZIP_DICT = ['PK\x03\x04', 'PK\x01\x02', 'PK\x05\x06', 'PK\x06\x06', 'PK\x06\x07', '\xff\xff\xff\xff', 'archive/data.pkl', 'archive/DATA.PKL', 'archive/data/0', 'archive/version', '/', '..'].map(enc);
const JSON_DICT = [
  '{', '}', '[', ']', ',', ':', '"', '\\u0000', '\\"', '"dtype"', '"F32"', '"BF16"', '"I64"', '"BOOL"', '"F8_E4M3"', '"shape"', '"data_offsets"', '"__metadata__"',
  '"__proto__"', '0', '-1', '1e400', '18446744073709551616', '9007199254740993', 'null', 'true', '[0,0]', '[1,2,3]', '\xef\xbb\xbf', '"weight_map"', '"a.safetensors"', '"../x"', '"/etc/passwd"',
].map(enc);
const ONNX_DICT = ['\x08\x08', '\x3a\x00', '\x0a\x00', '\x2a\x00', '\x5a\x00', '\x62\x00', '\x6a\x00', '\x42\x04\x0a\x00\x10\x11', '\xff\xff\xff\xff\x0f', '\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01', '\x10\x01', '\x4a\x08', '\x6a\x0a\x0a\x08location', '\x70\x01', '\x08\x40', 'Attention', 'MatMul', '\x0a\x02\x08\x01'].map(enc);
const IMAGE_DICT = [
  '\x89PNG\r\n\x1a\n', 'IHDR', 'IDAT', 'IEND', 'PLTE', 'tRNS', '\x00\x00\x00\x0d', '\x7f\xff\xff\xff', '\x08\x02\x00\x00\x00', '\x08\x06\x00\x00\x00', '\x10\x03',
  '\xff\xd8', '\xff\xd9', '\xff\xc0', '\xff\xc2', '\xff\xc4', '\xff\xda', '\xff\xdb', '\xff\xdd\x00\x04\x00\x01', '\xff\xe0', '\xff\xff',
].map(enc);

// --- torch zip: structured mutation of the archive (entries renamed, dropped, duplicated,
// recompressed) and of data.pkl inside it, re-zipped so CRCs hold and the unpickler is reached ----

async function zipEntries(bytes: Uint8Array): Promise<Array<{ name: string; data: Uint8Array; method: 0 | 8 }> | undefined> {
  try {
    const src = new MemoryByteSource('seed.pth', bytes);
    const zip = await openZip(src);
    const out: Array<{ name: string; data: Uint8Array; method: 0 | 8 }> = [];
    for (const e of zip.entries.values()) out.push({ name: e.name, data: (await readEntry(zip, e, MAX_INPUT)).data, method: e.method === 8 ? 8 : 0 });
    return out;
  } catch {
    return undefined;
  }
}

async function mutateTorchZip(input: Uint8Array, r: Rng, corpus: Uint8Array[]): Promise<Uint8Array> {
  const entries = r() < 0.85 ? await zipEntries(input) : undefined;
  if (!entries || entries.length === 0) return mutateBytes(input, r, ZIP_DICT, corpus);
  const i = Math.floor(r() * entries.length);
  const e = entries[i]!;
  switch (Math.floor(r() * 6)) {
    case 0:
    case 1:
    case 2: {
      const pkl = entries.find((x) => x.name.toLowerCase().endsWith('data.pkl')) ?? e;
      pkl.data = mutateBytes(pkl.data, r, PICKLE_DICT, corpus);
      break;
    }
    case 3:
      e.name = pick([e.name.toUpperCase(), e.name.replace(/^[^/]*\//, 'other/'), `${e.name}/`, e.name.replace(/\//g, '\\'), e.name.slice(1)], r);
      break;
    case 4:
      if (r() < 0.5) entries.splice(i, 1);
      else entries.splice(Math.floor(r() * entries.length), 0, { ...e, name: r() < 0.5 ? e.name.toUpperCase() : e.name + 'x' });
      break;
    default:
      e.method = e.method === 8 ? 0 : 8;
  }
  return buildZip(entries);
}

// --- targets ---------------------------------------------------------------------------------

async function exercise(bytes: Uint8Array, name: string): Promise<void> {
  const src = new MemoryByteSource(join(fuzzDir(), name), bytes);
  const ck = await openSource(src);
  // Reading tensors exercises the storage/view checks; only small ones, as a user's reader would.
  for (const t of ck.tensors.slice(0, 16)) {
    if (t.location && t.location.length <= 1 << 16) await readTensorF32(t, { source: src });
  }
}

let dir: string | undefined;
/** A scratch folder: external-data and shard paths of fuzzed files resolve inside it, never in the repository. */
export function fuzzDir(): string {
  if (!dir) {
    dir = join(tmpdir(), `model-lens-fuzz-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    // The shards the seed indexes name, plus one more for hand-written ones.
    for (const sub of ['sharded', 'sharded_bin']) {
      const from = resolve(FIXTURES, 'readers', sub);
      for (const f of readdirSync(from)) if (!f.endsWith('.json')) writeFileSync(join(dir, f), readFileSync(join(from, f)));
    }
    const first = readdirSync(dir).find((f) => f.endsWith('.safetensors'))!;
    writeFileSync(join(dir, 'a.safetensors'), readFileSync(join(dir, first)));
  }
  return dir;
}

let pickleSeeds: Uint8Array[] | undefined;
export const TARGETS: FuzzTarget[] = [
  {
    name: 'pickle',
    seeds: () =>
      (pickleSeeds ??= fixtureFiles((n, h) => (h[0] === 0x80 && (h[1] ?? 9) <= 5) || n.endsWith('.pkl'))),
    mutate: (d, r, c) => mutateBytes(d, r, PICKLE_DICT, c),
    run: async (d) => {
      const res = runPickle(d, { file: 'fuzz.pkl', rejectTrailing: false });
      pyRepr(res.value, 400);
      pyToJson(res.value, 16, 5000);
    },
  },
  {
    name: 'torch-zip',
    seeds: () => fixtureFiles((n, h) => isZip(h) && /\.(pth|pt|bin|ckpt)$/.test(n)),
    mutate: mutateTorchZip,
    run: (d) => exercise(d, 'fuzz.pth'),
  },
  {
    name: 'torch-legacy',
    seeds: () => fixtureFiles((n, h) => h[0] === 0x80 && /\.(pth|pt|bin|ckpt)$/.test(n)),
    mutate: (d, r, c) => mutateBytes(d, r, PICKLE_DICT, c),
    run: (d) => exercise(d, 'fuzz.pt'),
  },
  {
    name: 'safetensors',
    seeds: () => fixtureFiles((n) => n.endsWith('.safetensors')),
    mutate: (d, r, c) => mutateBytes(d, r, r() < 0.7 ? JSON_DICT : ZIP_DICT, c),
    run: async (d) => {
      await readSafetensorsHeader(new MemoryByteSource('fuzz.safetensors', d));
      await exercise(d, 'fuzz.safetensors');
    },
  },
  {
    name: 'safetensors-index',
    seeds: () => [...fixtureFiles((n) => n.endsWith('.index.json')), enc('{"weight_map":{"w":"a.safetensors"}}')],
    mutate: (d, r, c) => mutateBytes(d, r, JSON_DICT, c),
    run: async (d) => {
      const p = join(fuzzDir(), 'model.safetensors.index.json');
      writeFileSync(p, d);
      await readSafetensorsIndex(p);
    },
  },
  {
    name: 'onnx',
    seeds: () => fixtureFiles((n) => n.endsWith('.onnx')),
    mutate: (d, r, c) => mutateBytes(d, r, ONNX_DICT, c),
    run: async (d) => {
      await exercise(d, 'fuzz.onnx');
      parseModel(d, 'fuzz.onnx');
    },
  },
  {
    name: 'image',
    seeds: () => fixtureFiles((n) => /\.(png|jpe?g)$/i.test(n)).slice(0, 40),
    mutate: (d, r, c) => mutateBytes(d, r, IMAGE_DICT, c),
    run: async (d) => {
      decodeImage(d, 'fuzz.png');
    },
  },
];
