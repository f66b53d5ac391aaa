// HuggingFace DeiT (DeiTForImageClassificationWithTeacher) and ViTMAE (ViTMAEForPreTraining) on the files
// makeZoo.py wrote, read by the HF ViT layout: the distillation token, the class defaults of fields config.json
// leaves out, the config fields of pretraining that must not be read as the encoder's, and "never silently
// wrong": an unknown tensor under the encoder prefix is refused by name, the known-unused ones are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import type { Checkpoint, TensorInfo } from '../../src/formats/checkpoint';
import { recognize } from '../../src/model/recognize';
import { attachSidecarConfig } from '../../src/model/sidecarConfig';
import { FIX } from './archManifest';

const fake = (name: string, shape: number[]): TensorInfo => ({ name, dtype: 'F32', shape, location: { file: 'x', offset: 0, length: 0 } });
const withExtra = (c: Checkpoint, ...extra: TensorInfo[]): Checkpoint => ({ ...c, tensors: [...c.tensors, ...extra] });
const without = (c: Checkpoint, re: RegExp): Checkpoint => ({ ...c, tensors: c.tensors.filter((t) => !re.test(t.name)) });
const withConfig = (c: Checkpoint, over: Record<string, unknown>): Checkpoint => ({ ...c, config: { ...(c.config ?? {}), ...over } });

async function deit(): Promise<Checkpoint> {
  return attachSidecarConfig(await openCheckpoint(join(FIX, 'zoo', 'hf_deit_distilled', 'model.safetensors')));
}
async function mae(): Promise<Checkpoint> {
  return attachSidecarConfig(await openCheckpoint(join(FIX, 'zoo', 'hf_vit_mae', 'pytorch_model.bin')));
}

test('HF DeiT distilled: class and distillation tokens, DeiTConfig defaults for the fields config.json leaves out, sidecar normalisation', async () => {
  const r = recognize(await deit());
  assert.ok(r.spec, r.summary.notAnalyzable);
  assert.equal(r.summary.family, 'hf-vit');
  assert.equal(r.summary.details?.['modelType'], 'deit');
  assert.equal(r.summary.details?.['prefix'], 'deit.');
  // 12 heads of dim 4: neither dim/64 nor a model name would say so; DeiTConfig's default does.
  assert.equal(r.summary.heads, 12);
  assert.equal(r.summary.headsSource, 'config');
  assert.match(String(r.summary.details?.['headsNote']), /class default/);
  assert.equal(r.spec.specialTokens, 2);
  assert.equal(r.spec.weights.clsToken, 'deit.embeddings.cls_token');
  assert.equal(r.spec.weights.distToken, 'deit.embeddings.distillation_token');
  assert.equal(r.spec.weights.posEmbed, 'deit.embeddings.position_embeddings');
  assert.deepEqual(r.spec.imageSize, [32, 32]);
  assert.equal(r.spec.lnEps, 1e-12);
  assert.equal(r.spec.activation, undefined);
  assert.equal(r.summary.details?.['hiddenAct'], 'gelu');
  assert.equal(r.spec.normalizationSource, 'config');
  assert.deepEqual(r.spec.mean, [0.485, 0.456, 0.406]);
});

test('HF ViTMAE for pretraining: the encoder under vit., its saved sin-cos position embedding, decoder sizes and mask_ratio not read as the encoder\'s', async () => {
  const c = await mae();
  assert.ok(c.tensors.some((t) => t.name.startsWith('decoder.decoder_layers.0.')), 'the fixture holds the decoder');
  const r = recognize(c);
  assert.ok(r.spec, r.summary.notAnalyzable);
  assert.equal(r.summary.family, 'hf-vit');
  assert.equal(r.summary.details?.['modelType'], 'vit_mae');
  assert.equal(r.summary.details?.['prefix'], 'vit.');
  assert.equal(r.summary.layers, 2, 'decoder layers are not encoder layers');
  assert.equal(r.summary.heads, 4, 'num_attention_heads, not decoder_num_attention_heads (8)');
  assert.equal(r.spec.mlpDim, 96);
  assert.equal(r.spec.specialTokens, 1);
  assert.equal(r.spec.weights.posEmbed, 'vit.embeddings.position_embeddings');
  assert.equal(r.spec.weights.distToken, undefined);
  assert.match(String(r.summary.details?.['masking']), /every patch \(mask_ratio 0\.75 applies to pretraining only\)/);
  // The bare ViTMAEModel (what the `vit.` submodule saves alone) is the same encoder.
  const bare = recognize({ ...c, tensors: c.tensors.filter((t) => t.name.startsWith('vit.')).map((t) => ({ ...t, name: t.name.slice(4) })) });
  assert.ok(bare.spec, bare.summary.notAnalyzable);
  assert.equal(bare.summary.details?.['prefix'], undefined);
  assert.equal(bare.summary.heads, 4);
});

