// Instrumentation of two more torch.onnx export styles (test/fixtures/onnx/makeOnnxFixtures.py):
// HF-style separate q/k/v with a decomposed opset-14 LayerNorm and a static batch, and BEiT-style
// relative position bias with layer scale and a distillation token. Numbers vs PyTorch float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { instrumentOnnxFile } from '../../../src/analysis/graph/instrument';
import { hsic1 } from '../../../src/analysis/hsic';

const DIR = resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'onnx');

interface Ref {
  inputShape: number[];
  batchSize: number;
  layers: number;
  heads: number;
  fixedBatch: number | null;
  attnDistSum: number[][];
  klSum: number[][][];
  cka: number[][];
}

for (const name of ['hf_style_opset14', 'beit_style_opset17']) {
  test(`instrumented ${name} matches PyTorch float64`, async () => {
    const ref = JSON.parse(readFileSync(join(DIR, `${name}.ref.json`), 'utf8')) as Ref;
    const inst = await instrumentOnnxFile(join(DIR, `${name}.onnx`));
    assert.equal(inst.layers, ref.layers);
    assert.equal(inst.heads, ref.heads); // traced from the exported Reshape constants
    assert.equal(inst.fixedBatch, ref.fixedBatch);
    assert.deepEqual(inst.patchSize, [8, 8]);
    assert.equal(inst.patchTokens, 16);
    const raw = readFileSync(join(DIR, `${name}.input.bin`));
    const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const s = await ort.InferenceSession.create(inst.model, { graphOptimizationLevel: 'all' });
    const L = ref.layers;
    const H = ref.heads;
    const per = 3 * 32 * 32;
    const dist = new Float64Array(L * H);
    const kl = new Float64Array(L * H * H);
    const hs = new Float64Array(L * L);
    for (let b0 = 0; b0 < ref.inputShape[0]!; b0 += ref.batchSize) {
      const n = ref.batchSize;
      const o = await s.run({ pixel_values: new ort.Tensor('float32', all.slice(b0 * per, (b0 + n) * per), [n, 3, 32, 32]) });
      assert.deepEqual(o['attn_dist_sum']!.dims, [L, H]);
      (o['attn_dist_sum']!.data as Float32Array).forEach((v, i) => (dist[i] = dist[i]! + v));
      (o['kl_sum']!.data as Float32Array).forEach((v, i) => (kl[i] = kl[i]! + v));
      const g = o['gram']!.data as Float32Array;
      for (let p = 0; p < L; p++) for (let q = 0; q < L; q++) hs[p * L + q] = hs[p * L + q]! + hsic1(g.subarray(p * n * n, (p + 1) * n * n), g.subarray(q * n * n, (q + 1) * n * n), n);
    }
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        const want = ref.attnDistSum[l]![h]!;
        assert.ok(Math.abs(dist[l * H + h]! - want) <= 1e-3 * Math.abs(want), `dist[${l}][${h}] ${dist[l * H + h]} vs ${want}`);
        for (let h2 = 0; h2 < H; h2++) {
          if (h2 === h) continue;
          const wk = ref.klSum[l]![h]![h2]!;
          const gk = kl[(l * H + h) * H + h2]!;
          assert.ok(Math.abs(gk - wk) <= 1e-3 * Math.abs(wk), `kl[${l}][${h}][${h2}] ${gk} vs ${wk}`);
        }
      }
      for (let m = 0; m < L; m++) {
        const cka = hs[l * L + m]! / Math.sqrt(hs[l * L + l]! * hs[m * L + m]!);
        assert.ok(Math.abs(cka - ref.cka[l]![m]!) <= 2e-3, `cka[${l}][${m}] ${cka} vs ${ref.cka[l]![m]}`);
      }
    }
  });
}
