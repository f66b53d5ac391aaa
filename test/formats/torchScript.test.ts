// TorchScript archives: the traced OpenAI-CLIP-layout fixture (torch.jit.save, fp16) reads as the state dict
// torch's own state_dict() gives, without any byte of its code/ folder being read; hostile module trees are
// refused with typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MemoryByteSource, type ByteSource } from '../../src/formats/byteSource';
import { ModelLensError } from '../../src/formats/errors';
import { openCheckpoint, openSource } from '../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../src/formats/tensorData';
import { MAX_MODULE_DEPTH, MAX_MODULE_VISITS } from '../../src/formats/torchScript';
import { entryDataOffset, openZip } from '../../src/formats/zip';
import { buildZip, latin, ROOT, type Ent } from './readerTestUtil';

const ZOO = resolve(ROOT, 'test', 'fixtures', 'zoo');
const JIT = resolve(ZOO, 'clip_vit_b8_jit.pt');
const PLAIN = resolve(ZOO, 'clip_vit_b8_state_dict.pt');

/** Records every byte range a reader asks for. */
class RecordingSource implements ByteSource {
  readonly ranges: Array<[number, number]> = [];
  constructor(private readonly inner: ByteSource) {}
  get path(): string {
    return this.inner.path;
  }
  get size(): number {
    return this.inner.size;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    this.ranges.push([offset, offset + length]);
    return this.inner.read(offset, length);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function isError(code: string, includes: string): (e: unknown) => boolean {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ModelLensError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(includes), `"${e.message}" lacks "${includes}"`);
    assert.ok(e.message.startsWith('ts.pt'), e.message);
    return true;
  };
}

// --- a small pickle writer for module trees as torch.jit.save pickles them --------------------------

const i32 = (v: number): string => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
const str = (t: string): string => `X${i32(t.length)}${t}`;
const tensor = `ctorch._utils\n_rebuild_tensor_v2\n((${str('storage')}ctorch\nFloatStorage\n${str('0')}${str('cpu')}K\x02tQK\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)Rt\x52`;
/** `__torch__.<cls>` made by NEWOBJ with no arguments, then BUILD from an attribute dict. */
const mod = (cls: string, attrs: string): string => `c__torch__\n${cls}\n)\x81}(${str('training')}\x88${attrs}ub`;
const pickle = (body: string): Uint8Array => latin(`\x80\x02${body}.`);

const f32 = new Uint8Array(Float32Array.from([1.5, -2]).buffer);

function archive(dataPkl: Uint8Array, extra: Ent[] = [], withConstants = true): Uint8Array {
  const entries: Ent[] = [
    { name: 'ts/data.pkl', data: dataPkl },
    { name: 'ts/code/__torch__.py', data: latin('class M(Module):\n  pass\n'), method: 8 },
    { name: 'ts/code/__torch__.py.debug_pkl', data: latin('\x80\x02)'), method: 8 },
    ...extra,
    { name: 'ts/data/0', data: f32 },
    { name: 'ts/version', data: latin('3\n') },
  ];
  if (withConstants) entries.push({ name: 'ts/constants.pkl', data: pickle(')') });
  return buildZip(entries);
}

const open = (bytes: Uint8Array): ReturnType<typeof openSource> => openSource(new MemoryByteSource('ts.pt', bytes));

// --- the fixture -------------------------------------------------------------------------------------

