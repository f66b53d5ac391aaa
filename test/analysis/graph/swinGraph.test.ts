// The Swin graph against the float64 PyTorch references of test/fixtures/swin/makeSwin.py: every layout
// is read, recognized, rebuilt as ONNX and run on the probe images; sums, heads and CKA must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openCheckpoint } from '../../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../../src/formats/tensorData';
import { recognize } from '../../../src/model/recognize';
import { attachSidecarConfig } from '../../../src/model/sidecarConfig';
import type { SwinSpec } from '../../../src/model/swinTypes';
import type { Checkpoint } from '../../../src/formats/checkpoint';
import { buildSwinAnalysisGraph, buildSwinForwardGraph, swinUniformDistances } from '../../../src/analysis/graph/swinGraph';
import { OnnxDataType, OnnxGraphBuilder } from '../../../src/analysis/graph/onnxBuilder';
import { addWindowReductions } from '../../../src/analysis/graph/swinReductions';
import { allowedKeys, blockLayout, windowDistances } from '../../../src/model/swinGeometry';
import { batchTensor, folderProbeSet } from '../../../src/analysis/probes';

const FIX = resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures');
const SWIN = join(FIX, 'swin');

interface SwinRef {
  layers: number;
  headsPerLayer: number[];
  gridOfLayer: number[];
  shiftOfLayer: number[];
  uniformDistance: number[];
  attentionDistance: { perHead: number[][] };
  unmaskedAttentionDistance?: { perHead: number[][] };
  cka: { matrix: number[][]; batches: number };
  sums: { attnDistSum: number[][]; klSum: number[][][]; count: number[] };
}

interface SwinManifest {
  probeDir: string;
  batchSize: number;
  models: Array<{ file: string; ref: string; family: string; variant?: string; layout: string }>;
}

const manifest = JSON.parse(readFileSync(join(SWIN, 'manifest.json'), 'utf8')) as SwinManifest;

export async function openSwin(file: string, variant?: string): Promise<{ spec: SwinSpec; weights: (n: string) => Promise<Float32Array>; ckpt: Checkpoint }> {
  const ckpt = await attachSidecarConfig(await openCheckpoint(join(SWIN, file), variant ? { variant } : {}));
  const rec = recognize(ckpt);
  assert.equal(rec.summary.notAnalyzable, undefined, `${file}: ${rec.summary.notAnalyzable}`);
  assert.ok(rec.swinSpec, `${file}: recognized as Swin`);
  const byName = new Map(ckpt.tensors.map((t) => [t.name, t]));
  const weights = async (n: string): Promise<Float32Array> => {
    const t = byName.get(n);
    assert.ok(t, `tensor ${n}`);
    return readTensorF32(t);
  };
  return { spec: rec.swinSpec, weights, ckpt };
}

function hsic(K: Float64Array, L: Float64Array, n: number): number {
  const k = K.slice();
  const l = L.slice();
  for (let i = 0; i < n; i++) k[i * n + i] = l[i * n + i] = 0;
  let tr = 0;
  let sk = 0;
  let sl = 0;
  let kl1 = 0;
  for (let i = 0; i < n; i++) {
    let rk = 0;
    let rl = 0;
    for (let j = 0; j < n; j++) {
      tr += k[i * n + j]! * l[j * n + i]!;
      sk += k[i * n + j]!;
      sl += l[i * n + j]!;
      rk += k[i * n + j]!;
      rl += l[j * n + i]!;
    }
    kl1 += rk * rl;
  }
  return (tr + (sk * sl) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * kl1) / (n * (n - 3));
}

for (const m of manifest.models) {
  test(`Swin graph matches the PyTorch float64 reference: ${m.file} (${m.layout})`, async () => {
    const ref = JSON.parse(readFileSync(join(SWIN, m.ref), 'utf8')) as SwinRef;
    const { spec, weights } = await openSwin(m.file, m.variant);
    assert.equal(spec.family, m.family);
    const graph = await buildSwinAnalysisGraph(spec, weights, { file: m.file });
    assert.deepEqual(graph.headsPerLayer, ref.headsPerLayer);
    assert.deepEqual(graph.layouts.map((x) => x.shift), ref.shiftOfLayer);
    swinUniformDistances(spec).forEach((u, l) => assert.ok(Math.abs(u - ref.uniformDistance[l]!) < 1e-9, `uniform ${l}`));
    const session = await ort.InferenceSession.create(graph.model, { graphOptimizationLevel: 'all' });
    const L = ref.layers;
    const H = Math.max(...ref.headsPerLayer);
    const dist = new Float64Array(L * H);
    const kl = new Float64Array(L * H * H);
    const hs = new Float64Array(L * L);
    let batches = 0;
    for (const batch of folderProbeSet(join(FIX, manifest.probeDir)).batches(manifest.batchSize, (n, p) => assert.fail(`${n}: ${p}`))) {
      const b = batch.length;
      const out = await session.run({ pixel_values: new ort.Tensor('float32', batchTensor(batch, spec.imageSize, spec.mean, spec.std), [b, 3, ...spec.imageSize]) });
      assert.deepEqual(out['attn_dist_sum']!.dims, [L, H]);
      (out['attn_dist_sum']!.data as Float32Array).forEach((v, i) => (dist[i] = dist[i]! + v));
      (out['kl_sum']!.data as Float32Array).forEach((v, i) => (kl[i] = kl[i]! + v));
      if (b >= 4) {
        const gd = out['gram']!.data as Float32Array;
        const gram = (l: number): Float64Array => Float64Array.from(gd.subarray(l * b * b, (l + 1) * b * b));
        for (let p = 0; p < L; p++) for (let q = 0; q < L; q++) hs[p * L + q] = hs[p * L + q]! + hsic(gram(p), gram(q), b);
        batches++;
      }
    }
    assert.equal(batches, ref.cka.batches);
    for (let l = 0; l < L; l++) {
      const h = ref.headsPerLayer[l]!;
      for (let a = 0; a < H; a++) {
        if (a >= h) {
          assert.equal(dist[l * H + a], 0, `padding of layer ${l}`);
          continue;
        }
        const want = ref.sums.attnDistSum[l]![a]!;
        assert.ok(Math.abs(dist[l * H + a]! - want) <= 1e-3 * Math.abs(want), `${m.file}: dist[${l}][${a}] ${dist[l * H + a]} vs ${want}`);
        for (let c = 0; c < h; c++) {
          if (c === a) continue;
          const wk = ref.sums.klSum[l]![a]![c]!;
          const gk = kl[(l * H + a) * H + c]!;
          assert.ok(Math.abs(gk - wk) <= 1e-3 * Math.abs(wk), `${m.file}: kl[${l}][${a}][${c}] ${gk} vs ${wk}`);
        }
      }
      for (let q = 0; q < L; q++) {
        const cka = hs[l * L + q]! / Math.sqrt(hs[l * L + l]! * hs[q * L + q]!);
        assert.ok(Math.abs(cka - ref.cka.matrix[l]![q]!) <= 2e-3, `${m.file}: CKA[${l}][${q}] ${cka} vs ${ref.cka.matrix[l]![q]}`);
      }
    }
    await session.release();
  });
}

