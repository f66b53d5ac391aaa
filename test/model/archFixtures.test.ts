// End to end over the real readers: every manifest fixture opened by openCheckpoint (+ the HF sidecar
// config) must give the summary makeFixtures.py recorded when it built the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { recognize } from '../../src/model/recognize';
import { attachSidecarConfig } from '../../src/model/sidecarConfig';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import { FIX, checkAgainstManifest, manifest } from './archManifest';

for (const e of manifest.models) {
  test(`openCheckpoint + recognize: ${e.file}`, async () => {
    const ckpt = await attachSidecarConfig(await openCheckpoint(join(FIX, e.file)));
    assert.equal(ckpt.format, e.format);
    assert.equal(ckpt.tensors.length, e.tensorCount, 'tensorCount');
    if (e.variant !== undefined) assert.equal(ckpt.selectedVariant, e.variant, 'selected variant');
    if (e.variants) assert.deepEqual(ckpt.variants.map((v) => v.key).sort(), [...e.variants].sort(), 'variants');
    checkAgainstManifest(e, ckpt);
    if (e.family === 'onnx-graph') {
      const { summary } = recognize(ckpt);
      assert.equal(summary.layers, e.layers);
      assert.deepEqual({ ...ckpt.onnx?.opCounts }, e.opCounts);
      assert.equal(ckpt.onnx?.nodeCount, e.nodeCount);
    }
  });
}

test('the MAE wrapper exposes epoch and args, and its decoder is noted but left out of the spec', async () => {
  const ckpt = await openCheckpoint(join(FIX, 'models/mae_pretrain_vit_tiny_patch8.pth'));
  assert.ok(ckpt.extras.some((x) => x.key === 'epoch' && x.value.includes('399')));
  const { summary, spec } = recognize(ckpt);
  assert.equal(summary.details?.['decoderTensors'], 20);
  assert.ok(spec);
  assert.equal(spec.weights.posEmbed, 'pos_embed');
});

test('a DeiT training checkpoint: the model_ema variant is recognized the same way, with its own weights', async () => {
  const file = join(FIX, 'models/deit3_small_patch8_32_ls.pth');
  const main = await openCheckpoint(file);
  const ema = await openCheckpoint(file, { variant: 'model_ema' });
  assert.equal(ema.selectedVariant, 'model_ema');
  const a = recognize(main);
  const b = recognize(ema);
  assert.deepEqual({ ...b.summary, file: '' }, { ...a.summary, file: '' });
  assert.deepEqual(b.spec, a.spec);
  const name = 'blocks.1.attn.qkv.weight';
  const ta = main.tensors.find((t) => t.name === name);
  const tb = ema.tensors.find((t) => t.name === name);
  assert.ok(ta && tb);
  assert.notEqual(ta.location.offset, tb.location.offset);
});
