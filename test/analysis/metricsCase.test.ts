// The JS metric math against the PyTorch float64 values of test/fixtures/metrics/case1.json (rectangular
// grid and patches, a special token, an attention entry below ε so that log⁺ matters, n=6 Gram matrices).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attentionDistance, attentionDistanceSum, headDiversity, klSum, type AttentionDims } from '../../src/analysis/metrics';
import { hsic1 } from '../../src/analysis/hsic';

const FIX = join(__dirname, '..', '..', '..', 'test', 'fixtures');
const c = JSON.parse(readFileSync(join(FIX, 'metrics', 'case1.json'), 'utf8')) as {
  attention: { shape: number[]; specialTokens: number; grid: [number, number]; patchSize: [number, number]; A: number[];
    expected: { attnDistSum: number[]; klSum: number[][]; count: number; attentionDistancePerHead: number[]; headDiversityPerHead: number[] } };
  hsic: { n: number; X: number[]; Xshape: [number, number]; Y: number[]; Yshape: [number, number]; expected: { hsicXY: number; hsicXX: number; hsicYY: number; cka: number } };
};

function near(a: number, e: number, what: string): void {
  assert.ok(Math.abs(a - e) <= 1e-12 * Math.max(1, Math.abs(e)), `${what}: ${a} vs ${e}`);
}

test('attention distance and head diversity match PyTorch float64 (case1)', () => {
  const a = c.attention;
  const [B, H, T] = a.shape as [number, number, number];
  const dims: AttentionDims = { batch: B, heads: H, tokens: T, special: a.specialTokens, gridH: a.grid[0], gridW: a.grid[1], patchH: a.patchSize[0], patchW: a.patchSize[1] };
  const ds = attentionDistanceSum(a.A, dims);
  a.expected.attnDistSum.forEach((v, h) => near(ds[h]!, v, `distSum[${h}]`));
  const kl = klSum(a.A, dims);
  a.expected.klSum.forEach((row, h) => row.forEach((v, g) => near(kl[h * H + g]!, v, `klSum[${h}][${g}]`)));
  const ad = attentionDistance(a.A, dims);
  a.expected.attentionDistancePerHead.forEach((v, h) => near(ad[h]!, v, `AD[${h}]`));
  const hd = headDiversity(a.A, dims);
  a.expected.headDiversityPerHead.forEach((v, h) => near(hd[h]!, v, `HD[${h}]`));
});

test('unbiased HSIC and CKA match PyTorch float64 (case1)', () => {
  const h = c.hsic;
  const gram = (x: number[], p: number): Float64Array => {
    const k = new Float64Array(h.n * h.n);
    for (let i = 0; i < h.n; i++) for (let j = 0; j < h.n; j++) {
      let s = 0;
      for (let f = 0; f < p; f++) s += x[i * p + f]! * x[j * p + f]!;
      k[i * h.n + j] = s;
    }
    return k;
  };
  const K = gram(h.X, h.Xshape[1]);
  const L = gram(h.Y, h.Yshape[1]);
  near(hsic1(K, L, h.n), h.expected.hsicXY, 'hsic(K,L)');
  near(hsic1(K, K, h.n), h.expected.hsicXX, 'hsic(K,K)');
  near(hsic1(L, L, h.n), h.expected.hsicYY, 'hsic(L,L)');
  near(hsic1(K, L, h.n) / Math.sqrt(hsic1(K, K, h.n) * hsic1(L, L, h.n)), h.expected.cka, 'cka');
});