test('shifted windows: masked pairs get no probability and never enter the distance', async () => {
  const { spec, weights } = await openSwin('swin_timm_w4.safetensors');
  const fwd = await buildSwinForwardGraph(spec, weights);
  const session = await ort.InferenceSession.create(fwd.model);
  const probes = [...folderProbeSet(join(FIX, manifest.probeDir)).batches(4, () => undefined)][0]!;
  const out = await session.run({ pixel_values: new ort.Tensor('float32', batchTensor(probes, spec.imageSize, spec.mean, spec.std), [4, 3, ...spec.imageSize]) });
  let maskedPairs = 0;
  fwd.layouts.forEach((lay, l) => {
    if (lay.shift === 0) return;
    const allowed = allowedKeys(lay);
    const p = out[fwd.probNames[l]!]!.data as Float32Array;
    const per = allowed.length;
    const heads = p.length / (4 * per);
    for (let b = 0; b < 4; b++) {
      for (let k = 0; k < per; k++) {
        if (allowed[k]) continue;
        const win = Math.floor(k / (lay.window ** 4));
        const e = k % (lay.window ** 4);
        for (let h = 0; h < heads; h++) {
          const v = p[((b * (per / lay.window ** 4) + win) * heads + h) * lay.window ** 4 + e]!;
          assert.ok(v < 1e-30, `layer ${l}: masked pair has probability ${v}`);
          maskedPairs++;
        }
      }
    }
  });
  assert.ok(maskedPairs > 1000, `the fixture has masked pairs (${maskedPairs})`);
  await session.release();

  // The reduction alone, fed uniform rows over the whole window (masked keys included): the result must
  // be the uniform reference over the allowed keys, which differs from the whole-window mean.
  const lay = blockLayout(16, 4, true, 2);
  const g = new OnnxGraphBuilder('t');
  const nwin = 16;
  const heads = 2;
  const probs = g.input('probs', OnnxDataType.FLOAT, [1, nwin, heads, 16, 16]);
  const r = addWindowReductions(g, probs, lay, heads, 3, allowedKeys(lay), windowDistances(lay), 't');
  g.node('Identity', [r.dist], ['dist']);
  g.output('dist', OnnxDataType.FLOAT, [1, 3]);
  const s2 = await ort.InferenceSession.create(g.toModel({ opset: 17 }));
  const res = await s2.run({ probs: new ort.Tensor('float32', new Float32Array(nwin * heads * 256).fill(1 / 16), [1, nwin, heads, 16, 16]) });
  const d = res['dist']!.data as Float32Array;
  const ref = JSON.parse(readFileSync(join(SWIN, 'swin_v1.ref.json'), 'utf8')) as SwinRef;
  const uniformAllowed = ref.uniformDistance[1]!; // layer 1 is this layout (grid 16, window 4, shift 2)
  const whole = windowDistances(lay).reduce((a, b) => a + b, 0) / (nwin * 256);
  assert.ok(Math.abs(whole - uniformAllowed) > 1, `masked pairs matter here (${whole} vs ${uniformAllowed})`);
  for (let h = 0; h < heads; h++) assert.ok(Math.abs(d[h]! / 256 - uniformAllowed) < 1e-4, `head ${h}: ${d[h]! / 256} vs ${uniformAllowed}`);
  assert.equal(d[2], 0, 'padded head');
  await s2.release();
});

test('the shift mask changes the reference where the product must not be fooled', () => {
  const ref = JSON.parse(readFileSync(join(SWIN, 'swin_v1.ref.json'), 'utf8')) as SwinRef;
  const un = ref.unmaskedAttentionDistance!.perHead;
  // Shifted stage-0 and stage-1 blocks: an unmasked graph would be off by far more than the 1e-3 tolerance.
  for (const l of [1, 3]) {
    const a = ref.attentionDistance.perHead[l]!;
    assert.ok(a.every((v, h) => Math.abs(un[l]![h]! - v) > 0.05 * v), `layer ${l}`);
  }
});
