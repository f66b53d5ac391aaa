// End-to-end numbers of the ONNX side against the float64 PyTorch references of the fixture script:
// every analyzable fixture checkpoint goes reader → recognition → buildAnalysisGraph (or, for the
// torch.onnx export, readOnnx → instrumentOnnx) → onnxruntime on the probe images → sums and CKA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openCheckpoint } from '../../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../../src/formats/tensorData';
import { recognize } from '../../../src/model/recognize';
import { attachSidecarConfig } from '../../../src/model/sidecarConfig';
import { buildAnalysisGraph } from '../../../src/analysis/graph/vitGraph';
import { instrumentOnnxFile } from '../../../src/analysis/graph/instrument';
import { readOnnx } from '../../../src/formats/onnx/onnxReader';
import { FileByteSource, MemoryByteSource } from '../../../src/formats/byteSource';
import { folderProbeSet, batchTensor } from '../../../src/analysis/probes';

const FIX = resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures');

interface FixtureRef {
  probeDir: string;
  batchSize: number;
  imageSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  heads: number;
  layers: number;
  cka: { matrix: number[][]; batches: number };
  sums: { attnDistSum: number[][]; klSum: number[][][]; count: number };
  onnx?: { input: string; attentionSoftmaxOutputs: string[]; blockOutputs: string[] };
}

interface ManifestModel {
  file: string;
  analyzable: boolean;
  ref?: string;
  variant?: string;
  format: string;
}

/** Independent float64 unbiased HSIC (DESIGN.md formula), written out directly. */
function hsic(K: Float64Array, L: Float64Array, n: number): number {
  const k = K.slice();
  const l = L.slice();
  for (let i = 0; i < n; i++) {
    k[i * n + i] = 0;
    l[i * n + i] = 0;
  }
  let tr = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) tr += k[i * n + j]! * l[j * n + i]!;
  let sk = 0;
  let sl = 0;
  for (let i = 0; i < n * n; i++) {
    sk += k[i]!;
    sl += l[i]!;
  }
  let kl1 = 0;
  for (let i = 0; i < n; i++) {
    let rk = 0;
    let rl = 0;
    for (let j = 0; j < n; j++) {
      rk += k[i * n + j]!;
      rl += l[j * n + i]!;
    }
    kl1 += rk * rl;
  }
  return (tr + (sk * sl) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * kl1) / (n * (n - 3));
}

async function runAndCompare(model: Uint8Array, ref: FixtureRef, name: string): Promise<void> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const probes = folderProbeSet(join(FIX, ref.probeDir));
  const L = ref.layers;
  const H = ref.heads;
  const dist = new Float64Array(L * H);
  const kl = new Float64Array(L * H * H);
  const hs = new Float64Array(L * L);
  let count = 0;
  let ckaBatches = 0;
  for (const batch of probes.batches(ref.batchSize, (n, p) => assert.fail(`${n}: ${p}`))) {
    const b = batch.length;
    const px = batchTensor(batch, ref.imageSize, ref.mean, ref.std);
    const out = await session.run({ pixel_values: new ort.Tensor('float32', px, [b, 3, ref.imageSize[0], ref.imageSize[1]]) });
    const d = out['attn_dist_sum']!;
    const k = out['kl_sum']!;
    const g = out['gram']!;
    assert.deepEqual(d.dims, [L, H], `${name}: attn_dist_sum dims`);
    assert.deepEqual(k.dims, [L, H, H]);
    assert.deepEqual(g.dims, [L, b, b]);
    (d.data as Float32Array).forEach((v, i) => (dist[i] = dist[i]! + v));
    (k.data as Float32Array).forEach((v, i) => (kl[i] = kl[i]! + v));
    const patchTokens = ref.sums.count / probes.planned;
    count += b * patchTokens;
    if (b >= 4) {
      const gd = g.data as Float32Array;
      const gram = (l: number): Float64Array => Float64Array.from(gd.subarray(l * b * b, (l + 1) * b * b));
      for (let p = 0; p < L; p++) for (let q = 0; q < L; q++) hs[p * L + q] = hs[p * L + q]! + hsic(gram(p), gram(q), b);
      ckaBatches++;
    }
  }
  assert.equal(count, ref.sums.count);
  assert.equal(ckaBatches, ref.cka.batches);
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const want = ref.sums.attnDistSum[l]![h]!;
      const got = dist[l * H + h]!;
      assert.ok(Math.abs(got - want) <= 1e-3 * Math.abs(want), `${name}: attn_dist_sum[${l}][${h}] = ${got}, reference ${want}`);
      for (let h2 = 0; h2 < H; h2++) {
        if (h2 === h) continue;
        const wk = ref.sums.klSum[l]![h]![h2]!;
        const gk = kl[(l * H + h) * H + h2]!;
        assert.ok(Math.abs(gk - wk) <= 1e-3 * Math.abs(wk), `${name}: kl_sum[${l}][${h}][${h2}] = ${gk}, reference ${wk}`);
      }
    }
    for (let m = 0; m < L; m++) {
      const cka = hs[l * L + m]! / Math.sqrt(hs[l * L + l]! * hs[m * L + m]!);
      const want = ref.cka.matrix[l]![m]!;
      assert.ok(Math.abs(cka - want) <= 2e-3, `${name}: CKA[${l}][${m}] = ${cka}, reference ${want}`);
    }
  }
}

