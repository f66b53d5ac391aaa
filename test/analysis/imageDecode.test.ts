import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, decodePng } from '../../src/analysis/imageDecode';
import { ModelLensError } from '../../src/formats/errors';

const dir = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'images');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { pngCases: string[] };

for (const name of expected.pngCases) {
  test(`PNG ${name} decodes to the pixels PIL gives`, () => {
    const img = decodeImage(readFileSync(join(dir, name)), name);
    const want = readFileSync(join(dir, `${name}.rgb`));
    assert.equal(img.width, 13);
    assert.equal(img.height, 9);
    assert.deepEqual(Buffer.from(img.data), want);
  });
}

test('PNG written by PIL decodes exactly', () => {
  const img = decodeImage(readFileSync(join(dir, 'pil_rgb.png')), 'pil_rgb.png');
  assert.equal(img.width, 31);
  assert.deepEqual(Buffer.from(img.data), readFileSync(join(dir, 'pil_rgb.png.rgb')));
});

for (const [name, meanTol, maxTol] of [['pil_q90.jpg', 1, 8], ['pil_q85_420.jpg', 3, 32]] as const) test(`JPEG ${name} decodes within IDCT/upsampling rounding of libjpeg (PIL)`, () => {
  const img = decodeImage(readFileSync(join(dir, name)), name);
  const want = readFileSync(join(dir, `${name}.rgb`));
  assert.equal(img.data.length, want.length);
  let maxDiff = 0;
  let sum = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs((img.data[i] as number) - (want[i] as number));
    maxDiff = Math.max(maxDiff, d);
    sum += d;
  }
  // jpeg-js and libjpeg differ in IDCT and chroma upsampling details; they must agree closely on average.
  assert.ok(sum / want.length < meanTol, `mean abs diff ${sum / want.length}`);
  assert.ok(maxDiff <= maxTol, `max diff ${maxDiff}`);
  console.log(`${name}: mean abs diff ${(sum / want.length).toFixed(3)}, max ${maxDiff}`);
});

test('bad images are typed errors naming the file', () => {
  assert.throws(() => decodeImage(readFileSync(join(dir, 'not_an_image.png')), 'x.png'), (e: unknown) => e instanceof ModelLensError && e.code === 'unknown-format' && /x\.png/.test(e.message));
  assert.throws(() => decodeImage(readFileSync(join(dir, 'truncated.png')), 't.png'), (e: unknown) => e instanceof ModelLensError && /t\.png/.test(e.message));
  const good = readFileSync(join(dir, 'pil_rgb.png'));
  // IHDR claiming a gigantic image is refused before any allocation.
  const huge = Buffer.from(good);
  huge.writeUInt32BE(100000, 16);
  huge.writeUInt32BE(100000, 20);
  assert.throws(() => decodePng(huge, 'h.png'), (e: unknown) => e instanceof ModelLensError && e.code === 'too-large');
  // A chunk length past the end of the file.
  const long = Buffer.from(good);
  long.writeUInt32BE(0x7fffffff, 33);
  assert.throws(() => decodePng(long, 'l.png'), (e: unknown) => e instanceof ModelLensError && e.code === 'truncated');
  assert.throws(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 2]), 'j.jpg'), (e: unknown) => e instanceof ModelLensError && /j\.jpg/.test(e.message));
});
