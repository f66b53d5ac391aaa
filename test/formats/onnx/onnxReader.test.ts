// readOnnx: summaries and tensor locations of built models, every initializer encoding, external data
// inside/outside the model's folder, the bad-file corpus, fuzzed input, and a sparse multi-GB model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, symlinkSync, mkdirSync, readFileSync, openSync, closeSync, writeSync, ftruncateSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FileByteSource, MemoryByteSource } from '../../../src/formats/byteSource';
import { ModelLensError } from '../../../src/formats/errors';
import { readOnnx } from '../../../src/formats/onnx/onnxReader';
import { OnnxDataType, OnnxGraphBuilder, attrInt, encodeModel, encodeNode, encodeValueInfo, f32Tensor, leBytes } from '../../../src/analysis/graph/onnxBuilder';
import { ProtoWriter } from '../../../src/formats/onnx/protobuf';
import { rng } from '../../analysis/graph/naiveVit';

const FIX = resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures');

function isErr(code: string, re?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof ModelLensError && e.code === code && (!re || re.test(e.message));
}

function smallModel(): Uint8Array {
  const g = new OnnxGraphBuilder('g');
  g.input('x', OnnxDataType.FLOAT, ['batch', 4]);
  const w = g.initializer(f32Tensor('w', [4, 3], Float32Array.from({ length: 12 }, (_, i) => i - 5.5)));
  const y = g.op('MatMul', ['x', w]);
  g.node('Softmax', [y], ['y'], { axis: attrInt(-1) });
  g.node('Gelu', ['y'], ['z'], undefined, 'com.microsoft');
  g.output('z', OnnxDataType.FLOAT, ['batch', 3]);
  return g.toModel({ producer: 'test', metadata: { author: 'me', note: 'x' }, extraOpsets: [{ domain: 'com.microsoft', version: 1 }] });
}

/** A model whose graph holds arbitrary hand-written TensorProto messages as initializers. */
function modelWithTensors(tensors: ProtoWriter[], extraGraph?: (g: ProtoWriter) => void): Uint8Array {
  const g = new ProtoWriter();
  g.message(1, encodeNode({ opType: 'Identity', inputs: ['x'], outputs: ['y'] }));
  for (const t of tensors) g.message(5, t);
  g.message(11, encodeValueInfo({ name: 'x', elemType: 1, dims: [1] }));
  g.message(12, encodeValueInfo({ name: 'y', elemType: 1, dims: [1] }));
  extraGraph?.(g);
  return encodeModel(g);
}

function tensorProto(name: string, dataType: number, dims: number[], fill: (w: ProtoWriter) => void): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) w.int64(1, d);
  w.int64(2, dataType).string(8, name);
  fill(w);
  return w;
}

function external(w: ProtoWriter, kv: Record<string, string>): void {
  for (const [k, v] of Object.entries(kv)) w.message(13, new ProtoWriter().string(1, k).string(2, v));
  w.int64(14, 1);
}

test('summary, metadata and raw_data locations of a built model', async () => {
  const bytes = smallModel();
  const ck = await readOnnx(new MemoryByteSource('m.onnx', bytes));
  assert.equal(ck.format, 'onnx');
  assert.equal(ck.sizeBytes, bytes.length);
  assert.deepEqual({ ...ck.metadata }, { author: 'me', note: 'x' });
  assert.deepEqual(ck.onnx!.opsets, [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }]);
  assert.equal(ck.onnx!.irVersion, 8);
  assert.equal(ck.onnx!.producer, 'test 0.1.0');
  assert.deepEqual({ ...ck.onnx!.opCounts }, { MatMul: 1, Softmax: 1, 'com.microsoft.Gelu': 1 });
  assert.equal(ck.onnx!.nodeCount, 3);
  assert.deepEqual(ck.onnx!.inputs, [{ name: 'x', elemType: 'FLOAT', shape: ['batch', 4] }]);
  assert.deepEqual(ck.onnx!.outputs, [{ name: 'z', elemType: 'FLOAT', shape: ['batch', 3] }]);
  assert.equal(ck.tensors.length, 1);
  const t = ck.tensors[0]!;
  assert.deepEqual([t.name, t.dtype, t.shape], ['w', 'F32', [4, 3]]);
  const data = new Float32Array(bytes.slice(t.location.offset, t.location.offset + t.location.length).buffer);
  assert.deepEqual([...data], Array.from({ length: 12 }, (_, i) => i - 5.5));
});