test('the traced CLIP archive reads as its state_dict: names, dtypes (fp16 + fp32) and values of the plain state-dict fixture', async () => {
  const jit = await openCheckpoint(JIT);
  const plain = await openCheckpoint(PLAIN);
  assert.equal(jit.format, 'torchscript');
  assert.equal(jit.metadata['torchscript.root_class'], '__torch__.ClipJit');
  // The state dict torch.jit.load(...).state_dict() gives: the plain one plus OpenAI's three scalar buffers.
  const extra = ['input_resolution', 'context_length', 'vocab_size'];
  assert.deepEqual(jit.tensors.map((t) => t.name).filter((n) => !extra.includes(n)).sort(), plain.tensors.map((t) => t.name).sort());
  const by = new Map(jit.tensors.map((t) => [t.name, t]));
  for (const n of extra) assert.equal(by.get(n)?.dtype, 'I64', n);
  assert.deepEqual(by.get('visual.transformer.resblocks.0.attn.in_proj_weight')?.shape, [384, 128]);
  for (const p of plain.tensors) {
    const t = by.get(p.name)!;
    assert.equal(t.dtype, p.dtype, p.name);
    assert.deepEqual(t.shape, p.shape, p.name);
    assert.deepEqual(await readTensorF32(t), await readTensorF32(p), p.name);
  }
  const ts = jit.findings.find((f) => f.kind === 'torchscript');
  assert.ok(ts, JSON.stringify(jit.findings));
  assert.match(ts.message, /TorchScript archive .*code\/ folder \(66 files\) and constants\.pkl .* neither read nor executed/);
  // The __torch__ class markers are not reported one by one, and nothing is a warning.
  assert.ok(jit.findings.every((f) => f.severity === 'info' && !(f.module ?? '').startsWith('__torch__')), JSON.stringify(jit.findings));
});

test('code/ is never read: no byte of any code/ or constants entry is requested, and junk there changes nothing', async () => {
  const bytes = new Uint8Array(readFileSync(JIT));
  const zip = await openZip(new MemoryByteSource('jit.pt', bytes));
  const skipped: Array<[number, number, string]> = [];
  for (const e of zip.entries.values()) {
    if (!/\/(code\/|constants)/.test(e.name)) continue;
    const start = await entryDataOffset(zip, e);
    skipped.push([e.localHeaderOffset, start + e.compressedSize, e.name]);
    // Hostile bytes in place of the code and constants: a pickle that would run a command, then junk.
    const junk = latin(`\x80\x02cos\nsystem\n${str('touch /tmp/model-lens-canary-ts')}\x85R.`);
    for (let i = 0; i < e.compressedSize; i++) bytes[start + i] = i < junk.length ? junk[i]! : 0xff;
    // ...and a smashed local header.
    bytes[e.localHeaderOffset] = 0;
  }
  assert.ok(skipped.length > 60);
  const src = new RecordingSource(new MemoryByteSource('jit.pt', bytes));
  const ck = await openSource(src);
  assert.equal(ck.format, 'torchscript');
  assert.equal(ck.tensors.length, 53);
  // The end-record scan reads the last 64 KiB wholesale to find the signature; every other read is of a
  // record the reader means to use.
  const reads = src.ranges.filter(([, b]) => b !== bytes.length);
  assert.ok(reads.length >= 3 && reads.length < src.ranges.length);
  for (const [a, b] of reads) {
    for (const [s, e, name] of skipped) assert.ok(b <= s || a >= e, `read ${a}..${b} touches ${name} (${s}..${e})`);
  }
});

test('a code/ entry whose directory record claims 4 GB is not touched either', async () => {
  const bytes = archive(pickle(mod('M', `${str('weight')}${tensor}`)));
  // Patch the central record of ts/code/__torch__.py: uncompressed size 0xfffffff0.
  const name = latin('ts/code/__torch__.py');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let patched = 0;
  for (let p = 0; p + 46 < bytes.length; p++) {
    if (dv.getUint32(p, true) !== 0x02014b50 || dv.getUint16(p + 28, true) !== name.length) continue;
    if (name.every((c, i) => bytes[p + 46 + i] === c)) {
      dv.setUint32(p + 24, 0xfffffff0, true);
      patched++;
    }
  }
  assert.equal(patched, 1);
  const ck = await open(bytes);
  assert.equal(ck.format, 'torchscript');
  assert.deepEqual(ck.tensors.map((t) => t.name), ['weight']);
});

// --- module trees ------------------------------------------------------------------------------------

