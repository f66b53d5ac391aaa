// Rollout and row extraction on random attention, against a direct full-matrix computation of the
// definitions (R = R_L···R_1 as T×T products), including a model without a class token (mean patch row).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type AttentionLayout, rollout, tokenRows } from '../../src/analysis/attentionMaps';
import { mulberry32 } from '../../src/analysis/probes';

function randomAttention(h: number, t: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const a = new Float32Array(h * t * t);
  for (let r = 0; r < h * t; r++) {
    let z = 0;
    for (let j = 0; j < t; j++) z += a[r * t + j] = Math.exp(3 * rnd());
    for (let j = 0; j < t; j++) a[r * t + j]! /= z;
  }
  return a;
}

function fullRollout(layers: Float32Array[], h: number, t: number): number[][] {
  let joint: number[][] | undefined;
  for (const a of layers) {
    const r = Array.from({ length: t }, (_, i) => {
      const row = Array.from({ length: t }, (_, j) => {
        let m = 0;
        for (let k = 0; k < h; k++) m += a[(k * t + i) * t + j]!;
        return 0.5 * (m / h) + (i === j ? 0.5 : 0);
      });
      const z = row.reduce((x, y) => x + y, 0);
      return row.map((v) => v / z);
    });
    joint = joint === undefined ? r : r.map((ri) => Array.from({ length: t }, (_, j) => ri.reduce((acc, v, k) => acc + v * joint![k]![j]!, 0)));
  }
  return joint!;
}

for (const s of [0, 1, 2]) {
  test(`rollout equals the full matrix product (${s} special tokens)`, () => {
    const h = 3;
    const grid: [number, number] = [3, 4];
    const t = s + 12;
    const lay: AttentionLayout = { heads: h, tokens: t, specialTokens: s, grid, patchSize: [8, 8], hasCls: s > 0 };
    const layers = [randomAttention(h, t, 1 + s), randomAttention(h, t, 7 + s), randomAttention(h, t, 13 + s)];
    const got = rollout(layers, lay);
    const joint = fullRollout(layers, h, t);
    const want = s > 0 ? joint[0]!.slice(s) : Array.from({ length: 12 }, (_, j) => joint.slice(s).reduce((acc, row) => acc + row[s + j]!, 0) / 12);
    assert.equal(got.length, 12);
    want.forEach((v, j) => assert.ok(Math.abs(got[j]! - v) < 1e-12, `key ${j}: ${got[j]} vs ${v}`));
  });
}

test('tokenRows: the query row over patch keys, not renormalised, and its special mass', () => {
  const h = 2;
  const t = 2 + 4;
  const a = randomAttention(h, t, 3);
  const lay: AttentionLayout = { heads: h, tokens: t, specialTokens: 2, grid: [2, 2], patchSize: [4, 4], hasCls: true };
  const { rows, specialMass } = tokenRows(a, lay, 3);
  for (let k = 0; k < h; k++) {
    for (let j = 0; j < 4; j++) assert.equal(rows[k * 4 + j], a[(k * t + 3) * t + 2 + j]);
    assert.ok(Math.abs(specialMass[k]! - (a[(k * t + 3) * t]! + a[(k * t + 3) * t + 1]!)) < 1e-7);
  }
  assert.throws(() => tokenRows(a.subarray(1), lay, 0), /attention output has/);
});
