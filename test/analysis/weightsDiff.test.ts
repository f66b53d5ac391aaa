// Weights diff against the float64 PyTorch reference written by test/fixtures/timeline/makeRun.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockOf, weightsDiff } from '../../src/analysis/weightsDiff';

const dir = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'timeline', 'diff');
interface Ref {
  missing: string[];
  unexpected: string[];
  shapeMismatch: Array<{ name: string; a: number[]; b: number[] }>;
  dtypeMismatch: Array<{ name: string; a: string; b: string }>;
  blocks: Record<string, { relativeChange: number; tensors: number }>;
}
const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Ref;

for (const chunkElements of [undefined, 7]) {
  test(`keys, shapes, dtypes and per-block ‖B − A‖/‖A‖ match PyTorch float64${chunkElements ? ' (read 7 elements at a time)' : ''}`, async () => {
    const d = await weightsDiff(join(dir, 'a.pth'), join(dir, 'b.safetensors'), chunkElements ? { chunkElements } : {});
    assert.equal(d.schema, 'model-lens/weights-diff@1');
    assert.deepEqual(d.missing, ref.missing);
    assert.deepEqual(d.unexpected, ref.unexpected);
    assert.deepEqual(d.shapeMismatch, ref.shapeMismatch);
    assert.deepEqual(d.dtypeMismatch, ref.dtypeMismatch);
    assert.deepEqual(d.blocks.map((b) => b.block), ['cls_token', 'patch_embed', 'blocks.0', 'blocks.1', 'norm'], 'model order');
    assert.equal(d.blocks.length, Object.keys(ref.blocks).length);
    for (const b of d.blocks) {
      const want = ref.blocks[b.block];
      assert.ok(want, b.block);
      assert.equal(b.tensors, want.tensors, `${b.block} tensors`);
      assert.ok(Math.abs(b.relativeChange! - want.relativeChange) <= 1e-12 * want.relativeChange, `${b.block}: ${b.relativeChange} vs PyTorch ${want.relativeChange}`);
    }
  });
}

test('a checkpoint against itself has zero change everywhere', async () => {
  const d = await weightsDiff(join(dir, 'a.pth'), join(dir, 'a.pth'));
  assert.deepEqual([d.missing, d.unexpected, d.shapeMismatch, d.dtypeMismatch], [[], [], [], []]);
  assert.ok(d.blocks.every((b) => b.relativeChange === 0));
});

test('blocks of the usual layouts', () => {
  assert.equal(blockOf('blocks.11.attn.qkv.weight'), 'blocks.11');
  assert.equal(blockOf('vit.encoder.layer.3.attention.output.dense.weight'), 'vit.encoder.layer.3');
  assert.equal(blockOf('encoder.layers.encoder_layer_7.ln_1.weight'), 'encoder.layers.encoder_layer_7');
  assert.equal(blockOf('patch_embed.proj.weight'), 'patch_embed');
  assert.equal(blockOf('cls_token'), 'cls_token');
});

test('a missing file is a typed error naming it', async () => {
  await assert.rejects(weightsDiff(join(dir, 'nope.pth'), join(dir, 'a.pth')), (e: Error & { code?: string }) => typeof e.code === 'string' && /nope\.pth/.test(e.message));
});
