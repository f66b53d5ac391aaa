// Recognition of the model-zoo families on the files makeZoo.py wrote in each project's own layout, and
// "never silently wrong": an unknown tensor in any family's encoder makes the model not analyzable, by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import type { Checkpoint, TensorInfo } from '../../src/formats/checkpoint';
import { recognize } from '../../src/model/recognize';
import { attachSidecarConfig } from '../../src/model/sidecarConfig';
import { FIX, ckptOf, listing, manifest } from './archManifest';

interface ZooEntry {
  file: string; family: string; variant?: string; layers: number; heads: number; headsSource: string; dim: number;
  patchSize: [number, number]; imageSize: [number, number]; specialTokens: number; activation: string; lnEps: number;
  mean: number[]; std: number[]; prefix: string;
}
const zoo = JSON.parse(readFileSync(join(FIX, 'zoo', 'manifest.json'), 'utf8')) as { models: ZooEntry[] };

async function open(e: ZooEntry): Promise<Checkpoint> {
  return attachSidecarConfig(await openCheckpoint(join(FIX, e.file), e.variant ? { variant: e.variant } : {}));
}

const fake = (name: string, shape: number[]): TensorInfo => ({ name, dtype: 'F32', shape, location: { file: 'x', offset: 0, length: 0 } });

for (const e of zoo.models) {
  test(`zoo recognition: ${e.file}${e.variant ? ` [${e.variant}]` : ''} is ${e.family}`, async () => {
    const ckpt = await open(e);
    const { summary, spec } = recognize(ckpt);
    assert.ok(spec, summary.notAnalyzable);
    assert.equal(summary.family, e.family);
    assert.equal(summary.layers, e.layers);
    assert.equal(summary.heads, e.heads);
    assert.equal(summary.headsSource, e.headsSource);
    assert.equal(summary.dim, e.dim);
    assert.deepEqual(summary.patchSize, e.patchSize);
    assert.deepEqual(summary.imageSize, e.imageSize);
    assert.equal(summary.specialTokens, e.specialTokens);
    assert.equal(spec.activation ?? 'gelu', e.activation);
    assert.equal(spec.lnEps, e.lnEps);
    assert.deepEqual(spec.mean, e.mean);
    assert.deepEqual(spec.std, e.std);
    assert.equal(summary.details?.['prefix'] ?? '', e.prefix);
  });
}

/** An unknown tensor beside the encoder's own, and one inside its first block, are each refused by name. */
function assertStrayRefused(ckpt: Checkpoint, where: string): void {
  const { spec } = recognize(ckpt);
  assert.ok(spec, `${where} should be analyzable as is`);
  const prefix = String(recognize(ckpt).summary.details?.['prefix'] ?? '');
  const block0 = spec.weights.blocks[0]!.ln1W.replace(/[^.]+\.(weight|gamma)$/, '').replace(/[^.]+\.$/, '');
  const dim = spec.dim;
  for (const extra of [`${prefix}unknown_proj.weight`, `${block0}attn.q_norm.weight`]) {
    const r = recognize({ ...ckpt, tensors: [...ckpt.tensors, fake(extra, [dim])] });
    assert.equal(r.spec, undefined, `${where}: ${extra} accepted`);
    assert.ok(r.summary.notAnalyzable?.includes(extra), `${where}: message does not name ${extra}: ${r.summary.notAnalyzable}`);
  }
}

test('never silently wrong: every zoo family refuses an unknown encoder tensor, naming it', async () => {
  const seen = new Set<string>();
  for (const e of zoo.models) {
    if (seen.has(e.family)) continue;
    seen.add(e.family);
    assertStrayRefused(await open(e), e.file);
  }
  assert.equal(seen.size, 11);
});

test('never silently wrong: the timm, DeiT, MAE, BEiT, SimMIM, HF ViT and torchvision layouts refuse one too', () => {
  const families = new Set<string>();
  for (const m of manifest.models) {
    if (!m.analyzable || !listing.files[m.file] || m.format === 'onnx' || m.family.startsWith('swin') || families.has(m.family)) continue;
    families.add(m.family);
    assertStrayRefused(ckptOf(m.file), m.file);
  }
  assert.ok(families.size >= 7, [...families].join(', '));
});

