// The in-graph reductions (attn_dist_sum, kl_sum, gram) against the plain float64 JS metrics applied to the
// raw attention maps and block outputs of the same forward pass (buildForwardOnlyGraph), through the whole
// job loop (batching, float64 accumulation, CKA minibatches, a dropped final batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { randomVit } from '../../bench/vitB';
import { CkaAccumulator } from '../../src/analysis/hsic';
import { attentionDistanceSum, headDiversityFromKlSum, klSum } from '../../src/analysis/metrics';
import { buildForwardOnlyGraph } from '../../src/analysis/graph/vitGraph';
import { IMAGENET_MEAN, IMAGENET_STD, batchTensor, syntheticProbeSet } from '../../src/analysis/probes';
import { runAnalysis } from '../../src/worker/analysisJob';
import { prepareFromSpec } from '../../src/worker/preparedModel';

test('job loop results equal the float64 JS metrics on the raw attention maps', async () => {
  // Large weights make attention far from uniform, so KL and distances are discriminative.
  const vit = randomVit({ layers: 2, dim: 32, heads: 4, patch: 8, image: 32, std: 0.35, seed: 5 });
  const count = 11;
  const batch = 4;
  const res = await runAnalysis(
    { file: 'random', images: 'synthetic', limit: count, batchSize: batch, device: 'cpu' },
    { signal: new AbortController().signal, progress: () => undefined, log: () => undefined },
    () => prepareFromSpec('random', vit.summary, vit.spec, vit.weights),
  );

  const fwd = await buildForwardOnlyGraph(vit.spec, vit.weights);
  const session = await ort.InferenceSession.create(fwd.model);
  const L = 2, H = 4, T = 17, N = 16, D = 32;
  const dims = { heads: H, tokens: T, special: 1, gridH: 4, gridW: 4, patchH: 8, patchW: 8 };
  const dist = new Float64Array(L * H);
  const kl = new Float64Array(L * H * H);
  const cka = new CkaAccumulator([L]);
  for (const images of syntheticProbeSet(count, [32, 32]).batches(batch, () => undefined)) {
    const n = images.length;
    const out = await session.run({ pixel_values: new ort.Tensor('float32', batchTensor(images, [32, 32], IMAGENET_MEAN, IMAGENET_STD), [n, 3, 32, 32]) });
    const grams: number[] = [];
    for (let l = 0; l < L; l++) {
      const a = out[fwd.probNames[l]!]!.data as Float32Array;
      const d = attentionDistanceSum(a, { ...dims, batch: n });
      const k = klSum(a, { ...dims, batch: n });
      d.forEach((v, i) => (dist[l * H + i] = dist[l * H + i]! + v));
      k.forEach((v, i) => (kl[l * H * H + i] = kl[l * H * H + i]! + v));
      const x = out[fwd.blockNames[l]!]!.data as Float32Array;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let c = 0; c < T * D; c++) s += x[i * T * D + c]! * x[j * T * D + c]!;
          grams.push(s);
        }
      }
    }
    cka.addBatch([grams], n);
  }
  const total = count * N;
  for (let l = 0; l < L; l++) {
    const hd = headDiversityFromKlSum(kl.subarray(l * H * H, (l + 1) * H * H), H, total);
    for (let h = 0; h < H; h++) {
      const adWant = dist[l * H + h]! / total;
      const adGot = res.attentionDistance.perHead[l]![h]!;
      assert.ok(Math.abs(adGot - adWant) <= 1e-4 * adWant, `AD[${l}][${h}] ${adGot} vs ${adWant}`);
      const hdGot = res.headDiversity.perHead[l]![h]!;
      assert.ok(Math.abs(hdGot - hd[h]!) <= 1e-3 * hd[h]!, `HD[${l}][${h}] ${hdGot} vs ${hd[h]}`);
      assert.ok(hd[h]! > 0.01, 'heads differ');
    }
  }
  assert.equal(res.cka.batches, 2, 'the final batch of 3 is left out');
  const want = cka.matrix();
  want.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(res.cka.matrix[i]![j]! - v) < 2e-3, `CKA[${i}][${j}] ${res.cka.matrix[i]![j]} vs ${v}`)));
  assert.ok(res.cka.matrix[0]![1]! < 0.999, 'layers differ');
  await session.release();
});
