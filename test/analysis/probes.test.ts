import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage } from '../../src/analysis/imageDecode';
import { IMAGENET_MEAN, IMAGENET_STD, batchTensor, folderProbeSet, preprocessInto, syntheticImage, syntheticProbeSet } from '../../src/analysis/probes';

const dir = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'images');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { resize: Array<{ image: string; size: [number, number]; values: number[] }> };

for (const ref of expected.resize) {
  test(`resize+crop of ${ref.image} to ${ref.size.join('x')} matches torch bilinear (float64)`, () => {
    const img = decodeImage(readFileSync(join(dir, ref.image)), ref.image);
    const out = new Float32Array(3 * ref.size[0] * ref.size[1]);
    preprocessInto(img, ref.size, IMAGENET_MEAN, IMAGENET_STD, out, 0);
    let max = 0;
    ref.values.forEach((v, i) => (max = Math.max(max, Math.abs((out[i] as number) - v))));
    assert.ok(max < 1e-5, `max abs diff ${max}`);
  });
}

test('same-size images are not resampled: value = (p/255 - mean)/std exactly', () => {
  const img = { width: 2, height: 1, data: new Uint8Array([0, 128, 255, 10, 20, 30]) };
  const out = new Float32Array(6);
  preprocessInto(img, [1, 2], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], out, 0);
  assert.deepEqual(Array.from(out), [0, 10, 128, 20, 255, 30].map((p) => Math.fround((p / 255 - 0.5) / 0.25)));
});

test('synthetic probes are deterministic, varied, and independent of batch size', () => {
  const a = syntheticImage(3, 32, 48);
  const b = syntheticImage(3, 32, 48);
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(syntheticImage(4, 32, 48).data, a.data);
  let min = 255;
  let max = 0;
  for (const v of a.data) { min = Math.min(min, v); max = Math.max(max, v); }
  assert.ok(max - min > 60, 'has contrast');
  const set = syntheticProbeSet(5, [16, 16]);
  const sizes = [...set.batches(2, () => undefined)].map((bt) => bt.length);
  assert.deepEqual(sizes, [2, 2, 1]);
  const t1 = [...set.batches(5, () => undefined)].flat();
  const t2 = [...set.batches(2, () => undefined)].flat();
  assert.deepEqual(batchTensor(t1, [16, 16], IMAGENET_MEAN, IMAGENET_STD), batchTensor(t2, [16, 16], IMAGENET_MEAN, IMAGENET_STD));
  assert.equal(set.hash, syntheticProbeSet(5, [16, 16]).hash);
  assert.notEqual(set.hash, syntheticProbeSet(6, [16, 16]).hash);
});

test('folder probes: sorted, limited, unreadable files skipped with their names', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'probes-'));
  try {
    copyFileSync(join(dir, 'pil_rgb.png'), join(tmp, 'b.png'));
    copyFileSync(join(dir, 'pil_q90.jpg'), join(tmp, 'a.JPG'));
    copyFileSync(join(dir, 'ct2_d8.png'), join(tmp, 'd.png'));
    writeFileSync(join(tmp, 'c.png'), 'not a png');
    writeFileSync(join(tmp, 'notes.txt'), 'ignored');
    const set = folderProbeSet(tmp);
    assert.equal(set.planned, 4);
    const skipped: string[] = [];
    const got = [...set.batches(2, (n) => skipped.push(n))];
    assert.deepEqual(got.map((bt) => bt.map((p) => p.name)), [['a.JPG', 'b.png'], ['d.png']]);
    assert.deepEqual(skipped, ['c.png']);
    const limited = [...folderProbeSet(tmp, 2).batches(8, () => undefined)].flat().map((p) => p.name);
    assert.deepEqual(limited, ['a.JPG', 'b.png']);
    assert.notEqual(folderProbeSet(tmp, 2).hash, set.hash);
    assert.throws(() => folderProbeSet(join(tmp, 'missing')), /cannot read image folder/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
