// Probe folder handling against test/fixtures/probes/mixed/expected.json (PyTorch float64 + PIL): gray,
// RGBA, palette and 16-bit PNGs, other sizes (resize the shorter side, bilinear, center crop), JPEGs, and
// a corrupt file that must be skipped with a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { folderProbeSet, preprocessInto } from '../../src/analysis/probes';

const DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'probes', 'mixed');
interface Entry { width?: number; height?: number; lossy?: boolean; error?: boolean; decodedMeanRgb?: number[]; preprocessedMeanRgb?: number[]; pixels?: string }
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { target: [number, number]; files: Record<string, Entry> };

test('mixed probe folder: every decodable image matches PyTorch preprocessing; the corrupt one is skipped', () => {
  const set = folderProbeSet(DIR);
  const skipped: string[] = [];
  const seen: string[] = [];
  const size = expected.target;
  const plane = size[0] * size[1];
  for (const batch of set.batches(4, (name) => skipped.push(name))) {
    for (const p of batch) {
      const e = expected.files[p.name];
      assert.ok(e && !e.error, `unexpected image ${p.name}`);
      seen.push(p.name);
      assert.equal(p.image.width, e.width, `${p.name} width`);
      assert.equal(p.image.height, e.height, `${p.name} height`);
      const tol = e.lossy ? 2 : 1e-9; // JPEG: decoders may differ by a level or two (IDCT, chroma upsampling)
      const mean = [0, 0, 0];
      for (let i = 0; i < p.image.width * p.image.height; i++) for (let c = 0; c < 3; c++) mean[c]! += p.image.data[i * 3 + c]!;
      mean.forEach((v, c) => assert.ok(Math.abs(v / (p.image.width * p.image.height) - e.decodedMeanRgb![c]!) <= tol, `${p.name} decoded mean ${c}`));
      const out = new Float32Array(3 * plane);
      preprocessInto(p.image, size, [0, 0, 0], [1, 1, 1], out, 0);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = 0; i < plane; i++) s += out[c * plane + i]!;
        assert.ok(Math.abs(s / plane - e.preprocessedMeanRgb![c]!) <= (e.lossy ? 2 / 255 : 1e-6), `${p.name} preprocessed mean ${c}`);
      }
      if (e.pixels) {
        const ref = new Float32Array(new Uint8Array(Buffer.from(e.pixels, 'base64')).buffer);
        assert.equal(ref.length, out.length);
        let worst = 0;
        for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!));
        assert.ok(worst <= 1e-6, `${p.name}: max pixel difference ${worst}`);
      }
    }
  }
  assert.deepEqual(skipped, ['zz_corrupt.png']);
  assert.deepEqual(seen.sort(), Object.keys(expected.files).filter((f) => !expected.files[f]!.error).sort());
});