const manifest = JSON.parse(readFileSync(join(FIX, 'manifest.json'), 'utf8')) as { models: ManifestModel[] };

for (const m of manifest.models.filter((x) => x.analyzable && x.ref && x.format !== 'onnx')) {
  test(`buildAnalysisGraph matches the PyTorch float64 reference: ${m.file}`, async () => {
    const ref = JSON.parse(readFileSync(join(FIX, m.ref!), 'utf8')) as FixtureRef;
    const ckpt = await attachSidecarConfig(await openCheckpoint(join(FIX, m.file), m.variant ? { variant: m.variant } : {}));
    const { spec } = recognize(ckpt);
    assert.ok(spec, `${m.file} should be analyzable`);
    const byName = new Map(ckpt.tensors.map((t) => [t.name, t]));
    const g = await buildAnalysisGraph(spec, async (n) => readTensorF32(byName.get(n)!), { file: m.file });
    await runAndCompare(g.model, ref, m.file);
  });
}

test('instrumented torch.onnx export matches the PyTorch float64 reference', async () => {
  const m = manifest.models.find((x) => x.format === 'onnx' && x.ref)!;
  const ref = JSON.parse(readFileSync(join(FIX, m.ref!), 'utf8')) as FixtureRef;
  const inst = await instrumentOnnxFile(join(FIX, m.file));
  assert.deepEqual(inst.softmaxOutputs, ref.onnx!.attentionSoftmaxOutputs);
  assert.deepEqual(inst.blockOutputs, ref.onnx!.blockOutputs);
  assert.equal(inst.originalInput, ref.onnx!.input);
  assert.equal(inst.layers, ref.layers);
  assert.equal(inst.heads, ref.heads);
  assert.deepEqual(inst.patchSize, [8, 8]);
  assert.deepEqual(inst.imageSize, ref.imageSize);
  assert.equal(inst.fixedBatch, null);
  await runAndCompare(inst.model, ref, m.file);
  // The instrumented model is still a well-formed ONNX file for the inspector's reader.
  const again = await readOnnx(new MemoryByteSource('instrumented.onnx', inst.model));
  assert.deepEqual(again.onnx!.inputs.map((v) => v.name), ['pixel_values']);
  assert.deepEqual(again.onnx!.outputs.map((v) => v.name), ['attn_dist_sum', 'kl_sum', 'gram', 'attn_dist_image', 'cross_image', 'special_mass_image']);
  assert.equal(again.onnx!.opCounts['Softmax'], 2);
});

test('readOnnx summarises the torch.onnx export like the fixture manifest', async () => {
  const m = manifest.models.find((x) => x.format === 'onnx') as ManifestModel & { opCounts: Record<string, number>; nodeCount: number; tensorCount: number };
  const src = await FileByteSource.open(join(FIX, m.file));
  try {
    const ck = await readOnnx(src);
    assert.equal(ck.format, 'onnx');
    assert.equal(ck.tensors.length, m.tensorCount);
    assert.deepEqual({ ...ck.onnx!.opCounts }, m.opCounts);
    assert.equal(ck.onnx!.nodeCount, m.nodeCount);
    assert.deepEqual(ck.onnx!.inputs, [{ name: 'input', elemType: 'FLOAT', shape: ['batch', 3, 32, 32] }]);
    assert.deepEqual(ck.onnx!.outputs, [{ name: 'logits', elemType: 'FLOAT', shape: ['batch', 10] }]);
    assert.equal(ck.onnx!.irVersion, 8);
    assert.deepEqual(ck.onnx!.opsets, [{ domain: '', version: 17 }]);
    assert.match(ck.onnx!.producer, /^pytorch 1\.13/);
    // Each initializer's bytes are where the location says: compare with the graph parser's view.
    const pos = ck.tensors.find((t) => t.name === 'pos_embed')!;
    assert.deepEqual(pos.shape, [1, 17, 32]);
    assert.equal(pos.dtype, 'F32');
    assert.equal(pos.location.length, 17 * 32 * 4);
    const data = await readTensorF32(pos);
    assert.ok(data.some((v) => v !== 0) && data.every((v) => Number.isFinite(v)));
  } finally {
    await src.close();
  }
});
