// The committed demo pair and probes: both checkpoints open with the product's readers, are recognised as
// the ViT that demo/training/train.py trained, read back the weights PyTorch wrote (float64 sums stored by
// demo/training/analyze.py in reference.json), and every probe decodes to a 32x32 image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { recognize } from '../../src/model/recognize';
import { decodeImage } from '../../src/analysis/imageDecode';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../src/formats/tensorData';
import type { Checkpoint } from '../../src/formats/checkpoint';

const DEMO = resolve(__dirname, '..', '..', '..', 'demo');
const reference = JSON.parse(readFileSync(join(DEMO, 'training', 'reference.json'), 'utf8')) as {
  probes: number;
  weightSums: Record<'mim' | 'sup', Record<string, number>>;
};

async function checkSums(ckpt: Checkpoint, sums: Record<string, number>): Promise<void> {
  for (const [name, expected] of Object.entries(sums)) {
    const t = ckpt.tensors.find((x) => x.name === name);
    assert.ok(t, `${name} present`);
    const v = await readTensorF32(t);
    let s = 0;
    for (const x of v) s += x;
    assert.ok(Math.abs(s - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${name}: sum ${s} vs PyTorch ${expected}`);
  }
}

test('demo MIM checkpoint: SimMIM-style wrapped .pth, heads from its args', async () => {
  const ckpt = await openCheckpoint(join(DEMO, 'checkpoints', 'mim_vit.pth'));
  assert.equal(ckpt.format, 'pytorch-zip');
  const { summary, spec } = recognize(ckpt);
  assert.equal(summary.layers, 6);
  assert.equal(summary.heads, 4);
  assert.equal(summary.headsSource, 'checkpoint-args');
  assert.equal(summary.dim, 128);
  assert.deepEqual(summary.patchSize, [4, 4]);
  assert.deepEqual(summary.imageSize, [32, 32]);
  assert.equal(summary.specialTokens, 1);
  assert.ok(spec, summary.notAnalyzable);
  assert.equal(spec.lnEps, 1e-6);
  assert.deepEqual(spec.mean, [0.485, 0.456, 0.406]);
  await checkSums(ckpt, reference.weightSums.mim);
});

test('demo supervised checkpoint: safetensors with the head count in __metadata__', async () => {
  const ckpt = await openCheckpoint(join(DEMO, 'checkpoints', 'sup_vit.safetensors'));
  assert.equal(ckpt.format, 'safetensors');
  assert.equal(ckpt.metadata['num_heads'], '4');
  const heads = Number(ckpt.metadata['num_heads']);
  const { summary, spec } = recognize(ckpt, { headsOverride: heads });
  assert.equal(summary.layers, 6);
  assert.equal(summary.heads, 4);
  assert.equal(summary.dim, 128);
  assert.deepEqual(summary.imageSize, [32, 32]);
  assert.ok(spec, summary.notAnalyzable);
  assert.deepEqual(ckpt.tensors.find((t) => t.name === 'head.weight')?.shape, [14, 128]);
  await checkSums(ckpt, reference.weightSums.sup);
});

test('demo probes: 32x32 PNGs, as many as the reference used', () => {
  const names = readdirSync(join(DEMO, 'probes')).filter((n) => n.endsWith('.png')).sort();
  assert.equal(names.length, reference.probes);
  for (const n of names) {
    const img = decodeImage(readFileSync(join(DEMO, 'probes', n)), n);
    assert.equal(img.width, 32, n);
    assert.equal(img.height, 32, n);
  }
});
