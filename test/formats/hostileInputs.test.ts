// Hostile inputs beyond the committed corpus: decoy records in torch archives, pipes and devices in
// place of files, huge integers, globals that run code only when called, oversized ONNX graphs and a
// byte-order mark before a safetensors header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryByteSource, readRegularFileSync } from '../../src/formats/byteSource';
import { ModelLensError } from '../../src/formats/errors';
import { openCheckpoint, openSource } from '../../src/formats/openCheckpoint';
import { parseModel } from '../../src/formats/onnx/onnxGraph';
import { readOnnx } from '../../src/formats/onnx/onnxReader';
import { ONNX_GRAPH_LIMITS } from '../../src/formats/onnx/protobuf';
import { decodeLong, PICKLE_LIMITS, runPickle, type PickleOptions } from '../../src/formats/pickle';
import { readSafetensorsHeader } from '../../src/formats/safetensors';
import { readTorchZip } from '../../src/formats/torchCheckpoint';
import { buildZip, latin } from './readerTestUtil';

const i32 = (v: number): string => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
const bu = (t: string): string => `X${i32(t.length)}${t}`;

function tensorPickle(name: string): Uint8Array {
  return latin(
    `\x80\x02}${bu(name)}ctorch._utils\n_rebuild_tensor_v2\n((${bu('storage')}ctorch\nFloatStorage\n${bu('0')}${bu('cpu')}K\x02tQK\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRs.`,
  );
}
const payload = latin(`\x80\x02cos\nsystem\n${bu('touch /tmp/model-lens-canary-decoy')}\x85R.`);
const f32 = new Uint8Array(Float32Array.from([1, 2]).buffer);

function isError(code: string, includes: string): (e: unknown) => boolean {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ModelLensError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(includes), `"${e.message}" lacks "${includes}"`);
    return true;
  };
}

function run(s: string, opts: Partial<PickleOptions> = {}): ReturnType<typeof runPickle> {
  return runPickle(latin(s), { file: 't.pkl', ...opts });
}

// --- 1. record names resolved as torch.load resolves them -------------------------------------

test('a decoy data.pkl beside a payload Data.pkl is refused in either directory order', async () => {
  for (const [a, b] of [
    ['archive/Data.pkl', 'archive/data.pkl'],
    ['archive/data.pkl', 'archive/DATA.PKL'],
  ] as const) {
    const bytes = buildZip([
      { name: a, data: a.endsWith('data.pkl') ? tensorPickle('decoy') : payload },
      { name: b, data: b.endsWith('data.pkl') ? tensorPickle('decoy') : payload },
      { name: 'archive/data/0', data: f32 },
      { name: 'archive/version', data: latin('3\n') },
    ]);
    await assert.rejects(readTorchZip(new MemoryByteSource('decoy.pth', bytes)), isError('corrupt', 'name the same record'));
  }
  // Storage records collide the same way.
  const twoStorages = buildZip([
    { name: 'archive/data.pkl', data: tensorPickle('w') },
    { name: 'archive/data/0', data: f32 },
    { name: 'archive/DATA/0', data: f32 },
  ]);
  await assert.rejects(readTorchZip(new MemoryByteSource('s.pth', twoStorages)), isError('corrupt', 'name the same record'));
});

test('records are found without regard to case, in the folder of the first entry only', async () => {
  // torch.load reads archive/DATA.PKL for record "data.pkl": so must the inspector, findings included.
  const upper = buildZip([
    { name: 'archive/DATA.PKL', data: payload },
    { name: 'archive/version', data: latin('3\n') },
  ]);
  const ck = await openSource(new MemoryByteSource('upper.pth', upper));
  assert.ok(ck.findings.some((f) => f.severity === 'danger' && f.name === 'system'), JSON.stringify(ck.findings));
  // The folder comes from the first central-directory entry; a data.pkl elsewhere is not the record.
  const elsewhere = buildZip([
    { name: 'first/version', data: latin('3\n') },
    { name: 'second/data.pkl', data: tensorPickle('w') },
  ]);
  await assert.rejects(readTorchZip(new MemoryByteSource('e.pth', elsewhere)), isError('corrupt', 'outside the archive folder'));
  const mixed = buildZip([
    { name: 'archive/data.pkl', data: tensorPickle('w') },
    { name: 'archive/data/0', data: f32 },
    { name: 'Archive/version', data: latin('3\n') },
  ]);
  await assert.rejects(readTorchZip(new MemoryByteSource('m.pth', mixed)), isError('corrupt', 'outside the archive folder'));
  const ok = await readTorchZip(
    new MemoryByteSource('ok.pth', buildZip([{ name: 'a/Data.Pkl', data: tensorPickle('w') }, { name: 'a/Data/0', data: f32 }])),
  );
  assert.deepEqual(ok.tensors.map((t) => t.name), ['w']);
});

// --- 2. pipes, devices and sockets are refused before they are opened ---------------------------

const posix = process.platform !== 'win32';

