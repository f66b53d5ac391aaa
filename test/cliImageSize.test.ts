// `--image-size`, end to end through the BUILT CLI: checkpoints analysed at a size other than the one they
// were trained at, against float64 PyTorch references that resample the position embedding as timm's
// resample_abs_pos_embed does by default (F.interpolate bicubic, antialias, align_corners False; written by
// test/fixtures/zoo/makeZoo.py → imagesize.json), at the zoo's tolerances; and what is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey } from '../src/runtime/cache';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const FIX = join(root, 'test', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'lens-size-'));
const env = { ...process.env, MODEL_LENS_CACHE_DIR: join(tmp, 'cache') };

interface Entry { file: string; family: string; ref: string; imageSize: [number, number]; nativeImageSize: [number, number]; fromGrid: [number, number]; toGrid: [number, number]; prefixTokens: number; specialTokens: number; heads: number }
interface Ref { probeDir: string; batchSize: number; heads: number; layers: number; attentionDistance: { perHead: number[][] }; headDiversity: { perHead: number[][] }; cka: { matrix: number[][]; batches: number } }
interface Model { family: string; heads: number; specialTokens: number; imageSize: [number, number]; nativeImageSize?: [number, number]; posEmbedResampling?: Record<string, unknown> }
interface Metrics { attentionDistance: { perHead: number[][]; perLayer: number[] }; headDiversity: { perHead: number[][]; perLayer: number[] }; cka: { matrix: number[][]; batches: number } }
interface Result extends Metrics { model: Model; probe: { preprocess: { size: [number, number] } }; options: { imageSize: [number, number] }; compare?: Metrics & { model: Model } }

const manifest = JSON.parse(readFileSync(join(FIX, 'zoo', 'imagesize.json'), 'utf8')) as { models: Entry[] };
const refOf = (e: Entry): Ref => JSON.parse(readFileSync(join(FIX, e.ref), 'utf8')) as Ref;

const lens = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test.after(() => rmSync(tmp, { recursive: true, force: true }));

function assertMatchesRef(label: string, got: Metrics, ref: Ref): void {
  assert.equal(got.cka.batches, ref.cka.batches);
  for (let l = 0; l < ref.layers; l++) {
    for (let h = 0; h < ref.heads; h++) {
      const [gd, wd] = [got.attentionDistance.perHead[l]![h]!, ref.attentionDistance.perHead[l]![h]!];
      assert.ok(Math.abs(gd - wd) <= 1e-3 * Math.abs(wd), `${label}: AD[${l}][${h}] ${gd} vs ${wd}`);
      const [gk, wk] = [got.headDiversity.perHead[l]![h]!, ref.headDiversity.perHead[l]![h]!];
      assert.ok(Math.abs(gk - wk) <= 1e-3 * Math.abs(wk), `${label}: HD[${l}][${h}] ${gk} vs ${wk}`);
    }
    for (let m = 0; m < ref.layers; m++) {
      const [g, w] = [got.cka.matrix[l]![m]!, ref.cka.matrix[l]![m]!];
      assert.ok(Math.abs(g - w) <= 2e-3, `${label}: CKA[${l}][${m}] ${g} vs ${w}`);
    }
  }
}

const common = (ref: Ref): string[] => ['--images', join(FIX, ref.probeDir), '--batch', String(ref.batchSize), '--device', 'cpu', '--no-cache'];

for (const e of manifest.models) {
  test(`${e.family} trained at ${e.nativeImageSize[0]} px, analysed at ${e.imageSize[0]} px, matches the float64 forward pass with timm's resampling`, () => {
    const ref = refOf(e);
    const r = lens('analyze', join(FIX, e.file), '--image-size', String(e.imageSize[0]), ...common(ref), '--json', '-');
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out) as Result;
    assert.equal(res.model.family, e.family);
    assert.equal(res.model.specialTokens, e.specialTokens);
    assert.deepEqual(res.model.imageSize, e.imageSize);
    assert.deepEqual(res.model.nativeImageSize, e.nativeImageSize);
    assert.deepEqual(res.model.posEmbedResampling, { method: 'bicubic', antialias: true, alignCorners: false, fromGrid: e.fromGrid, toGrid: e.toGrid, prefixTokens: e.prefixTokens });
    assert.deepEqual(res.probe.preprocess.size, e.imageSize);
    assert.deepEqual(res.options.imageSize, e.imageSize);
    assertMatchesRef(e.file, res, ref);
  });
}

test('the text output says both sizes; distances are in pixels of the analysed input', () => {
  const e = manifest.models.find((m) => m.family === 'timm-vit')!;
  const r = lens('analyze', join(FIX, e.file), '--image-size', '32', ...common(refOf(e)));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Input {6}analysed at 32 px \(native 56 px, position embeddings resampled bicubic\)$/m);
  assert.match(r.out, /vit_small_patch8_56\.pth: timm-vit, .*, 32×32 px/);
  assert.match(r.out, /Probes .*, 32×32 px;/);
});

test('compare at one size: each model resampled from its own native size (or not at all), both on the same probes', () => {
  const vit = manifest.models.find((m) => m.family === 'timm-vit')!;
  const dino = manifest.models.find((m) => m.family === 'dinov2')!;
  const ref = refOf(dino);
  const r = lens('compare', join(FIX, vit.file), join(FIX, dino.file), '--image-size', '56', ...common(ref), '--json', '-');
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out) as Result;
  assert.deepEqual([res.model.imageSize, res.model.nativeImageSize, res.model.posEmbedResampling], [[56, 56], [56, 56], undefined]);
  assert.deepEqual([res.compare!.model.imageSize, res.compare!.model.nativeImageSize], [[56, 56], [42, 42]]);
  assertMatchesRef('compare B', res.compare!, ref);
});

