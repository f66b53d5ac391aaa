import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ModelLensError } from '../../src/formats/errors';
import type { Checkpoint } from '../../src/formats/checkpoint';
import { FileByteSource } from '../../src/formats/byteSource';
import { openCheckpoint, openSource, sniffFormat } from '../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../src/formats/tensorData';
import { CountingSource, expectedReaders, num, READERS, type ExpectedTensor } from './readerTestUtil';

const exp = expectedReaders().files;

async function checkTensors(ck: Checkpoint, want: Record<string, ExpectedTensor>): Promise<void> {
  assert.deepEqual(ck.tensors.map((t) => t.name), Object.keys(want));
  for (const t of ck.tensors) {
    const e = want[t.name]!;
    assert.equal(t.dtype, e.dtype, t.name);
    assert.deepEqual(t.shape, e.shape, t.name);
    assert.equal(t.strides !== undefined, e.strided, `${t.name} strided`);
    const v = await readTensorF32(t);
    assert.equal(v.length, e.values.length, t.name);
    // Values are float64 from torch; float32 output must be their float32 rounding, exactly.
    e.values.forEach((x, i) => assert.equal(v[i], Math.fround(num(x)), `${t.name}[${i}]`));
  }
}

for (const name of ['views_fp32.pth', 'fp16.pth', 'bf16.pth', 'legacy.pth']) {
  test(`${name}: tensors, views and values equal torch`, async () => {
    const ck = await openCheckpoint(resolve(READERS, name));
    assert.equal(ck.format, exp[name]!.format);
    await checkTensors(ck, exp[name]!.tensors);
    assert.ok(ck.findings.every((f) => f.severity === 'info'), JSON.stringify(ck.findings));
    assert.ok(ck.findings.some((f) => f.kind === 'pickle-global' && f.name === '_rebuild_tensor_v2'));
  });
}

test('views share storage: transposed and sliced tensors point into the same record', async () => {
  const ck = await openCheckpoint(resolve(READERS, 'views_fp32.pth'));
  const by = new Map(ck.tensors.map((t) => [t.name, t]));
  const w = by.get('w')!;
  assert.equal(by.get('w_t')!.location.offset, w.location.offset);
  assert.deepEqual(by.get('w_t')!.strides, [1, 6]);
  assert.equal(by.get('w_rows')!.location.offset, w.location.offset + 6 * 4);
  assert.equal(by.get('w_rows')!.strides, undefined);
  assert.equal(by.get('w_cols')!.location.offset, w.location.offset + 2 * 4);
  assert.equal(by.get('w_cols')!.location.length, (3 * 6 + 2 + 1) * 4);
  assert.deepEqual(by.get('scalar')!.shape, []);
  assert.equal(by.get('empty')!.location.length, 0);
});

test('MAE wrapper: model selected, EMA listed and selectable, args as config, extras inert', async () => {
  const e = exp['mae_wrapper.pth']!;
  const ck = await openCheckpoint(resolve(READERS, 'mae_wrapper.pth'));
  assert.equal(ck.selectedVariant, 'model');
  assert.deepEqual(ck.variants.map((v) => v.key), e.variants);
  assert.deepEqual(ck.variants.map((v) => v.tensorCount), [4, 4]);
  await checkTensors(ck, e.tensors);
  assert.deepEqual(ck.config, e.config);
  const extras = new Map(ck.extras.map((x) => [x.key, x.value]));
  assert.equal(extras.get('epoch'), '7');
  assert.ok(extras.get('args')!.startsWith("Namespace(model='mae_vit_base_patch16', lr=0.00015"));
  assert.ok(extras.has('optimizer'));
  assert.ok(extras.has('scaler'));
  assert.ok(!extras.has('model') && !extras.has('model_ema'));
  const ema = await openCheckpoint(resolve(READERS, 'mae_wrapper.pth'), { variant: 'model_ema' });
  assert.equal(ema.selectedVariant, 'model_ema');
  await checkTensors(ema, e.emaTensors!);
  await assert.rejects(openCheckpoint(resolve(READERS, 'mae_wrapper.pth'), { variant: 'nope' }), (err: unknown) => {
    assert.ok(err instanceof ModelLensError && err.code === 'not-found');
    assert.ok(err.message.includes('model, model_ema'));
    return true;
  });
});

test('DDP checkpoint (pickle protocol 4): state_dict unwrapped, module. stripped', async () => {
  const e = exp['ddp_proto4.pth']!;
  const ck = await openCheckpoint(resolve(READERS, 'ddp_proto4.pth'));
  assert.equal(ck.selectedVariant, 'state_dict');
  assert.equal(ck.strippedPrefix, 'module.');
  await checkTensors(ck, e.tensors);
  assert.equal(ck.extras.find((x) => x.key === 'epoch')?.value, '3');
});

test('yacs CfgNode config, numpy scalars, backbone. prefix', async () => {
  const e = exp['yacs_numpy.pth']!;
  const ck = await openCheckpoint(resolve(READERS, 'yacs_numpy.pth'));
  assert.equal(ck.strippedPrefix, 'backbone.');
  await checkTensors(ck, e.tensors);
  assert.deepEqual(ck.config, e.config);
  const extras = Object.fromEntries(ck.extras.map((x) => [x.key, x.value]));
  for (const [k, v] of Object.entries(e.extras!)) assert.equal(extras[k], v, k);
  // The emulated yacs class is allowlisted, numpy scalar reconstruction too: nothing flagged.
  assert.ok(ck.findings.every((f) => f.severity === 'info'), JSON.stringify(ck.findings.filter((f) => f.severity !== 'info')));
});