async function withinSeconds<T>(p: Promise<T>, s: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still blocked after ${s} s`)), s * 1000);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

test('a FIFO named as a checkpoint, as a link target or as a shard gives a one-line error, never a hang', { skip: !posix }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-fifo-'));
  try {
    execFileSync('mkfifo', [join(dir, 'x.pth'), join(dir, 'shard.safetensors'), join(dir, 'img.png')]);
    symlinkSync(join(dir, 'x.pth'), join(dir, 'link.pth'));
    await assert.rejects(withinSeconds(openCheckpoint(join(dir, 'x.pth')), 5), isError('io', 'named pipe'));
    await assert.rejects(withinSeconds(openCheckpoint(join(dir, 'link.pth')), 5), isError('io', 'named pipe'));
    const model = join(dir, 'model');
    mkdirSync(model);
    execFileSync('mkfifo', [join(model, 'model-00001.safetensors')]);
    writeFileSync(join(model, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { w: 'model-00001.safetensors' } }));
    await assert.rejects(withinSeconds(openCheckpoint(join(model, 'model.safetensors.index.json')), 5), (e: unknown) => {
      assert.ok(e instanceof ModelLensError && e.code === 'io' && e.message.includes('named pipe'), String(e));
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
    assert.throws(() => readRegularFileSync(join(dir, 'img.png'), 1 << 20), isError('io', 'named pipe'));
    await assert.rejects(withinSeconds(openCheckpoint('/dev/zero'), 5), isError('io', 'character device'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- 3. integers: linear decoding, capped size ---------------------------------------------------

test('LONG integers decode in linear time and are capped in size', () => {
  // 2^(8*(n-1)) for a little-endian 0...01 of n bytes, -1 for all ones, at 64 KiB.
  const n = 64 * 1024;
  const one = new Uint8Array(n);
  one[n - 1] = 0x01;
  assert.equal(decodeLong(one), 1n << BigInt(8 * (n - 1)));
  assert.equal(decodeLong(new Uint8Array(n).fill(0xff)), -1);
  assert.equal(decodeLong(Uint8Array.from([0x00, 0x80])), -32768);
  assert.equal(decodeLong(Uint8Array.from([0xff, 0x7f])), 32767);
  const big = PICKLE_LIMITS.maxIntBytes + 1;
  assert.throws(() => run(`\x80\x02\x8b${i32(big)}${'\x01'.repeat(big)}.`), isError('too-large', 'LONG4 integer'));
  assert.throws(() => run(`\x80\x02\x8b${i32(1 << 20)}${'\x01'.repeat(1 << 20)}.`), isError('too-large', 'LONG4 integer'));
  assert.throws(() => run(`L${'9'.repeat(20000)}L\n.`), isError('too-large', 'digits'));
  assert.throws(() => run(`I${'9'.repeat(20000)}\n.`), isError('too-large', 'digits'));
  const atCap = run(`\x80\x02\x8b${i32(PICKLE_LIMITS.maxIntBytes)}${'\x00'.repeat(PICKLE_LIMITS.maxIntBytes - 1)}\x01.`);
  assert.equal(atCap.value, 1n << BigInt(8 * (PICKLE_LIMITS.maxIntBytes - 1)));
});

// --- 5. a global the pickle calls is DANGER unless allowlisted or reviewed harmless ---------------

function severityOf(r: ReturnType<typeof runPickle>, module: string, name: string): string | undefined {
  return r.findings.find((f) => f.kind === 'pickle-global' && f.module === module && f.name === name)?.severity;
}

test('globals are rated by rule: called and outside the allowlist means DANGER', () => {
  const g = (m: string, n: string): string => `c${m}\n${n}\n`;
  const called: Array<[string, string, string]> = [
    // methodcaller('system', 'id') applied to an object
    ['operator', 'methodcaller', `${g('operator', 'methodcaller')}(${bu('system')}${bu('id')}tRN\x85R`],
    ['_operator', 'methodcaller', `${g('_operator', 'methodcaller')}(${bu('system')}${bu('id')}tRN\x85R`],
    ['pydoc', 'locate', `${g('pydoc', 'locate')}${bu('os.system')}\x85R${bu('id')}\x85R`],
    ['doctest', 'debug_script', `${g('doctest', 'debug_script')}${bu('import os')}\x85R`],
    ['codecs', 'open', `${g('codecs', 'open')}${bu('/tmp/x')}${bu('w')}\x86R`],
    ['torch.utils.collect_env', 'run', `${g('torch.utils.collect_env', 'run')}${bu('id')}\x85R`],
    ['torch.utils.data.datapipes.utils.decoder', 'basichandlers', `${g('torch.utils.data.datapipes.utils.decoder', 'basichandlers')}${bu('pickle')}C\x01.\x86R`],
    ['torch', 'save', `${g('torch', 'save')}N${bu('/tmp/x')}\x86R`],
    // protocol 0 INST and OBJ call the class too
    ['somewhere', 'Thing', `(${bu('x')}isomewhere\nThing\n`],
  ];
  for (const [m, n, body] of called) {
    const r = run(`\x80\x02${body}.`);
    assert.equal(severityOf(r, m, n), 'danger', `${m}.${n}: ${JSON.stringify(r.findings)}`);
    assert.equal(r.findings[0]?.severity, 'danger');
  }
  // An instance of an unknown class (NEWOBJ + BUILD, how torch.save(model) pickles modules) stays a
  // warning, until the pickle calls that instance.
  const inst = run(`\x80\x02${g('models_mae', 'MaskedAutoencoderViT')})\x81}b.`);
  assert.equal(severityOf(inst, 'models_mae', 'MaskedAutoencoderViT'), 'warning');
  const callInst = run(`\x80\x02${g('models_mae', 'Hook')})\x81N\x85R.`);
  assert.equal(severityOf(callInst, 'models_mae', 'Hook'), 'danger');
  // Referenced but never called: a warning.
  assert.equal(severityOf(run(`\x80\x02${g('pydoc', 'locate')}.`), 'pydoc', 'locate'), 'warning');
  // Reviewed harmless data constructors stay warnings; allowlisted ones stay info.
  assert.equal(severityOf(run(`\x80\x02${g('datetime', 'timedelta')}K\x01\x85R.`), 'datetime', 'timedelta'), 'warning');
  assert.equal(severityOf(run(`\x80\x02${g('collections', 'OrderedDict')})R.`), 'collections', 'OrderedDict'), 'info');
  // A reconstructor whose base is an arbitrary class calls base.__init__.
  const rec = run(`\x80\x02${g('copyreg', '_reconstructor')}(${g('m', 'C')}${g('evil', 'Base')}${bu('s')}tR.`);
  assert.equal(severityOf(rec, 'evil', 'Base'), 'danger');
  assert.equal(severityOf(rec, 'm', 'C'), 'warning');
  // BUILD on a global patches it.
  assert.equal(severityOf(run(`\x80\x02${g('somelib', 'Config')}}b.`), 'somelib', 'Config'), 'danger');
});

// --- 6. ONNX graphs with millions of nodes are refused early --------------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
function onnxWithRepeated(field: number, count: number): Uint8Array {
  const graph = new Uint8Array(count * 2);
  for (let i = 0; i < count; i++) graph[2 * i] = (field << 3) | 2; // empty length-delimited message
  const head = [0x08, 0x08, 0x3a, ...varint(graph.length)]; // ir_version 8, field 7 (graph)
  const out = new Uint8Array(head.length + graph.length);
  out.set(head);
  out.set(graph, head.length);
  return out;
}

test('ONNX graphs over the node, initializer or value-info caps are too-large, for both readers', async () => {
  const small = { nodes: 1000, initializers: 1000, valueInfos: 1000, fields: 4000 };
  for (const [field, what] of [
    [1, 'nodes'],
    [5, 'initializers'],
    [13, 'value infos'],
  ] as const) {
    const bytes = onnxWithRepeated(field, 1001);
    await assert.rejects(readOnnx(new MemoryByteSource('big.onnx', bytes), { limits: small }), isError('too-large', what));
    assert.throws(() => parseModel(bytes, 'big.onnx', small), isError('too-large', what));
    assert.doesNotThrow(() => parseModel(onnxWithRepeated(field, 1000), 'ok.onnx', small));
  }
  // The default caps: millions of empty nodes (2 bytes each) stop at the cap.
  const millions = onnxWithRepeated(1, 2_000_000);
  await assert.rejects(openSource(new MemoryByteSource('millions.onnx', millions)), isError('too-large', `${ONNX_GRAPH_LIMITS.nodes} nodes`));
});

// --- 7. safetensors: '{' must be the first raw byte -------------------------------------------------

function st(header: Uint8Array, data = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

test('a byte-order mark before a safetensors header is refused; JSON error offsets are exact', async () => {
  const json = new TextEncoder().encode('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  const bom = st(Uint8Array.from([0xef, 0xbb, 0xbf, ...json]), new Uint8Array(4));
  await assert.rejects(readSafetensorsHeader(new MemoryByteSource('bom.safetensors', bom)), (e: unknown) => {
    assert.ok(e instanceof ModelLensError && e.code === 'corrupt' && e.message.includes('byte-order mark'), String(e));
    assert.equal(e.offset, 8);
    return true;
  });
  const ws = st(new TextEncoder().encode(' {}'));
  await assert.rejects(readSafetensorsHeader(new MemoryByteSource('ws.safetensors', ws)), isError('corrupt', 'first byte'));
  // "é" is two bytes: the error at the 'x' is at byte 8 + 8, not at its character index.
  const bad = st(new TextEncoder().encode('{"é":  x}'));
  await assert.rejects(readSafetensorsHeader(new MemoryByteSource('bad.safetensors', bad)), (e: unknown) => {
    assert.ok(e instanceof ModelLensError && e.code === 'corrupt', String(e));
    assert.equal(e.offset, 8 + 8);
    return true;
  });
  const good = await readSafetensorsHeader(new MemoryByteSource('ok.safetensors', st(json, new Uint8Array(4))));
  assert.equal(good.tensors[0]!.location.offset, 8 + json.length);
});
