import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attentionDistance, attentionDistanceSum, headDiversity, headDiversityFromKlSum, klSum, patchAttention, patchDistanceMatrix,
  type AttentionDims,
} from '../../src/analysis/metrics';

const close = (a: number, b: number, rel: number, what: string): void => {
  assert.ok(Math.abs(a - b) <= rel * Math.max(1e-12, Math.abs(b)), `${what}: ${a} vs ${b}`);
};

test('patch distances on a 2x3 grid with 14x16 patches', () => {
  const d = patchDistanceMatrix(2, 3, 14, 16);
  assert.equal(d.length, 36);
  assert.equal(d[0], 0);
  assert.equal(d[1], 16); // same row, next column: Pw
  assert.equal(d[3], 14); // next row, same column: Ph
  close(d[5] as number, Math.hypot(14, 32), 1e-15, 'corner to corner');
  close(d[5 * 6 + 0] as number, d[0 * 6 + 5] as number, 0, 'symmetric');
});

test('uniform attention over a 2x2 grid: mean distance is the mean pairwise distance; KL is zero', () => {
  const dims: AttentionDims = { batch: 1, heads: 2, tokens: 5, special: 1, gridH: 2, gridW: 2, patchH: 16, patchW: 16 };
  const a = new Float64Array(1 * 2 * 5 * 5).fill(0.2);
  const ad = attentionDistance(a, dims);
  const expected = (0 + 16 + 16 + 16 * Math.SQRT2) / 4;
  close(ad[0] as number, expected, 1e-12, 'AD head 0');
  close(ad[1] as number, expected, 1e-12, 'AD head 1');
  const hd = headDiversity(a, dims);
  assert.equal(hd[0], 0);
  assert.equal(hd[1], 0);
});

test('renormalisation drops special tokens; one-hot heads give log(1/eps) KL', () => {
  const dims: AttentionDims = { batch: 1, heads: 2, tokens: 3, special: 1, gridH: 1, gridW: 2, patchH: 8, patchW: 8 };
  const a = new Float64Array(2 * 3 * 3);
  // head 0: every query attends half CLS, half patch 0; head 1: half CLS, half patch 1.
  for (let i = 0; i < 3; i++) {
    a[0 * 9 + i * 3 + 0] = 0.5; a[0 * 9 + i * 3 + 1] = 0.5;
    a[1 * 9 + i * 3 + 0] = 0.5; a[1 * 9 + i * 3 + 2] = 0.5;
  }
  const p = patchAttention(a, dims);
  assert.deepEqual(Array.from(p.slice(0, 4)), [1, 0, 1, 0]);
  const ad = attentionDistance(a, dims);
  close(ad[0] as number, 4, 1e-12, 'head 0: query 0 at 0 px, query 1 at 8 px');
  const kl = klSum(a, dims);
  close(kl[1] as number, 2 * Math.log(1 / 1e-8), 1e-12, 'KL(0||1) summed over two queries');
  assert.equal(kl[0], 0);
  const hd = headDiversityFromKlSum(kl, 2, 2);
  close(hd[0] as number, Math.log(1e8), 1e-12, 'HD head 0');
  close(attentionDistanceSum(a, dims)[0] as number, 8, 1e-12, 'sum');
});

test('dimension mismatches are rejected', () => {
  const dims: AttentionDims = { batch: 1, heads: 1, tokens: 5, special: 1, gridH: 2, gridW: 3, patchH: 16, patchW: 16 };
  assert.throws(() => attentionDistance(new Float64Array(25), dims), /tokens/);
});

// PyTorch float64 references (test/fixtures/metrics/*.json) are checked by metricsCase.test.ts.