test('DINOv2 without its register tokens is a different model (1 special token, not 5)', async () => {
  const e = zoo.models.find((m) => m.file.endsWith('dinov2_vits14_reg4.pth'))!;
  const ckpt = await open(e);
  const reg = recognize(ckpt);
  assert.equal(reg.spec?.specialTokens, 5);
  assert.equal(reg.spec?.weights.registerTokens, 'register_tokens');
  const without = recognize({ ...ckpt, tensors: ckpt.tensors.filter((t) => t.name !== 'register_tokens') });
  assert.equal(without.spec?.specialTokens, 1);
});

test('CLIP: QuickGELU or GELU must be known; with nothing saying, the model is refused with the way out', async () => {
  const e = zoo.models.find((m) => m.file.endsWith('open_clip_pytorch_model.bin'))!;
  const bare = await openCheckpoint(join(FIX, e.file)); // no open_clip_config.json attached
  const r = recognize(bare);
  assert.equal(r.summary.family, 'clip');
  assert.equal(r.spec, undefined);
  assert.match(r.summary.notAnalyzable ?? '', /activation unknown.*open_clip_config\.json/);
  const named = recognize({ ...bare, file: join(FIX, 'zoo', 'ViT-B-32-quickgelu.bin') });
  assert.equal(named.spec?.activation, 'quick_gelu');
  const cfg = recognize({ ...bare, config: { open_clip_config: { model_cfg: { quick_gelu: true, vision_cfg: { width: 64, head_width: 32 } } } } });
  assert.equal(cfg.spec?.activation, 'quick_gelu');
  assert.equal(cfg.spec?.heads, 2);
});

test('HF CLIP: the vision config heads, not the text config heads; class defaults when a field is absent', async () => {
  const e = zoo.models.find((m) => m.family === 'hf-clip')!;
  const ckpt = await open(e);
  assert.equal(recognize(ckpt).summary.heads, 4);
  const cfg = { ...(ckpt.config ?? {}), vision_config: { hidden_size: 48 } };
  const r = recognize({ ...ckpt, config: cfg });
  // CLIPVisionConfig's default (12 heads) applies when the config does not write the field
  assert.equal(r.summary.heads, 12);
  assert.equal(r.summary.headsSource, 'config');
  assert.match(String(r.summary.details?.['headsNote']), /class default/);
  const siglip = zoo.models.find((m) => m.family === 'hf-siglip')!;
  const s = recognize(await open(siglip));
  assert.equal(s.spec?.activation, 'gelu_tanh');
  assert.equal(s.spec?.lnEps, 1e-6);
});

test('MoCo v3: heads from the arch the checkpoint names (vit_small: 12), an override still wins', async () => {
  const e = zoo.models.find((m) => m.family === 'mocov3' && !m.variant)!;
  const ckpt = await open(e);
  assert.equal(recognize(ckpt).summary.heads, 12);
  assert.equal(recognize(ckpt, { headsOverride: 6 }).summary.heads, 6);
  const noArch = recognize({ ...ckpt, extras: ckpt.extras.filter((x) => x.key !== 'arch') });
  assert.notEqual(noArch.summary.headsSource, 'checkpoint-args');
});

test('EVA-02 is named and refused with what is missing; an unknown layout lists the known families and the ONNX way out', () => {
  const base = ckptOf('models/vit_tiny_patch8_32.pth');
  const eva = recognize({ ...base, tensors: [...base.tensors, fake('blocks.0.attn.q_proj.weight', [48, 48]), fake('blocks.0.mlp.fc1_g.weight', [96, 48])] });
  assert.equal(eva.summary.family, 'eva02');
  assert.equal(eva.spec, undefined);
  assert.match(eva.summary.notAnalyzable ?? '', /RoPE.*SwiGLU.*sub-LayerNorm/);
  const cnn = recognize(ckptOf('models/tiny_cnn.pth'));
  assert.equal(cnn.summary.family, 'unknown');
  for (const re of [/DINOv2/, /CLIP/, /MoCo v3/, /torch\.onnx\.export\(.*opset_version=17/, /eager/]) assert.match(cnn.summary.notAnalyzable ?? '', re);
});
