import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CkaAccumulator, hsic1 } from '../../src/analysis/hsic';
import { mulberry32 } from '../../src/analysis/probes';

// Independent, literal transcription of the DESIGN.md formula with explicit matrices.
function naiveHsic(k: number[][], l: number[][]): number {
  const n = k.length;
  const kt = k.map((r, i) => r.map((v, j) => (i === j ? 0 : v)));
  const lt = l.map((r, i) => r.map((v, j) => (i === j ? 0 : v)));
  const kl = kt.map((r) => lt[0]!.map((_, j) => r.reduce((s, v, m) => s + v * lt[m]![j]!, 0)));
  const tr = kl.reduce((s, r, i) => s + r[i]!, 0);
  const sum = (m: number[][]): number => m.reduce((s, r) => s + r.reduce((a, b) => a + b, 0), 0);
  return (tr + (sum(kt) * sum(lt)) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * sum(kl)) / (n * (n - 3));
}

function rng(seed: number): () => number {
  const r = mulberry32(seed);
  return () => r() - 0.5;
}

function features(n: number, d: number, r: () => number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, r));
}
function gram(x: number[][]): number[][] {
  return x.map((a) => x.map((b) => a.reduce((s, v, i) => s + v * b[i]!, 0)));
}

test('hsic1 equals the literal formula', () => {
  const r = rng(1);
  for (const n of [4, 5, 9]) {
    const k = gram(features(n, 7, r));
    const l = gram(features(n, 3, r));
    const got = hsic1(k.flat(), l.flat(), n);
    const want = naiveHsic(k, l);
    assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${got} vs ${want}`);
  }
  assert.throws(() => hsic1([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9], 3), /n >= 4/);
});

test('CKA is 1 for scaled/rotated copies, symmetric, and < 1 for unrelated features', () => {
  const r = rng(7);
  const acc = new CkaAccumulator([3]);
  for (let b = 0; b < 3; b++) {
    const x = features(6, 5, r);
    const scaled = x.map((row) => row.map((v) => 3 * v));
    // A rotation in the plane of the first two coordinates keeps X Xᵀ.
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const rotated = x.map((row) => [c * row[0]! - s * row[1]!, s * row[0]! + c * row[1]!, ...row.slice(2)]);
    const other = features(6, 5, r);
    const stack = [gram(x), gram(scaled), gram(other)].map((g) => g.flat()).flat();
    assert.equal(acc.addBatch([stack], 6), true);
    assert.ok(Math.abs(hsic1(gram(x).flat(), gram(rotated).flat(), 6) - hsic1(gram(x).flat(), gram(x).flat(), 6)) < 1e-12);
  }
  assert.equal(acc.addBatch([new Float64Array(27)], 3), false, 'n=3 is left out');
  assert.equal(acc.batches, 3);
  const m = acc.matrix();
  assert.ok(Math.abs(m[0]![0]! - 1) < 1e-12);
  assert.ok(Math.abs(m[0]![1]! - 1) < 1e-12);
  assert.equal(m[0]![2], m[2]![0]);
  assert.ok(m[0]![2]! < 0.9);
});

test('cross-model CKA equals the self table of the concatenated layers', () => {
  const r = rng(3);
  const accAB = new CkaAccumulator([2, 1]);
  const accAll = new CkaAccumulator([3]);
  for (let b = 0; b < 2; b++) {
    const g = [gram(features(5, 4, r)), gram(features(5, 4, r)), gram(features(5, 4, r))].map((x) => x.flat());
    accAB.addBatch([[...g[0]!, ...g[1]!], g[2]!], 5);
    accAll.addBatch([[...g[0]!, ...g[1]!, ...g[2]!]], 5);
  }
  const cross = accAB.matrix(0, 1);
  const all = accAll.matrix();
  assert.equal(cross.length, 2);
  assert.equal(cross[0]!.length, 1);
  assert.ok(Math.abs(cross[1]![0]! - all[1]![2]!) < 1e-12);
  assert.ok(Math.abs(accAB.matrix(1)[0]![0]! - 1) < 1e-12);
});
