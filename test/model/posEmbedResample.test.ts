// The position-embedding resampler against PyTorch: F.interpolate(bicubic, align_corners=False, with and
// without antialiasing) in float64 on grids shrunk and enlarged, square and not, with 0–2 prefix rows
// (test/fixtures/zoo/makeZoo.py → posembed_resample.ref.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bicubicAxis, resampleGrid, resamplePosEmbed } from '../../src/model/posEmbedResample';

const root = resolve(__dirname, '..', '..', '..');

interface Case { fromGrid: [number, number]; toGrid: [number, number]; dim: number; prefixTokens: number; antialias: boolean; input: number[]; output: number[] }
const ref = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'zoo', 'posembed_resample.ref.json'), 'utf8')) as { cases: Case[] };

const label = (c: Case): string => `${c.fromGrid.join('×')} → ${c.toGrid.join('×')}, dim ${c.dim}, prefix ${c.prefixTokens}, antialias ${c.antialias}`;

test('the reference covers shrinking and enlarging, non-square grids and both kernels', () => {
  const shrink = ref.cases.some((c) => c.toGrid[0] < c.fromGrid[0]);
  const grow = ref.cases.some((c) => c.toGrid[0] > c.fromGrid[0]);
  assert.ok(shrink && grow);
  assert.ok(ref.cases.some((c) => c.fromGrid[0] !== c.fromGrid[1] || c.toGrid[0] !== c.toGrid[1]));
  assert.ok(ref.cases.some((c) => !c.antialias) && ref.cases.some((c) => c.antialias));
});

for (const c of ref.cases) {
  test(`resampled like F.interpolate: ${label(c)}`, () => {
    const pos = Float32Array.from(c.input);
    const r = resamplePosEmbed(pos, c.dim, c.fromGrid, c.toGrid, 2, c.antialias);
    assert.ok(r, 'resampled');
    assert.equal(r.prefixTokens, c.prefixTokens);
    assert.equal(r.data.length, c.output.length);
    const scale = Math.max(...c.output.map(Math.abs));
    let worst = 0;
    for (let i = 0; i < c.output.length; i++) worst = Math.max(worst, Math.abs(r.data[i]! - c.output[i]!));
    // float32 output: the rounding of the result itself, nothing more.
    assert.ok(worst <= 1e-6 * scale, `max abs error ${worst} (scale ${scale})`);
    // The prefix rows are the input's, bit for bit.
    for (let i = 0; i < c.prefixTokens * c.dim; i++) assert.equal(r.data[i], pos[i]);
    // In float64 the grid agrees with PyTorch's float64 to rounding.
    const grid = resampleGrid(Float64Array.from(c.input.slice(c.prefixTokens * c.dim)), c.dim, c.fromGrid, c.toGrid, c.antialias);
    for (let i = 0; i < grid.length; i++) assert.ok(Math.abs(grid[i]! - c.output[c.prefixTokens * c.dim + i]!) <= 1e-12 * Math.max(1, scale), `float64 ${i}`);
  });
}

test('rows of every axis sum to 1 (a constant embedding stays constant), both kernels, both directions', () => {
  for (const aa of [true, false]) {
    for (const [a, b] of [[37, 16], [16, 37], [7, 4], [3, 4], [1, 5], [5, 1], [6, 6]] as const) {
      const ax = bicubicAxis(a, b, aa);
      for (let i = 0; i < b; i++) {
        let s = 0;
        for (let k = 0; k < ax.count[i]!; k++) s += ax.weights[i * ax.taps + k]!;
        assert.ok(Math.abs(s - 1) < 1e-12, `${a}→${b} aa=${aa} row ${i}: ${s}`);
      }
    }
  }
});

test('the same grid gives the embedding back unchanged; rows that do not fit the grid are refused', () => {
  const pos = Float32Array.from({ length: (1 + 9) * 2 }, (_, i) => Math.sin(i));
  assert.deepEqual(resamplePosEmbed(pos, 2, [3, 3], [3, 3], 1)?.data, pos);
  // 10 rows on a 3×3 grid leave 1 prefix row; with no special token allowed, it does not fit.
  assert.equal(resamplePosEmbed(pos, 2, [3, 3], [4, 4], 0), undefined);
  assert.equal(resamplePosEmbed(pos, 2, [4, 4], [3, 3], 2), undefined);
  assert.equal(resamplePosEmbed(pos.subarray(1), 2, [3, 3], [4, 4], 1), undefined);
  assert.throws(() => bicubicAxis(0, 3, true), RangeError);
});
