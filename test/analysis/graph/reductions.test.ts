// addAttentionReductions on a bare attention tensor with known answers: with 0 and 2 special tokens (the
// empty key slice of S = 0 must give a special mass of 0, not an error), both distance conventions, per
// image and summed over the batch, against float64 sums written out from DESIGN.md items 2, 6-8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OnnxDataType, OnnxGraphBuilder } from '../../../src/analysis/graph/onnxBuilder';
import { addAttentionReductions, patchDistanceMatrix } from '../../../src/analysis/graph/reductions';
import { KL_EPS, patchDistanceMatrix as distance64 } from '../../../src/analysis/metrics';
import type { DistanceConvention } from '../../../src/analysis/resultSchema';
import { rng } from './naiveVit';

const B = 3;
const H = 2;
const GRID: [number, number] = [2, 3];
const PATCH: [number, number] = [4, 5];
const N = GRID[0] * GRID[1];

/** Softmax rows of random logits, [B,H,T,T] row-major. */
function attention(t: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(B * H * t * t);
  for (let row = 0; row < B * H * t; row++) {
    const logits = Array.from({ length: t }, () => (r() * 2 - 1) * 3);
    const m = Math.max(...logits);
    const e = logits.map((x) => Math.exp(x - m));
    const s = e.reduce((x, y) => x + y, 0);
    e.forEach((v, j) => (a[row * t + j] = v / s));
  }
  return a;
}

for (const special of [0, 2]) {
  for (const convention of ['renormalised', 'vit'] as DistanceConvention[]) {
    test(`per-image reductions with ${special} special token(s), ${convention} distance`, async () => {
      const t = N + special;
      const g = new OnnxGraphBuilder();
      const probs = g.input('probs', OnnxDataType.FLOAT, [B, H, t, t]);
      const dv = g.f32('d', [N * N], patchDistanceMatrix(GRID, PATCH));
      const r = addAttentionReductions(g, probs, dv, N, false, 17, convention);
      const outs = { dist: r.dist, distImage: r.distImage, crossImage: r.crossImage, specialImage: r.specialImage };
      g.output(outs.dist, OnnxDataType.FLOAT, [1, H]);
      g.output(outs.distImage, OnnxDataType.FLOAT, [B, H]);
      g.output(outs.crossImage, OnnxDataType.FLOAT, [B, H, H]);
      g.output(outs.specialImage, OnnxDataType.FLOAT, [B, H]);
      const session = await ort.InferenceSession.create(g.toModel({ opset: 17, irVersion: 8, producer: 'test' }));
      const a = attention(t, 7 + special);
      const out = await session.run({ probs: new ort.Tensor('float32', a, [B, H, t, t]) });
      const d = distance64(GRID[0], GRID[1], PATCH[0], PATCH[1]);
      const at = (b: number, h: number, i: number, j: number): number => a[((b * H + h) * t + i) * t + j]!;
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          let dist = 0;
          let sm = 0;
          const cross = new Float64Array(H);
          for (let i = 0; i < N; i++) {
            let rowSum = 0;
            for (let j = 0; j < N; j++) rowSum += at(b, h, special + i, special + j);
            for (let j = 0; j < special; j++) sm += at(b, h, special + i, j);
            for (let j = 0; j < N; j++) {
              const raw = at(b, h, special + i, special + j);
              const p = raw / rowSum;
              dist += (convention === 'vit' ? raw : p) * d[i * N + j]!;
              for (let h2 = 0; h2 < H; h2++) {
                let rs2 = 0;
                for (let k = 0; k < N; k++) rs2 += at(b, h2, special + i, special + k);
                cross[h2] = cross[h2]! + p * Math.log(Math.max(at(b, h2, special + i, special + j) / rs2, KL_EPS));
              }
            }
          }
          const near = (got: number, want: number, what: string): void => assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
          near((out[outs.distImage]!.data as Float32Array)[b * H + h]!, dist, `distance b${b} h${h}`);
          near((out[outs.specialImage]!.data as Float32Array)[b * H + h]!, sm, `special mass b${b} h${h}`);
          for (let h2 = 0; h2 < H; h2++) near((out[outs.crossImage]!.data as Float32Array)[(b * H + h) * H + h2]!, cross[h2]!, `cross b${b} ${h}/${h2}`);
          if (special === 0) assert.equal((out[outs.specialImage]!.data as Float32Array)[b * H + h], 0);
        }
      }
      // The batch sum is the sum of the per-image values.
      const di = out[outs.distImage]!.data as Float32Array;
      const ds = out[outs.dist]!.data as Float32Array;
      for (let h = 0; h < H; h++) assert.ok(Math.abs(ds[h]! - (di[h]! + di[H + h]! + di[2 * H + h]!)) <= 1e-4 * ds[h]!);
      await session.release();
    });
  }
}