test('timeline --image-size analyses every checkpoint at that size, as a single analysis does', () => {
  const e = manifest.models.find((m) => m.family === 'timm-vit')!;
  const ref = refOf(e);
  const r = lens('timeline', join(FIX, e.file), '--image-size', '32', ...common(ref), '--json', '-');
  assert.equal(r.code, 0, r.err);
  const t = JSON.parse(r.out) as { checkpoints: Array<Metrics & { model: Model }> };
  assert.deepEqual(t.checkpoints[0]!.model.nativeImageSize, [56, 56]);
  assertMatchesRef('timeline', t.checkpoints[0]!, ref);
});

test('the native size as --image-size gives the same numbers as no option; without it the result has no new fields', () => {
  const e = manifest.models.find((m) => m.family === 'dinov2')!;
  const args = [join(FIX, e.file), '--images', join(FIX, 'probes', 'png56'), '--limit', '4', '--batch', '4', '--device', 'cpu', '--no-cache', '--json', '-'];
  const a = lens('analyze', ...args.map((x) => x.replace('png56', 'png56')), '--image-size', '42');
  const b = lens('analyze', ...args);
  assert.equal(a.code, 0, a.err);
  assert.equal(b.code, 0, b.err);
  const [ra, rb] = [JSON.parse(a.out) as Result, JSON.parse(b.out) as Result];
  assert.deepEqual([ra.model.imageSize, ra.model.nativeImageSize, ra.model.posEmbedResampling], [[42, 42], [42, 42], undefined]);
  assert.equal('nativeImageSize' in rb.model, false);
  assert.equal('posEmbedResampling' in rb.model, false);
  assert.deepEqual([ra.attentionDistance, ra.headDiversity, ra.cka.matrix], [rb.attentionDistance, rb.headDiversity, rb.cka.matrix]);
  assert.doesNotMatch(lens('analyze', ...args.slice(0, -2)).out, /^Input /m);
});

test('refused, with exit code 2 and one line: a size off the patch grid, Swin, a relative position bias table, an ONNX graph', () => {
  const vit = manifest.models.find((m) => m.family === 'timm-vit')!;
  for (const [file, size, re] of [
    [join(FIX, vit.file), '30', /vit_small_patch8_56\.pth: image size 30 px is not a multiple of the patch size 8 px; the nearest sizes that are: 24 and 32$/],
    [join(FIX, 'swin', 'swin_timm_old_w4.pth'), '64', /swin_timm_old_w4\.pth: image size 64 px: a swin model's windows and relative position bias are fixed to its 32×32 px input/],
    [join(FIX, 'models', 'beit_p8_32.pth'), '48', /beit_p8_32\.pth: the beit model has a relative position bias table learned for its 32 px input/],
    [join(FIX, 'models', 'vit_onnx_eager.onnx'), '48', /vit_onnx_eager\.onnx: image size 48 px: an ONNX graph is exported for one input size \(32×32 px here\)/],
  ] as const) {
    const r = lens('analyze', file, '--image-size', size, '--limit', '4', '--batch', '4', '--device', 'cpu', '--no-cache');
    assert.equal(r.code, 2, `${file}: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err.trim(), re);
  }
  for (const bad of ['0', 'abc', '224.5']) assert.match(lens('analyze', join(FIX, vit.file), '--image-size', bad).err, /--image-size must be an integer >= 1/);
  assert.match(lens('analyze', join(FIX, vit.file), '--image-size', '5000').err, /--image-size must be at most 4096/);
  assert.match(lens('inspect', join(FIX, vit.file), '--image-size', '32').err, /--image-size does not apply to inspect/);
});

test('a distillation token keeps its position-embedding row too (two prefix rows)', () => {
  const r = lens('analyze', join(FIX, 'models', 'deit_tiny_distilled_patch16_48.safetensors'), '--image-size', '32', '--images', 'synthetic', '--limit', '4', '--batch', '4', '--device', 'cpu', '--no-cache', '--json', '-');
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out) as Result;
  assert.deepEqual(res.model.posEmbedResampling, { method: 'bicubic', antialias: true, alignCorners: false, fromGrid: [3, 3], toGrid: [2, 2], prefixTokens: 2 });
  assert.ok(res.attentionDistance.perLayer.every(Number.isFinite));
});

test('the cache key tells sizes apart, and a run without a size keeps the key it always had', async () => {
  const file = join(FIX, manifest.models[0]!.file);
  const base = { file, batchSize: 16, device: 'auto', limit: 64 };
  const native = (await cacheKey(base)).key;
  assert.equal((await cacheKey({ ...base, imageSize: undefined })).key, native);
  // The options segment of the key, exactly as before the option existed.
  assert.equal(native.split('\u0001')[2], ['16', 'auto', '64', '', '', '', '', 'renormalised', 'all'].join('\0'));
  const k224 = (await cacheKey({ ...base, imageSize: 224 })).key;
  const k32 = (await cacheKey({ ...base, imageSize: 32 })).key;
  assert.notEqual(k224, native);
  assert.notEqual(k224, k32);
});
