// HuggingFace BEiT and Data2Vec-vision on the files makeZoo.py wrote (BeitForImageClassification as older
// transformers saved it, a bare Data2VecVisionModel as newer ones do): which family, where the heads, eps and
// activation come from, the buffers and heads that may or may not be there, and "never silently wrong": an
// unknown tensor under the encoder prefix is refused by name, the known-unused ones are not.
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

async function beit(): Promise<Checkpoint> {
  return attachSidecarConfig(await openCheckpoint(join(FIX, 'zoo', 'hf_beit', 'pytorch_model.bin')));
}
async function d2v(): Promise<Checkpoint> {
  return attachSidecarConfig(await openCheckpoint(join(FIX, 'zoo', 'hf_data2vec_vision', 'model.safetensors')));
}

test('HF BEiT: per-layer relative bias with its saved index, layer scale, config heads, class-default eps, sidecar normalisation', async () => {
  const r = recognize(await beit());
  assert.ok(r.spec, r.summary.notAnalyzable);
  assert.equal(r.summary.family, 'hf-beit');
  assert.equal(r.summary.details?.['prefix'], 'beit.');
  assert.equal(r.summary.headsSource, 'config');
  assert.equal(r.spec.lnEps, 1e-12);
  assert.equal(r.spec.activation, undefined);
  assert.deepEqual(r.spec.mean, [0.5, 0.5, 0.5]);
  assert.equal(r.spec.normalizationSource, 'config');
  const b0 = r.spec.weights.blocks[0]!;
  assert.equal(b0.relPosTable, 'beit.encoder.layer.0.attention.attention.relative_position_bias.relative_position_bias_table');
  assert.equal(b0.relPosIndex, 'beit.encoder.layer.0.attention.attention.relative_position_bias.relative_position_index');
  assert.equal(b0.gamma1, 'beit.encoder.layer.0.lambda_1');
  assert.equal(b0.kB, undefined);
  assert.equal(r.spec.weights.posEmbed, undefined);
  assert.deepEqual(r.spec.imageSize, [32, 32]);
});

test('HF Data2Vec-vision: bare model, absolute position embedding and shared bias, heads from the table, eps and gelu_new from the config', async () => {
  const r = recognize(await d2v());
  assert.ok(r.spec, r.summary.notAnalyzable);
  assert.equal(r.summary.family, 'hf-data2vec-vision');
  assert.equal(r.summary.details?.['prefix'], undefined);
  assert.equal(r.summary.heads, 12);
  assert.equal(r.summary.headsSource, 'weights');
  assert.equal(r.spec.lnEps, 1e-6);
  assert.equal(r.spec.activation, 'gelu_tanh');
  assert.equal(r.spec.normalizationSource, 'imagenet-default');
  assert.equal(r.spec.weights.sharedRelPosTable, 'encoder.relative_position_bias.relative_position_bias_table');
  assert.equal(r.spec.weights.sharedRelPosIndex, undefined);
  assert.equal(r.spec.weights.posEmbed, 'embeddings.position_embeddings');
  assert.equal(r.spec.weights.blocks[0]!.gamma1, undefined);
});

test('HF BEiT: without relative_position_index (newer transformers) it is the same model; without config.json the prefix names the family', async () => {
  const c = await beit();
  const noIdx = recognize(without(c, /relative_position_index$/));
  assert.ok(noIdx.spec, noIdx.summary.notAnalyzable);
  assert.equal(noIdx.spec.weights.blocks[0]!.relPosIndex, undefined);
  assert.deepEqual(noIdx.spec.imageSize, [32, 32]);
  // No config at all: heads from the bias table, eps and activation the class defaults, ImageNet normalisation.
  const bare = recognize({ ...c, config: undefined });
  assert.ok(bare.spec, bare.summary.notAnalyzable);
  assert.equal(bare.summary.family, 'hf-beit');
  assert.equal(bare.summary.heads, 4);
  assert.equal(bare.summary.headsSource, 'weights');
  assert.equal(bare.spec.lnEps, 1e-12);
  assert.equal(bare.spec.normalizationSource, 'imagenet-default');
  const asD2v = recognize({ ...c, config: undefined, tensors: c.tensors.map((t) => ({ ...t, name: t.name.replace(/^beit\./, 'data2vec_vision.') })) });
  assert.equal(asD2v.summary.family, 'hf-data2vec-vision');
  assert.ok(asD2v.spec, asD2v.summary.notAnalyzable);
});

test('HF BEiT / Data2Vec-vision never silently wrong: an unknown encoder tensor is refused by name; heads, pooler, mask token are not', async () => {
  for (const [c, P] of [[await beit(), 'beit.'], [await d2v(), '']] as const) {
    const dim = 48;
    for (const extra of [`${P}unknown_proj.weight`, `${P}encoder.layer.0.attention.attention.q_norm.weight`, `${P}encoder.layer.1.mlp_norm.weight`, `${P}embeddings.register_tokens`]) {
      const r = recognize(withExtra(c, fake(extra, [dim])));
      assert.equal(r.spec, undefined, `${extra} accepted`);
      assert.ok(r.summary.notAnalyzable?.includes(extra), `message does not name ${extra}: ${r.summary.notAnalyzable}`);
    }
    const known = [`${P}pooler.layernorm.weight`, `${P}layernorm.bias`, `${P}embeddings.mask_token`, `${P}lm_head.weight`, `${P}classifier.bias`];
    const ok = recognize(withExtra(c, ...known.map((n) => fake(n, [dim]))));
    assert.ok(ok.spec, `${P || '(bare)'}: ${ok.summary.notAnalyzable}`);
  }
  // Outside the `beit.` prefix: BeitForMaskedImageModeling's own layernorm and lm_head are not the encoder's.
  const mim = recognize(withExtra(await beit(), fake('layernorm.weight', [48]), fake('lm_head.weight', [10, 48])));
  assert.ok(mim.spec, mim.summary.notAnalyzable);
});

test('HF BEiT: what the graph would get wrong is refused with the reason', async () => {
  const c = await beit();
  const both = recognize(withExtra(c, fake('beit.encoder.relative_position_bias.relative_position_bias_table', [52, 4])));
  assert.match(both.summary.notAnalyzable ?? '', /shared and a per-layer relative position bias/);
  const heads = recognize({ ...c, config: { ...(c.config ?? {}), num_attention_heads: 6 } });
  assert.match(heads.summary.notAnalyzable ?? '', /config says 6 heads but .*relative_position_bias_table has 4/);
  const act = recognize({ ...c, config: { ...(c.config ?? {}), hidden_act: 'relu' } });
  assert.match(act.summary.notAnalyzable ?? '', /activation "relu"/);
  // With neither relative bias nor layer scale and a key bias, the forward is HF ViT's; the `beit.` prefix and
  // model_type still name it.
  const vit = recognize(withExtra(without(c, /(relative_position|lambda_)/), ...Array.from({ length: 2 }, (_, i) => fake(`beit.encoder.layer.${i}.attention.attention.key.bias`, [48]))));
  assert.equal(vit.summary.family, 'hf-beit', 'the beit. prefix and model_type still say BEiT');
});