test('legacy format offsets are absolute file offsets of the raw storages', async () => {
  const ck = await openCheckpoint(resolve(READERS, 'legacy.pth'));
  assert.equal(ck.format, 'pytorch-legacy');
  const view = ck.tensors.find((t) => t.name === 'view')!;
  const qkv = ck.tensors.find((t) => t.name === 'blocks.0.attn.qkv.weight')!;
  assert.equal(view.location.offset, qkv.location.offset + 16 * 4);
});

test('a whole pickled nn.Module: tensors found through _parameters/_buffers/_modules, classes flagged', async () => {
  const e = exp['full_module.pth']!;
  const ck = await openCheckpoint(resolve(READERS, 'full_module.pth'));
  await checkTensors(ck, e.tensors);
  const unknown = ck.findings.filter((f) => f.kind === 'pickle-global' && f.severity === 'warning').map((f) => `${f.module}.${f.name}`);
  assert.ok(unknown.includes('torch.nn.modules.linear.Linear'), unknown.join());
  assert.ok(ck.findings.every((f) => f.severity !== 'danger'));
});

test('Lightning-style checkpoint: state_dict selected, hyper_parameters (dict subclass) as config', async () => {
  const e = exp['lightning_like.ckpt']!;
  const ck = await openCheckpoint(resolve(READERS, 'lightning_like.ckpt'));
  assert.equal(ck.selectedVariant, 'state_dict');
  await checkTensors(ck, e.tensors);
  assert.deepEqual(ck.config, e.config);
  assert.equal(ck.extras.find((x) => x.key === 'epoch')?.value, '2');
});

test('format sniffing uses magic bytes first, the extension only for ties', () => {
  const b = (...x: number[]): Uint8Array => Uint8Array.from(x);
  const t = (s: string): Uint8Array => new TextEncoder().encode(s);
  assert.equal(sniffFormat(new Uint8Array(0), 0, 'a.pth'), 'empty');
  assert.equal(sniffFormat(b(0x50, 0x4b, 3, 4), 100, 'a.safetensors'), 'zip');
  assert.equal(sniffFormat(b(0x50, 0x4b, 5, 6), 22, 'a.pth'), 'zip');
  assert.equal(sniffFormat(b(0x80, 0x02, 0x8a, 0x0a), 100, 'a.bin'), 'pickle');
  assert.equal(sniffFormat(b(16, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x22), 100, 'weights.pth'), 'safetensors');
  assert.equal(sniffFormat(t('version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 5\n'), 60, 'a.onnx'), 'git-lfs-pointer');
  assert.equal(sniffFormat(t('\n  <!doctype html><html>'), 30, 'a.safetensors'), 'html');
  assert.equal(sniffFormat(b(0x08, 0x07, 0x12), 3, 'model'), 'onnx');
  assert.equal(sniffFormat(b(0x01, 0x02, 0x03), 3, 'x.onnx'), 'onnx');
  assert.equal(sniffFormat(b(0x01, 0x02, 0x03), 3, 'x.pth'), 'unknown');
  assert.equal(sniffFormat(t('hello world'), 11, 'x.pth'), 'text');
  assert.equal(sniffFormat(t('{"weight_map": {}}'), 18, 'model.safetensors.index.json'), 'safetensors-index');
});

test('a model folder opens through its index or weights file', async () => {
  const ck = await openCheckpoint(resolve(READERS, 'sharded'));
  assert.equal(ck.format, 'safetensors-sharded');
  await assert.rejects(openCheckpoint(resolve(READERS, 'pickles')), (err: unknown) => err instanceof ModelLensError && err.code === 'unknown-format');
  await assert.rejects(openCheckpoint(resolve(READERS, 'no-such-file.pth')), (err: unknown) => err instanceof ModelLensError && err.code === 'not-found');
});

test('archive facts land in metadata; opening reads a handful of ranges', async () => {
  const src = new CountingSource(await FileByteSource.open(resolve(READERS, 'views_fp32.pth')));
  const ck = await openSource(src);
  await src.close();
  assert.equal(ck.metadata['torch.archive'], 'views_fp32');
  assert.equal(ck.metadata['torch.pickle_protocol'], '2');
  assert.equal(ck.metadata['torch.format_version'], '3');
  // 13 storages, but their local headers are fetched together.
  assert.ok(src.reads <= 10, `${src.reads} reads`);
  const leg = await openCheckpoint(resolve(READERS, 'legacy.pth'));
  assert.equal(leg.metadata['torch.legacy_protocol_version'], '1001');
  assert.ok(leg.metadata['torch.sys_info']!.includes("'little_endian': True"));
});

test('pytorch_model.bin.index.json: torch shards merged, values equal torch', async () => {
  const e = exp['sharded_bin/pytorch_model.bin.index.json']!;
  const ck = await openCheckpoint(resolve(READERS, 'sharded_bin', 'pytorch_model.bin.index.json'));
  assert.equal(ck.format, 'pytorch-zip');
  await checkTensors(ck, e.tensors);
  assert.ok(ck.tensors.every((t) => t.location.file.endsWith('.bin')));
  assert.ok(ck.findings.some((f) => f.message.startsWith('pytorch_model-00001-of-00002.bin: ')));
});
