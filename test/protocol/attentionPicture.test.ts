// The attention picture shared by the view and the CLI: colours, blending, layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heatTile, renderPicture, tileLabel, tileScale, viridis } from '../../src/protocol/attentionPicture';

test('viridis: matplotlib endpoints and midpoint', () => {
  assert.deepEqual(viridis(0), [68, 1, 84]);
  assert.deepEqual(viridis(0.5), [38, 130, 142]);
  assert.deepEqual(viridis(1), [253, 231, 37]);
  assert.deepEqual(viridis(Number.NaN), [68, 1, 84]);
});

test('heatTile: each patch block gets its value\'s colour, blended by opacity·(0.25 + 0.75·value)', () => {
  const rgb = new Uint8Array(4 * 4 * 3).fill(100);
  const row = [0, 0, 0, 1]; // 2×2 grid, bottom-right patch holds everything
  const full = heatTile({ rgb, width: 4, height: 4, grid: [2, 2], opacity: 1 }, row);
  assert.deepEqual(Array.from(full.subarray(0, 4)), [92, 75, 96, 255]);
  assert.deepEqual(Array.from(full.subarray((3 * 4 + 3) * 4, (3 * 4 + 3) * 4 + 4)), [253, 231, 37, 255]);
  const half = heatTile({ rgb, width: 4, height: 4, grid: [2, 2], opacity: 0.5 }, row);
  assert.deepEqual(Array.from(half.subarray((3 * 4 + 3) * 4, (3 * 4 + 3) * 4 + 3)), [177, 166, 69]);
  const none = heatTile({ rgb, width: 4, height: 4, grid: [2, 2], opacity: 0 }, row);
  assert.deepEqual(Array.from(none.subarray(0, 3)), [100, 100, 100]);
});

test('renderPicture: tiles side by side at a readable scale, labels below', () => {
  const rgb = new Uint8Array(32 * 32 * 3);
  const tiles = [0, 1, 2].map((h) => ({ row: new Float32Array(16).fill(h), label: tileLabel(h + 1, 10 + h, 1.5) }));
  const pic = renderPicture({ rgb, width: 32, height: 32, grid: [4, 4], tiles, opacity: 0.6, title: 'L1 CLS row  x.png' });
  assert.equal(tileScale(32, 32), 5);
  assert.ok(pic.width >= 3 * 160 + 4 * 6, `width ${pic.width}`);
  assert.ok(pic.height >= 160 + 2 * 16, `height ${pic.height}`);
  assert.equal(pic.data.length, pic.width * pic.height * 4);
  assert.equal(tileLabel(2, 16.14, 2.314), 'H2 16.1px 2.31nats');
});
