// The bundled natural probe images (media/probes): present, decodable, large enough, varied, and each
// file's source and licence listed; runs without a probe folder use them, `synthetic` is explicit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage } from '../../src/analysis/imageDecode';
import { SYNTHETIC_PROBES, bundledProbeFolder, selectProbeSet } from '../../src/analysis/probes';
import { probeIdentity } from '../../src/runtime/cache';

const root = join(__dirname, '..', '..', '..');
const folder = join(root, 'media', 'probes');
const images = readdirSync(folder).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
const licences = readFileSync(join(folder, 'LICENSES.md'), 'utf8');
const ALLOWED = new Set(['CC0-1.0', 'Public domain', 'CC-BY-2.0', 'CC-BY-4.0']);

test('the bundled folder is found from the code and holds at least 48 images', () => {
  assert.equal(bundledProbeFolder(), folder);
  assert.ok(images.length >= 48, `${images.length} images`);
});

test('every bundled image decodes to RGB of at least 224 px on the short side', () => {
  for (const name of images) {
    const img = decodeImage(readFileSync(join(folder, name)), name);
    assert.ok(Math.min(img.width, img.height) >= 224, `${name}: ${img.width}x${img.height}`);
    // Not a flat or synthetic-looking frame: the pixel values spread.
    let min = 255;
    let max = 0;
    for (let i = 0; i < img.data.length; i += 7) {
      const v = img.data[i] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.ok(max - min > 60, `${name}: value range ${min}..${max}`);
  }
});

test('LICENSES.md lists every bundled file with an MIT-compatible licence, and nothing else', () => {
  const rows = new Map<string, string>();
  for (const line of licences.split('\n')) {
    const m = /^\| `([^`]+)` \| (.+?) \| ([^|]+?) \| (.+) \|$/.exec(line);
    if (m) rows.set(m[1] as string, m[3] as string);
  }
  assert.deepEqual([...rows.keys()].sort(), images);
  for (const [name, licence] of rows) assert.ok(ALLOWED.has(licence), `${name}: ${licence}`);
});

test('no photograph dominates: at most two images per source, at least 46 sources', () => {
  const perSource = new Map<string, number>();
  for (const name of images) {
    const source = name.replace(/^\d+_/, '').replace(/(-[ab])?\.jpe?g$/, '');
    perSource.set(source, (perSource.get(source) ?? 0) + 1);
  }
  for (const [source, n] of perSource) assert.ok(n <= 2, `${source}: ${n} images`);
  assert.ok(perSource.size >= 46, `${perSource.size} sources`);
});

test('no folder selects the bundled photographs; `synthetic` selects the synthetic set; cache keys differ', () => {
  const bundled = selectProbeSet(undefined, undefined, [32, 32]);
  assert.equal(bundled.source, 'folder');
  assert.equal(bundled.bundled, true);
  assert.equal(bundled.folder, folder);
  assert.equal(bundled.planned, images.length);
  const synthetic = selectProbeSet(SYNTHETIC_PROBES, 8, [32, 32]);
  assert.equal(synthetic.source, 'synthetic');
  assert.equal(synthetic.planned, 8);
  const mine = selectProbeSet(join(root, 'test', 'fixtures', 'probes', 'png32'), undefined, [32, 32]);
  assert.equal(mine.bundled, undefined);
  const keys = new Set([undefined, SYNTHETIC_PROBES, folder].map((images) => probeIdentity({ file: 'x', batchSize: 16, device: 'cpu', ...(images !== undefined ? { images } : {}) })));
  assert.equal(keys.size, 3);
});