test('dtype mapping, packed float_data, varint int64_data and unsupported types', async () => {
  const f16 = new Uint8Array(6).fill(0x3c);
  const floats = Float32Array.of(1, 2, 3, 4);
  const tensors = [
    tensorProto('h', OnnxDataType.FLOAT16, [3], (w) => w.bytes(9, f16)),
    tensorProto('bf', OnnxDataType.BFLOAT16, [1, 2], (w) => w.bytes(9, new Uint8Array(4))),
    tensorProto('d', OnnxDataType.DOUBLE, [1], (w) => w.bytes(9, new Uint8Array(8))),
    tensorProto('i64', OnnxDataType.INT64, [2], (w) => w.bytes(9, leBytes(BigInt64Array.of(5n, -6n)))),
    tensorProto('f8', OnnxDataType.FLOAT8E4M3FN, [2], (w) => w.bytes(9, new Uint8Array(2))),
    tensorProto('f8b', OnnxDataType.FLOAT8E5M2, [2], (w) => w.bytes(9, new Uint8Array(2))),
    tensorProto('b', OnnxDataType.BOOL, [2], (w) => w.bytes(9, new Uint8Array(2))),
    tensorProto('fd', OnnxDataType.FLOAT, [2, 2], (w) => w.packedFloat(4, floats)),
    tensorProto('shape', OnnxDataType.INT64, [3], (w) => w.packedInt64(7, [1, -1, 768])),
    tensorProto('unpacked', OnnxDataType.INT64, [2], (w) => w.int64(7, 9).int64(7, -9)),
    tensorProto('u32', OnnxDataType.UINT32, [2], (w) => w.bytes(9, new Uint8Array(8))),
    tensorProto('s', OnnxDataType.STRING, [1], (w) => w.string(6, 'hi')),
    tensorProto('empty', OnnxDataType.FLOAT, [0, 5], () => undefined),
  ];
  const bytes = modelWithTensors(tensors);
  const ck = await readOnnx(new MemoryByteSource('m.onnx', bytes));
  const by = new Map(ck.tensors.map((t) => [t.name, t]));
  assert.deepEqual([...by.keys()], ['h', 'bf', 'd', 'i64', 'f8', 'f8b', 'b', 'fd', 'empty']);
  assert.deepEqual(['h', 'bf', 'd', 'i64', 'f8', 'f8b', 'b', 'fd'].map((n) => by.get(n)!.dtype), ['F16', 'BF16', 'F64', 'I64', 'F8_E4M3', 'F8_E5M2', 'BOOL', 'F32']);
  const fd = by.get('fd')!;
  assert.deepEqual([...new Float32Array(bytes.slice(fd.location.offset, fd.location.offset + fd.location.length).buffer)], [1, 2, 3, 4]);
  const extras = new Map(ck.extras.map((e) => [e.key, e.value]));
  assert.match(extras.get('shape')!, /^I64\[3\] = \[1, -1, 768\]/);
  assert.match(extras.get('unpacked')!, /^I64\[2\] = \[9, -9\]/);
  assert.match(extras.get('u32')!, /UINT32/);
  assert.match(extras.get('s')!, /STRING/);
});

test('size mismatches and negative dims are corrupt', async () => {
  const short = modelWithTensors([tensorProto('w', OnnxDataType.FLOAT, [2, 2], (w) => w.bytes(9, new Uint8Array(15)))]);
  await assert.rejects(readOnnx(new MemoryByteSource('m.onnx', short)), isErr('corrupt', /raw_data has 15 bytes but F32\[2, 2\] needs 16/));
  const neg = modelWithTensors([tensorProto('w', OnnxDataType.FLOAT, [-2], (w) => w.bytes(9, new Uint8Array(8)))]);
  await assert.rejects(readOnnx(new MemoryByteSource('m.onnx', neg)), isErr('corrupt', /negative/));
  const huge = modelWithTensors([tensorProto('w', OnnxDataType.FLOAT, [2 ** 30, 2 ** 30, 2 ** 30], () => undefined)]);
  await assert.rejects(readOnnx(new MemoryByteSource('m.onnx', huge)), isErr('corrupt', /overflows/));
});

