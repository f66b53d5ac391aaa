// Attention maps against the float64 PyTorch references of test/fixtures/attention/makeAttentionRefs.py:
// CLS row, a query patch's row and rollout (every layer) for a timm ViT, a DeiT with two special tokens, a
// HuggingFace ViT, a torch.onnx export, DINOv2 with 4 registers, and two models without class token (timm
// global-pool ViT, SigLIP: rollout = mean patch row); bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttentionService } from '../../src/worker/attentionService';
import type { AttentionMapParams, AttentionMapResult } from '../../src/protocol/workerProtocol';
import { isModelLensError } from '../../src/formats/errors';

const fixtures = join(__dirname, '..', '..', '..', 'test', 'fixtures');

interface RefLayer { cls: number[][] | null; clsSpecialMass: number[] | null; query: number[][]; querySpecialMass: number[]; rollout: number[]; distance: number[]; entropy: number[] }
interface RefCase { name: string; file: string; image: string; layers: number; heads: number; specialTokens: number; hasCls: boolean; grid: [number, number]; patchSize: [number, number]; query: [number, number]; perLayer: RefLayer[]; imageSize?: number }
const refs = JSON.parse(readFileSync(join(fixtures, 'attention', 'refs.json'), 'utf8')) as { cases: RefCase[] };

const TOL = 1e-5;

function rowsOf(r: AttentionMapResult): Float32Array {
  const b = Buffer.from(r.rows, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function assertRows(got: Float32Array, want: number[][], what: string): void {
  const n = want[0]!.length;
  assert.equal(got.length, want.length * n, `${what}: row count`);
  want.forEach((row, h) => row.forEach((v, j) => assert.ok(Math.abs(got[h * n + j]! - v) <= TOL, `${what} head ${h + 1} key ${j}: got ${got[h * n + j]}, PyTorch ${v}`)));
}

function assertClose(got: readonly number[], want: readonly number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  want.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) <= tol * Math.max(1, Math.abs(v)), `${what}[${i}]: got ${got[i]}, PyTorch ${v}`));
}

const service = new AttentionService();
test.after(() => service.release());

for (const c of refs.cases) {
  test(`attention maps equal the PyTorch float64 reference: ${c.name}`, async () => {
    const base: Omit<AttentionMapParams, 'layer' | 'kind'> = { file: join(fixtures, c.file), device: 'cpu', image: { file: join(fixtures, c.image) } };
    // A case analysed at another input size than the checkpoint's (position embedding resampled).
    if (c.imageSize !== undefined) base.imageSize = c.imageSize;
    for (let l = 0; l < c.layers; l++) {
      const ref = c.perLayer[l]!;
      const q = await service.map({ ...base, layer: l, kind: 'query', query: c.query, withImage: l === 0 });
      assert.equal(q.model.layers, c.layers);
      assert.equal(q.model.heads, c.heads);
      assert.equal(q.model.specialTokens, c.specialTokens);
      assert.equal(q.model.hasCls, c.hasCls);
      assert.deepEqual(q.model.grid, c.grid);
      assertClose(q.distance, ref.distance, 1e-4, `${c.name} layer ${l + 1} distance`);
      assertClose(q.entropy, ref.entropy, 1e-4, `${c.name} layer ${l + 1} entropy`);
      if (l === 0) assert.equal(Buffer.from(q.image.rgb!, 'base64').length, 3 * c.grid[0] * c.patchSize[0] * c.grid[1] * c.patchSize[1]);
      if (c.hasCls) {
        const cls = await service.map({ ...base, layer: l, kind: 'cls' });
        assertRows(rowsOf(cls), ref.cls!, `${c.name} layer ${l + 1} CLS`);
        assertClose(cls.specialMass, ref.clsSpecialMass!, TOL, `${c.name} layer ${l + 1} CLS special mass`);
      } else {
        await assert.rejects(service.map({ ...base, layer: l, kind: 'cls' }), /the model has no class token/);
      }
      assert.deepEqual(q.query, c.query);
      assertRows(rowsOf(q), ref.query, `${c.name} layer ${l + 1} query ${c.query.join(',')}`);
      assertClose(q.specialMass, ref.querySpecialMass, TOL, `${c.name} layer ${l + 1} query special mass`);
      const r = await service.map({ ...base, layer: l, kind: 'rollout' });
      assertRows(rowsOf(r), [ref.rollout], `${c.name} rollout through layer ${l + 1}`);
      // Only the first request of an image runs the model.
      assert.equal(r.timing.cached, true, 'layer/kind switches are served from the cached forward pass');
    }
  });
}

test('attention/map bad input: one clear ModelLensError each', async () => {
  const c = refs.cases.find((x) => x.name === 'timm-vit')!;
  const base = { file: join(fixtures, c.file), device: 'cpu' as const, image: { file: join(fixtures, c.image) } };
  const rejects = async (p: AttentionMapParams, re: RegExp): Promise<void> => {
    await assert.rejects(service.map(p), (e: unknown) => isModelLensError(e) && re.test(e.message) && !e.message.includes('\n'));
  };
  await rejects({ ...base, layer: c.layers, kind: 'cls' }, /layer 4 is out of range: the model has 3 layers/);
  await rejects({ ...base, layer: 0, kind: 'query', query: [c.grid[0], 0] }, /query patch 4,0 is outside the 4×4 patch grid/);
  await rejects({ ...base, layer: 0, kind: 'query' }, /query patch \(none\)/);
  await rejects({ ...base, image: { file: join(fixtures, 'probes', 'mixed', 'zz_corrupt.png') }, layer: 0, kind: 'cls' }, /zz_corrupt\.png/);
  await rejects({ ...base, image: { file: join(fixtures, 'probes', 'nope.png') }, layer: 0, kind: 'cls' }, /nope\.png: cannot read image/);
  await rejects({ ...base, file: join(fixtures, 'swin', 'swin_timm_w4.safetensors'), layer: 0, kind: 'cls' }, /swin_timm_w4\.safetensors: attention maps of windowed models \(swin/);
  // The service is still usable after bad requests.
  const ok = await service.map({ ...base, layer: 0, kind: 'cls' });
  assert.equal(ok.kind, 'cls');
});

test('attention/probes: thumbnails of a probe folder and of the synthetic set', () => {
  const folder = service.probes({ images: join(fixtures, 'probes', 'png32'), limit: 3, inputSize: [32, 32], thumb: 16 });
  assert.deepEqual(folder.items.map((i) => i.name), ['p00.png', 'p01.png', 'p02.png']);
  assert.deepEqual(folder.items[1]!.ref, { file: join(fixtures, 'probes', 'png32', 'p01.png') });
  assert.equal(Buffer.from(folder.items[0]!.rgb, 'base64').length, 16 * 16 * 3);
  const synth = service.probes({ images: 'synthetic', limit: 2, inputSize: [32, 32], thumb: 16 });
  const bundled = service.probes({ limit: 2, inputSize: [32, 32], thumb: 16 });
  assert.deepEqual(bundled.items.map((i) => 'file' in i.ref), [true, true]);
  assert.deepEqual(synth.items.map((i) => i.ref), [{ synthetic: 0 }, { synthetic: 1 }]);
});