test('HF ViT layout: hidden_act and layer_norm_eps from the config; an activation Model Lens does not build is refused; without config the generic search applies', async () => {
  const c = await mae();
  const tanh = recognize(withConfig(c, { hidden_act: 'gelu_new', layer_norm_eps: 1e-6 }));
  assert.equal(tanh.spec?.activation, 'gelu_tanh');
  assert.equal(tanh.spec?.lnEps, 1e-6);
  const relu = recognize(withConfig(c, { hidden_act: 'relu' }));
  assert.equal(relu.spec, undefined);
  assert.match(relu.summary.notAnalyzable ?? '', /activation "relu"/);
  // ViTMAEConfig's 12 heads when the config does not write num_attention_heads; they divide 48.
  const noHeads = recognize({ ...c, config: Object.fromEntries(Object.entries(c.config ?? {}).filter(([k]) => k !== 'num_attention_heads')) });
  assert.equal(noHeads.summary.heads, 12);
  assert.match(String(noHeads.summary.details?.['headsNote']), /class default/);
  const other = recognize(withConfig(c, { model_type: 'vit_msn' }));
  assert.match(other.summary.notAnalyzable ?? '', /model_type "vit_msn"/);
  // No config.json: the generic search (here nothing names the heads and 48 is not a multiple of 64).
  const bare = recognize({ ...(await deit()), config: undefined });
  assert.equal(bare.spec, undefined);
  assert.match(bare.summary.notAnalyzable ?? '', /number of heads unknown/);
  assert.equal(recognize({ ...(await deit()), config: undefined }, { headsOverride: 12 }).spec?.lnEps, 1e-12);
});

test('HF DeiT / ViTMAE never silently wrong: an unknown encoder tensor is refused by name; pooler, final norm, mask token, heads and decoder are not', async () => {
  for (const [c, P] of [[await deit(), 'deit.'], [await mae(), 'vit.']] as const) {
    for (const extra of [`${P}unknown_proj.weight`, `${P}encoder.layer.0.attention.attention.q_norm.weight`, `${P}encoder.layer.1.mlp_norm.weight`,
      `${P}embeddings.register_tokens`, `${P}pooler.layernorm.weight`]) {
      const r = recognize(withExtra(c, fake(extra, [48])));
      assert.equal(r.spec, undefined, `${extra} accepted`);
      assert.ok(r.summary.notAnalyzable?.includes(extra), `message does not name ${extra}: ${r.summary.notAnalyzable}`);
    }
    const known = [`${P}pooler.dense.weight`, `${P}pooler.dense.bias`, `${P}layernorm.weight`, `${P}embeddings.mask_token`,
      'classifier.weight', 'cls_classifier.bias', 'distillation_classifier.weight', 'decoder.0.weight', 'decoder.decoder_pred.bias'];
    const ok = recognize(withExtra(c, ...known.map((n) => fake(n, [48]))));
    assert.ok(ok.spec, `${P}: ${ok.summary.notAnalyzable}`);
  }
  // Without the saved position embedding the encoder would run without one: refused, not guessed.
  const noPos = recognize(without(await mae(), /^vit\.embeddings\.position_embeddings$/));
  assert.equal(noPos.spec, undefined);
  assert.match(noPos.summary.notAnalyzable ?? '', /vit\.embeddings\.position_embeddings is missing/);
});