test('external data: resolved inside the folder, refused outside it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ml-onnx-'));
  try {
    const dir = join(root, 'model');
    mkdirSync(join(dir, 'weights'), { recursive: true });
    const payload = Float32Array.of(9, 8, 7, 6, 5, 4);
    writeFileSync(join(dir, 'weights', 'w.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(leBytes(payload))]));
    writeFileSync(join(root, 'outside.bin'), Buffer.alloc(64));
    symlinkSync(join(root, 'outside.bin'), join(dir, 'link.bin'));
    const write = (name: string, kv: Record<string, string>): string => {
      const p = join(dir, name);
      writeFileSync(p, modelWithTensors([tensorProto('w', OnnxDataType.FLOAT, [2, 3], (w) => external(w, kv))]));
      return p;
    };
    const open = async (p: string, resolveExternal?: boolean): Promise<ReturnType<typeof readOnnx>> => {
      const src = await FileByteSource.open(p);
      try {
        return await readOnnx(src, resolveExternal === undefined ? {} : { resolveExternal });
      } finally {
        await src.close();
      }
    };
    const ok = await open(write('ok.onnx', { location: 'weights/w.bin', offset: '8', length: '24' }));
    assert.deepEqual(ok.tensors[0]!.location, { file: join(dir, 'weights', 'w.bin'), offset: 8, length: 24 });
    const onDisk = Uint8Array.from(readFileSync(ok.tensors[0]!.location.file).subarray(8, 32));
    assert.deepEqual([...new Float32Array(onDisk.buffer)], [...payload]);
    // ./ prefix and default length
    const ok2 = await open(write('ok2.onnx', { location: './weights/w.bin', offset: '8' }));
    assert.equal(ok2.tensors[0]!.location.length, 24);
    await assert.rejects(open(write('dotdot.onnx', { location: '../outside.bin' })), isErr('unsafe-path', /leaves the model's folder/));
    await assert.rejects(open(write('deep.onnx', { location: 'weights/../../outside.bin' })), isErr('unsafe-path'));
    await assert.rejects(open(write('abs.onnx', { location: join(root, 'outside.bin') })), isErr('unsafe-path', /absolute/));
    await assert.rejects(open(write('win.onnx', { location: 'C:\\x.bin' })), isErr('unsafe-path', /absolute/));
    await assert.rejects(open(write('back.onnx', { location: '..\\outside.bin' })), isErr('unsafe-path'));
    await assert.rejects(open(write('link.onnx', { location: 'link.bin' })), isErr('unsafe-path', /symlink/));
    await assert.rejects(open(write('missing.onnx', { location: 'nope.bin' })), isErr('not-found', /nope\.bin/));
    await assert.rejects(open(write('short.onnx', { location: 'weights/w.bin', offset: '16', length: '24' })), isErr('truncated'));
    await assert.rejects(open(write('len.onnx', { location: 'weights/w.bin', length: '20' })), isErr('corrupt', /needs 24 bytes/));
    await assert.rejects(open(write('badoff.onnx', { location: 'weights/w.bin', offset: '-1' })), isErr('corrupt'));
    // Header-only mode touches no other file: unsafe references become a danger finding.
    const hdr = await open(join(dir, 'dotdot.onnx'), false);
    assert.equal(hdr.tensors.length, 0);
    assert.ok(hdr.findings.some((f) => f.severity === 'danger' && f.kind === 'external-data'));
    const hdrOk = await open(join(dir, 'missing.onnx'), false);
    assert.equal(hdrOk.tensors[0]!.location.file, join(dir, 'nope.bin'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad-file corpus: the .onnx entries give the manifest error codes', async () => {
  const manifest = JSON.parse(readFileSync(join(FIX, 'bad', 'manifest.json'), 'utf8')) as { files: Array<{ file: string; expectError?: { code: string; messageIncludes: string } }> };
  const entries = manifest.files.filter((f) => f.file.endsWith('.onnx') && f.expectError);
  assert.ok(entries.length >= 3);
  for (const e of entries) {
    const src = await FileByteSource.open(join(FIX, 'bad', e.file));
    try {
      await assert.rejects(readOnnx(src), (err: unknown) => err instanceof ModelLensError && err.code === e.expectError!.code && err.message.includes(e.expectError!.messageIncludes) && err.file === src.path, e.file);
    } finally {
      await src.close();
    }
  }
});

test('fuzz: truncations, bit flips and random bytes only ever give ModelLensError', async () => {
  const good = smallModel();
  const r = rng(5);
  const tryOne = async (b: Uint8Array): Promise<void> => {
    try {
      await readOnnx(new MemoryByteSource('f.onnx', b));
    } catch (e) {
      assert.ok(e instanceof ModelLensError, `non-typed error: ${String(e)}`);
      assert.ok(e.message.startsWith('f.onnx'));
    }
  };
  for (let n = 0; n < good.length; n++) await tryOne(good.subarray(0, n));
  for (let k = 0; k < 400; k++) {
    const b = good.slice();
    const at = Math.floor(r() * b.length);
    b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
    await tryOne(b);
  }
  for (let k = 0; k < 200; k++) {
    const b = new Uint8Array(1 + Math.floor(r() * 300)).map(() => Math.floor(r() * 256));
    await tryOne(b);
  }
  // Truncated inside the graph: a typed truncation naming an offset.
  await assert.rejects(readOnnx(new MemoryByteSource('t.onnx', good.subarray(0, good.length - 40))), isErr('truncated'));
  await assert.rejects(readOnnx(new MemoryByteSource('e.onnx', new Uint8Array(0))), isErr('empty-file'));
  await assert.rejects(readOnnx(new MemoryByteSource('n.onnx', new ProtoWriter().int64(1, 8).finish())), isErr('corrupt', /no graph/));
});

test('a sparse 3 GB model opens by ranges without loading its tensor data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-onnx-big-'));
  const path = join(dir, 'big.onnx');
  try {
    const dataLen = 3 * 2 ** 30;
    const numel = dataLen / 4;
    // TensorProto header up to raw_data's payload, then the payload is a hole in a sparse file.
    const head = new ProtoWriter().int64(1, numel).int64(2, OnnxDataType.FLOAT).string(8, 'huge').tag(9, 2).rawVarint(dataLen).finish();
    const tensorLen = head.length + dataLen;
    const trailer = new ProtoWriter().message(1, encodeNode({ opType: 'Identity', inputs: ['huge'], outputs: ['y'] })).message(12, encodeValueInfo({ name: 'y', elemType: 1, dims: [numel] })).finish();
    const graphLen = 1 + varintLen(tensorLen) + tensorLen + trailer.length;
    const modelHead = new ProtoWriter().int64(1, 8).tag(7, 2).rawVarint(graphLen).tag(5, 2).rawVarint(tensorLen).finish();
    const fd = openSync(path, 'w');
    writeSync(fd, modelHead, 0, modelHead.length, 0);
    writeSync(fd, head, 0, head.length, modelHead.length);
    const trailerAt = modelHead.length + head.length + dataLen;
    writeSync(fd, trailer, 0, trailer.length, trailerAt);
    const opset = new ProtoWriter().message(8, new ProtoWriter().string(1, '').int64(2, 17)).finish();
    writeSync(fd, opset, 0, opset.length, trailerAt + trailer.length);
    ftruncateSync(fd, trailerAt + trailer.length + opset.length);
    closeSync(fd);
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const src = await FileByteSource.open(path);
    const ck = await readOnnx(src);
    await src.close();
    const ms = performance.now() - t0;
    const grew = process.memoryUsage().rss - before;
    assert.equal(ck.tensors.length, 1);
    assert.deepEqual(ck.tensors[0]!.location, { file: path, offset: modelHead.length + head.length, length: dataLen });
    assert.equal(ck.onnx!.opCounts['Identity'], 1);
    assert.deepEqual(ck.onnx!.opsets, [{ domain: '', version: 17 }]);
    assert.ok(grew < 64 * 2 ** 20, `RSS grew by ${grew} bytes`);
    assert.ok(ms < 2000, `took ${ms} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function varintLen(v: number): number {
  return new ProtoWriter().rawVarint(v).length;
}