test('a module tree flattens to dotted names; typed-list attributes and torch.jit._pickle helpers are inert', async () => {
  const sub = mod('torch.nn.modules.linear.Linear', `${str('bias')}${tensor}`);
  const seq = mod('torch.nn.modules.container.Sequential', `${str('0')}${sub}`);
  const sizes = `${str('sizes')}ctorch.jit._pickle\nbuild_intlist\n]K\x01aK\x02a\x85R`;
  const ck = await open(archive(pickle(mod('M', `${str('weight')}${tensor}${sizes}${str('blocks')}${seq}${str('name')}${str('m')}`))));
  assert.equal(ck.format, 'torchscript');
  assert.deepEqual(ck.tensors.map((t) => t.name), ['weight', 'blocks.0.bias']);
  assert.ok(ck.findings.every((f) => f.severity !== 'danger'), JSON.stringify(ck.findings));
});

test('an archive with code/ but no constants.pkl is still TorchScript; one without either stays a torch.save zip', async () => {
  const data = pickle(mod('M', `${str('weight')}${tensor}`));
  assert.equal((await open(archive(data, [], false))).format, 'torchscript');
  const plain = buildZip([
    { name: 'ts/data.pkl', data: latin(`\x80\x02}${str('weight')}${tensor}s.`) },
    { name: 'ts/data/0', data: f32 },
    { name: 'ts/version', data: latin('3\n') },
  ]);
  assert.equal((await open(plain)).format, 'pytorch-zip');
});

test('hostile data.pkl: a global torch.jit.save never writes is refused, naming it and its offset', async () => {
  const body = mod('M', `${str('weight')}${tensor}${str('x')}cos\nsystem\n${str('touch /tmp/model-lens-canary-ts')}\x85R`);
  await assert.rejects(open(archive(pickle(body))), (e: unknown) => {
    isError('corrupt', 'references os.system, which torch.jit.save never writes')(e);
    const off = (e as ModelLensError).offset;
    assert.ok(off !== undefined && off > 0);
    return true;
  });
  // A non-__torch__ class as the "module" is refused the same way.
  await assert.rejects(open(archive(pickle(`cbuiltins\nobject\n)\x81}b`))), isError('corrupt', 'builtins.object'));
});

test('hostile data.pkl: a cycle, a deep chain, a diamond explosion, a called class and a non-module root are refused', async () => {
  const cycle = `c__torch__\nM\n)\x81q\x00}(${str('training')}\x88${str('self')}h\x00ub`;
  await assert.rejects(open(archive(pickle(cycle))), isError('corrupt', 'cycle'));
  // A cycle two levels down.
  const cycle2 = `c__torch__\nM\n)\x81q\x00}(${str('a')}c__torch__\nA\n)\x81}(${str('back')}h\x00ubub`;
  await assert.rejects(open(archive(pickle(cycle2))), isError('corrupt', 'cycle (a.back'));
  let deep = mod('L', `${str('weight')}${tensor}`);
  for (let i = 0; i < MAX_MODULE_DEPTH + 5; i++) deep = mod('L', `${str('m')}${deep}`);
  await assert.rejects(open(archive(pickle(deep))), isError('too-large', `deeper than ${MAX_MODULE_DEPTH}`));
  // Pickle nesting far deeper still stops in the VM, not on the JS stack.
  let deeper = mod('L', '');
  for (let i = 0; i < 3000; i++) deeper = mod('L', `${str('m')}${deeper}`);
  await assert.rejects(open(archive(pickle(deeper))), (e: unknown) => e instanceof ModelLensError && e.code === 'too-large');
  // Each level holds the next twice (memoised): 2^40 paths from a few hundred bytes.
  let dag = `${mod('D', `${str('weight')}${tensor}`)}q\x00`;
  for (let i = 1; i <= 40; i++) dag = `${dag}0${mod('D', `${str('a')}h${String.fromCharCode(i - 1)}${str('b')}h${String.fromCharCode(i - 1)}`)}q${String.fromCharCode(i)}`;
  assert.ok(MAX_MODULE_VISITS < 2 ** 40);
  await assert.rejects(open(archive(pickle(dag))), isError('too-large', 'modules in the module tree'));
  const called = `c__torch__\nM\n(${str('arg')}tR}(${str('training')}\x88ub`;
  await assert.rejects(open(archive(pickle(called))), isError('corrupt', 'built by a call with arguments'));
  await assert.rejects(open(archive(pickle(`}(${str('weight')}${tensor}u`))), isError('corrupt', 'not a __torch__ module'));
});
