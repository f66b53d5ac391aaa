// The bootstrap intervals in float64 against their reproduction in Python (test/fixtures/metrics/makeMetricRefs.py,
// same generator, seed, draw order and percentile rule): fed the reference's float64 per-image sums, the
// accumulator must give the same intervals to 1e-9; the CKA case checks the minibatch bootstrap the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AttentionAccumulator, attentionBlocks } from '../../src/analysis/accumulator';
import { BOOTSTRAP_SEED, bootstrapMeans, mulberry32, quantileSorted } from '../../src/analysis/bootstrap';
import { CkaAccumulator } from '../../src/analysis/hsic';
import type { MetricBlock } from '../../src/analysis/resultSchema';
import type { ModelRef } from './graph/metricRefs.test';

const FIX = resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const refs = JSON.parse(readFileSync(join(FIX, 'metrics', 'metricRefs.json'), 'utf8')) as {
  models: ModelRef[];
  ckaCase: {
    layers: [number, number];
    n: number;
    grams: number[][][];
    matrixA: number[][];
    matrixB: number[][];
    cross: number[][];
    ci95A: Array<Array<[number, number]>>;
    ci95B: Array<Array<[number, number]>>;
    ci95Cross: Array<Array<[number, number]>>;
  };
};

const TOL = 1e-9;

function near(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= TOL * Math.max(1, Math.abs(want)), `${what}: ${got}, Python ${want}`);
}

/** The accumulator fed float64 per-image sums in the graph's [L,B,H] layout, batch by batch. */
function accumulate(ref: ModelRef, distance: number[][][]): AttentionAccumulator {
  const { layers: L, heads: H, patchTokens: n } = ref;
  const acc = new AttentionAccumulator(L, H, n);
  const images = distance.length;
  for (let start = 0; start < images; start += ref.batchSize) {
    const b = Math.min(ref.batchSize, images - start);
    const dist = new Float64Array(L * b * H);
    const special = new Float64Array(L * b * H);
    const cross = new Float64Array(L * b * H * H);
    for (let l = 0; l < L; l++) {
      for (let i = 0; i < b; i++) {
        for (let h = 0; h < H; h++) {
          dist[(l * b + i) * H + h] = distance[start + i]![l]![h]!;
          special[(l * b + i) * H + h] = ref.perImageSums.specialMass[start + i]![l]![h]!;
          for (let h2 = 0; h2 < H; h2++) cross[((l * b + i) * H + h) * H + h2] = ref.perImageSums.cross[start + i]![l]![h]![h2]!;
        }
      }
    }
    // The batch sums only feed distance and diversity means, not the per-image blocks checked here.
    acc.add(new Float64Array(L * H), new Float64Array(L * H * H), b, { dist, cross, special });
  }
  return acc;
}

function compareCi(got: MetricBlock | undefined, want: ModelRef['attentionDistance'], what: string): void {
  assert.ok(got?.ci95, `${what}: no interval`);
  want.ci95.perLayer.forEach(([lo, hi], l) => {
    near(got.ci95!.perLayer[l]![0], lo, `${what} layer ${l} lo`);
    near(got.ci95!.perLayer[l]![1], hi, `${what} layer ${l} hi`);
  });
  want.ci95.perHead.forEach((row, l) => row.forEach(([lo, hi], h) => {
    near(got.ci95!.perHead[l]![h]![0], lo, `${what} [${l}][${h}] lo`);
    near(got.ci95!.perHead[l]![h]![1], hi, `${what} [${l}][${h}] hi`);
  }));
}

for (const ref of refs.models) {
  test(`float64 bootstrap intervals equal the Python reproduction to 1e-9: ${ref.model}`, () => {
    const acc = accumulate(ref, ref.perImageSums.distance);
    const blocks = attentionBlocks(acc);
    compareCi(blocks.attentionDistance, ref.attentionDistance, 'AD');
    compareCi(blocks.headDiversity, ref.headDiversity, 'HD');
    compareCi(blocks.specialMass, ref.specialMass, 'SM');
    compareCi(blocks.attentionEntropy, ref.attentionEntropy, 'EN');
    ref.specialMass.perHead.forEach((row, l) => row.forEach((v, h) => near(blocks.specialMass!.perHead[l]![h]!, v, `SM [${l}][${h}]`)));
    ref.attentionEntropy.perLayer.forEach((v, l) => near(blocks.attentionEntropy!.perLayer[l]!, v, `EN layer ${l}`));
    const vit = attentionBlocks(accumulate(ref, ref.perImageSums.distanceVit));
    compareCi(vit.attentionDistance, ref.attentionDistanceVit, 'AD vit');
  });
}

test('CKA bootstrap over minibatches equals the Python reproduction to 1e-9 (self and cross-model)', () => {
  const c = refs.ckaCase;
  const acc = new CkaAccumulator(c.layers);
  for (const batch of c.grams) {
    const a = Float64Array.from(batch.slice(0, c.layers[0]).flat());
    const b = Float64Array.from(batch.slice(c.layers[0]).flat());
    assert.ok(acc.addBatch([a, b], c.n));
  }
  const cmp = (got: number[][], want: number[][], what: string): void => want.forEach((row, i) => row.forEach((v, j) => near(got[i]![j]!, v, `${what}[${i}][${j}]`)));
  cmp(acc.matrix(0), c.matrixA, 'A');
  cmp(acc.matrix(1), c.matrixB, 'B');
  cmp(acc.matrix(0, 1), c.cross, 'cross');
  const ci = (got: Array<Array<[number, number]>> | undefined, want: Array<Array<[number, number]>>, what: string): void => {
    assert.ok(got, `${what}: no interval with ${c.grams.length} batches`);
    want.forEach((row, i) => row.forEach(([lo, hi], j) => {
      near(got[i]![j]![0], lo, `${what} lo [${i}][${j}]`);
      near(got[i]![j]![1], hi, `${what} hi [${i}][${j}]`);
    }));
  };
  ci(acc.matrixCi95(0), c.ci95A, 'A');
  ci(acc.matrixCi95(1), c.ci95B, 'B');
  ci(acc.matrixCi95(0, 1), c.ci95Cross, 'cross');
  // Four batches are too few for an interval.
  const few = new CkaAccumulator(c.layers);
  for (const batch of c.grams.slice(0, 4)) few.addBatch([Float64Array.from(batch.slice(0, 3).flat()), Float64Array.from(batch.slice(3).flat())], c.n);
  assert.equal(few.matrixCi95(0), undefined);
});

test('mulberry32 and the percentile rule', () => {
  const next = mulberry32(BOOTSTRAP_SEED);
  const a = [next(), next(), next()];
  const again = mulberry32(BOOTSTRAP_SEED);
  assert.deepEqual([again(), again(), again()], a);
  assert.ok(a.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
  assert.notEqual(mulberry32(BOOTSTRAP_SEED + 1)(), a[0]);
  // numpy "linear": position q·(n−1) between order statistics.
  assert.equal(quantileSorted([0, 10, 20, 30, 40], 0.025), 1);
  assert.equal(quantileSorted([0, 10, 20, 30, 40], 0.975), 39);
  // Identical units give a degenerate interval at their value; the group is the mean of its items.
  const v = new Float64Array(6 * 4);
  for (let u = 0; u < 6; u++) v.set([1, 2, 3, 5], u * 4);
  const r = bootstrapMeans(v, 6, 4, 2);
  assert.deepEqual(r.items, [[1, 1], [2, 2], [3, 3], [5, 5]]);
  assert.deepEqual(r.groups, [[1.5, 1.5], [4, 4]]);
});
