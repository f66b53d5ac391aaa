// Architecture recognition against the fixture manifest (expected summaries written by makeFixtures.py from
// the models it built) using the tensor listing torch saw, so these tests do not depend on the readers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recognize } from '../../src/model/recognize';
import { headsFromModelName } from '../../src/model/heads';
import { attachSidecarConfig, loadSidecarConfig } from '../../src/model/sidecarConfig';
import type { Checkpoint, DType, TensorInfo } from '../../src/formats/checkpoint';
import { FIX, checkAgainstManifest, ckptOf, listing, manifest, tensors } from './archManifest';

test('every manifest model with a tensor listing is recognized as expected', () => {
  let n = 0;
  for (const e of manifest.models) {
    if (!listing.files[e.file]) continue;
    checkAgainstManifest(e, ckptOf(e.file));
    n++;
  }
  assert.ok(n >= 12, `only ${n} fixtures checked`);
});

test('tensor order and the dim of fp16/bf16 copies do not change recognition', () => {
  const e = manifest.models.find((m) => m.file === 'models/vit_tiny_patch8_32.bf16.safetensors');
  assert.ok(e);
  const c = ckptOf(e.file);
  checkAgainstManifest(e, { ...c, tensors: [...c.tensors].reverse() });
});

test('container prefixes (module., backbone.) are seen through', () => {
  const e = manifest.models.find((m) => m.file === 'models/deit3_small_patch8_32_ls.pth');
  assert.ok(e);
  for (const p of ['module.', 'backbone.', 'model.encoder.']) {
    const c = ckptOf(e.file);
    const r = recognize({ ...c, tensors: c.tensors.map((t) => ({ ...t, name: p + t.name })) });
    assert.equal(r.summary.family, 'deit');
    assert.ok(r.spec, r.summary.notAnalyzable);
    assert.equal(r.spec.weights.patchW, `${p}patch_embed.proj.weight`);
    assert.equal(r.summary.details?.['prefix'], p);
  }
});

test('heads: override wins, must divide dim; dim/64; unknown', () => {
  const noHeads = ckptOf('models/vit_d40_noheads.safetensors');
  const a = recognize(noHeads);
  assert.equal(a.summary.heads, null);
  assert.equal(a.summary.headsSource, 'unknown');
  assert.match(a.summary.notAnalyzable ?? '', /heads/);
  const b = recognize(noHeads, { headsOverride: 2 });
  assert.equal(b.summary.heads, 2);
  assert.equal(b.summary.headsSource, 'override');
  assert.equal(b.spec?.heads, 2);
  // safetensors __metadata__ (a string map) may state the head count
  const meta = recognize({ ...noHeads, metadata: { num_heads: '4' } });
  assert.equal(meta.summary.heads, 4);
  assert.equal(meta.summary.headsSource, 'checkpoint-args');
  assert.equal(recognize({ ...noHeads, metadata: { num_heads: 'four' } }).summary.heads, null);
  const c = recognize(noHeads, { headsOverride: 3 });
  assert.equal(c.spec, undefined);
  assert.match(c.summary.notAnalyzable ?? '', /does not divide/);
  // an override that contradicts a recorded count (weights, config) is refused unless the user confirms it
  const beitRefused = recognize(ckptOf('models/beit_p8_32.pth'), { headsOverride: 2 });
  assert.equal(beitRefused.spec, undefined);
  assert.match(beitRefused.summary.notAnalyzable ?? '', /override 2 contradicts the 4 heads .*--heads-force/);
  const beit = recognize(ckptOf('models/beit_p8_32.pth'), { headsOverride: 2, headsForce: true });
  assert.equal(beit.summary.heads, 2);
  assert.equal(beit.summary.headsSource, 'override');
  assert.equal(beit.summary.details?.['headsInWeights'], 4);
  assert.equal(recognize(ckptOf('models/beit_p8_32.pth'), { headsOverride: 4 }).spec?.heads, 4, 'an override that agrees needs no confirmation');
  const hfCkpt = ckptOf('models/hf_vit_p14/model.safetensors', { config: { num_attention_heads: 4 } });
  assert.equal(recognize(hfCkpt, { headsOverride: 8 }).spec, undefined);
  assert.equal(recognize(hfCkpt, { headsOverride: 8, headsForce: true }).spec?.heads, 8);
  // a guess (dim/64, model name) is not a recorded count: overriding it needs no confirmation
  assert.equal(recognize(ckptOf('models/torchvision_vit_d128.pth'), { headsOverride: 4 }).spec?.heads, 4);
  // the torchvision fixture has no name and no config: dim 128 → 2 heads by convention
  const tv = recognize(ckptOf('models/torchvision_vit_d128.pth'));
  assert.equal(tv.summary.headsSource, 'dim/64');
  assert.equal(tv.summary.heads, 2);
  // a model name in args beats dim/64; a name whose heads do not divide dim is skipped with a note
  const named = recognize(ckptOf('models/torchvision_vit_d128.pth', { config: { args: { model: 'vit_l_16' } } }));
  assert.equal(named.summary.heads, 16);
  assert.equal(named.summary.headsSource, 'model-name');
  const badName = recognize(ckptOf('models/torchvision_vit_d128.pth', { config: { args: { model: 'vit_tiny_patch16_224' } } }));
  assert.equal(badName.summary.headsSource, 'dim/64');
  assert.ok(Array.isArray(badName.summary.details?.['headsNotes']));
  // args rendered only as text (extras) still give the name and explicit heads
  const extra = recognize(ckptOf('models/torchvision_vit_d128.pth', { extras: [{ key: 'args', value: "Namespace(model='deit_base_patch16_224', num_heads=8)" }] }));
  assert.equal(extra.summary.heads, 8);
  assert.equal(extra.summary.headsSource, 'checkpoint-args');
});

function syntheticVit(d: number, file: string, extra: Partial<Checkpoint> = {}): Checkpoint {
  const list: Array<[string, DType, number[]]> = [
    ['cls_token', 'F32', [1, 1, d]], ['pos_embed', 'F32', [1, 197, d]], ['patch_embed.proj.weight', 'F32', [d, 3, 16, 16]],
    ['patch_embed.proj.bias', 'F32', [d]],
    ['blocks.0.norm1.weight', 'F32', [d]], ['blocks.0.norm1.bias', 'F32', [d]], ['blocks.0.attn.qkv.weight', 'F32', [3 * d, d]],
    ['blocks.0.attn.qkv.bias', 'F32', [3 * d]], ['blocks.0.attn.proj.weight', 'F32', [d, d]], ['blocks.0.attn.proj.bias', 'F32', [d]],
    ['blocks.0.norm2.weight', 'F32', [d]], ['blocks.0.norm2.bias', 'F32', [d]], ['blocks.0.mlp.fc1.weight', 'F32', [4 * d, d]],
    ['blocks.0.mlp.fc1.bias', 'F32', [4 * d]], ['blocks.0.mlp.fc2.weight', 'F32', [d, 4 * d]], ['blocks.0.mlp.fc2.bias', 'F32', [d]],
  ];
  return { file, format: 'pytorch-zip', sizeBytes: 0, tensors: tensors(list), metadata: {}, extras: [], findings: [], variants: [], ...extra };
}

test('model-name rule is not believed against a standard width', () => {
  // a ViT-B (768) saved as "..._large_..." is still 12 heads; ViT-H (1280) needs the name (dim/64 would say 20)
  const b = recognize(syntheticVit(768, '/w/finetune_large_lr.pth'));
  assert.equal(b.summary.heads, 12);
  assert.equal(b.summary.headsSource, 'dim/64');
  assert.match(String(b.summary.details?.['headsNotes']), /standard width/);
  const h = recognize(syntheticVit(1280, '/w/vit_huge_patch16_224.pth'));
  assert.equal(h.summary.heads, 16);
  assert.equal(h.summary.headsSource, 'model-name');
  assert.deepEqual(h.summary.imageSize, [224, 224]);
  assert.equal(h.summary.params, 1280 * (1 + 197 + 3 * 256 + 1) + 12 * 1280 * 1280 + 13 * 1280);
  const h2 = recognize(syntheticVit(1280, '/w/model.safetensors'));
  assert.equal(h2.summary.headsSource, 'dim/64');
  assert.equal(h2.summary.heads, 20);
  // generic file names fall back to the folder name
  const f = recognize(syntheticVit(1280, '/w/vit-huge-14/pytorch_model.bin'));
  assert.equal(f.summary.heads, 16);
});

test('model-name rule', () => {
  const cases: Array<[string, number | undefined]> = [
    ['vit_base_patch16_224', 12], ['deit_small_distilled_patch16_224', 6], ['mae_vit_large_patch16', 16],
    ['vit_huge_patch14_224_in21k', 16], ['vit_tiny_patch16_224.augreg_in21k', 3], ['vit_b_16', 12], ['ViT-L/14', 16],
    ['vit_g_14', 16], ['beit_base_patch16_224_pt22k', 12], ['google/vit-base-patch16-224', 12],
    ['torchvision_vit_d128', undefined], ['simmim_vit_p8_32', undefined], ['database_vit', undefined], ['vitals', undefined],
  ];
  for (const [name, heads] of cases) assert.equal(headsFromModelName(name)?.heads, heads, name);
});

test('image size: config disambiguates a rectangular grid; otherwise not analyzable with a reason', () => {
  // 4x8 patches of 8 px with a CLS token: 33 tokens
  const d = 64;
  const base: TensorInfo[] = tensors([
    ['cls_token', 'F32', [1, 1, d]], ['pos_embed', 'F32', [1, 33, d]], ['patch_embed.proj.weight', 'F32', [d, 3, 8, 8]],
    ['patch_embed.proj.bias', 'F32', [d]],
    ['blocks.0.norm1.weight', 'F32', [d]], ['blocks.0.norm1.bias', 'F32', [d]], ['blocks.0.attn.qkv.weight', 'F32', [3 * d, d]],
    ['blocks.0.attn.qkv.bias', 'F32', [3 * d]], ['blocks.0.attn.proj.weight', 'F32', [d, d]], ['blocks.0.attn.proj.bias', 'F32', [d]],
    ['blocks.0.norm2.weight', 'F32', [d]], ['blocks.0.norm2.bias', 'F32', [d]], ['blocks.0.mlp.fc1.weight', 'F32', [2 * d, d]],
    ['blocks.0.mlp.fc1.bias', 'F32', [2 * d]], ['blocks.0.mlp.fc2.weight', 'F32', [d, 2 * d]], ['blocks.0.mlp.fc2.bias', 'F32', [d]],
  ]);
  const c: Checkpoint = { file: '/x/rect.pth', format: 'pytorch-zip', sizeBytes: 0, tensors: base, metadata: {}, extras: [], findings: [], variants: [] };
  const a = recognize(c);
  assert.equal(a.summary.imageSize, null);
  assert.equal(a.spec, undefined);
  assert.match(a.summary.notAnalyzable ?? '', /square grid/);
  const b = recognize({ ...c, config: { args: { input_size: [3, 32, 64] } } });
  assert.deepEqual(b.summary.imageSize, [32, 64]);
  assert.deepEqual(b.spec?.imageSize, [32, 64]);
  assert.equal(b.summary.headsSource, 'dim/64');
  // an extra unexplained block tensor (qk-norm) makes it not analyzable, saying why
  const q = recognize({ ...c, config: { img_size: [32, 64] }, tensors: [...base, ...tensors([['blocks.0.attn.q_norm.weight', 'F32', [64]]])] });
  assert.equal(q.spec, undefined);
  assert.match(q.summary.notAnalyzable ?? '', /q_norm/);
  // a wrong shape is reported by name
  const bad = recognize({ ...c, config: { img_size: [32, 64] }, tensors: base.map((t) => (t.name === 'blocks.0.attn.proj.weight' ? { ...t, shape: [64, 32] } : t)) });
  assert.match(bad.summary.notAnalyzable ?? '', /blocks\.0\.attn\.proj\.weight has shape \[64, 32\]/);
});

test('torchvision: older mlp.linear_1/linear_2 names', () => {
  const c = ckptOf('models/torchvision_vit_d128.pth');
  const renamed = c.tensors.map((t) => ({ ...t, name: t.name.replace('mlp.0.', 'mlp.linear_1.').replace('mlp.3.', 'mlp.linear_2.') }));
  const r = recognize({ ...c, tensors: renamed });
  assert.ok(r.spec, r.summary.notAnalyzable);
  assert.equal(r.spec.weights.blocks[1]?.fc2W, 'encoder.layers.encoder_layer_1.mlp.linear_2.weight');
  assert.equal(r.spec.weights.blocks[0]?.qkvW, 'encoder.layers.encoder_layer_0.self_attention.in_proj_weight');
});

test('BEiT and SimMIM: q/v bias without k, relative position tables, mean/std and eps from config', () => {
  const beit = recognize(ckptOf('models/beit_p8_32.pth'));
  const b0 = beit.spec?.weights.blocks[0];
  assert.ok(b0);
  assert.equal(b0.qkvB, undefined);
  assert.equal(b0.kB, undefined);
  assert.equal(b0.qB, 'blocks.0.attn.q_bias');
  assert.equal(b0.relPosIndex, 'blocks.0.attn.relative_position_index');
  assert.equal(beit.spec?.normalizationSource, 'imagenet-default');
  const sim = recognize(ckptOf('models/simmim_vit_p8_32.pth'));
  assert.equal(sim.spec?.weights.sharedRelPosTable, 'encoder.rel_pos_bias.relative_position_bias_table');
  assert.equal(sim.spec?.weights.clsToken, 'encoder.cls_token');
  const hf = recognize(ckptOf('models/hf_vit_p14/model.safetensors'));
  assert.equal(hf.spec?.lnEpsSource, 'config');
  assert.equal(hf.spec?.normalizationSource, 'config');
  assert.equal(hf.spec?.weights.blocks[1]?.kB, 'vit.encoder.layer.1.attention.attention.key.bias');
});

test('unknown architecture still gets params and dtypes', () => {
  const r = recognize(ckptOf('models/tiny_cnn.pth'));
  assert.equal(r.summary.family, 'unknown');
  assert.equal(r.spec, undefined);
  assert.equal(r.summary.params, 338);
  assert.deepEqual(r.summary.dtypes, { F32: 7, I64: 1 });
  const empty = recognize({ file: '/e.safetensors', format: 'safetensors', sizeBytes: 8, tensors: [], metadata: {}, extras: [], findings: [], variants: [] });
  assert.equal(empty.summary.family, 'unknown');
  assert.equal(empty.summary.params, 0);
});

test('ONNX: layers from Softmax count; fused attention says how to re-export', () => {
  const base: Checkpoint = { file: '/m.onnx', format: 'onnx', sizeBytes: 0, tensors: [], metadata: {}, extras: [], findings: [], variants: [] };
  const onnx = { irVersion: 8, opsets: [], producer: 'pytorch', inputs: [], outputs: [], nodeCount: 10 };
  const a = recognize({ ...base, onnx: { ...onnx, opCounts: { Softmax: 12, MatMul: 48 } } });
  assert.equal(a.summary.family, 'onnx-graph');
  assert.equal(a.summary.layers, 12);
  assert.equal(a.summary.notAnalyzable, undefined);
  const b = recognize({ ...base, onnx: { ...onnx, opCounts: { Attention: 12 } } });
  assert.match(b.summary.notAnalyzable ?? '', /fused.*eager/);
});

test('sidecar config: HF config.json + preprocessor mean/std; other JSON ignored', async () => {
  const hfFile = join(FIX, 'models', 'hf_vit_p14', 'model.safetensors');
  const cfg = await loadSidecarConfig(hfFile);
  assert.equal(cfg?.['num_attention_heads'], 4);
  assert.deepEqual(cfg?.['image_mean'], [0.5, 0.5, 0.5]);
  const c = ckptOf('models/hf_vit_p14/model.safetensors');
  delete c.config;
  const bare = recognize(c);
  assert.equal(bare.summary.headsSource, 'unknown'); // dim 48 and no name: the config is the only source
  assert.equal(bare.spec, undefined);
  const withCfg = recognize(await attachSidecarConfig(c));
  assert.equal(withCfg.summary.heads, 4);
  assert.equal(withCfg.summary.headsSource, 'config');
  assert.deepEqual(withCfg.spec?.mean, [0.5, 0.5, 0.5]);
  assert.equal(withCfg.spec?.lnEps, 1e-12);
  const dir = mkdtempSync(join(tmpdir(), 'ml-arch-'));
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ lr: 0.1, epochs: 3 }));
    assert.equal(await loadSidecarConfig(join(dir, 'w.safetensors')), undefined);
    writeFileSync(join(dir, 'config.json'), '{"hidden_size": 64, "num_attention_heads": ');
    assert.equal(await loadSidecarConfig(join(dir, 'w.safetensors')), undefined);
    assert.equal(await loadSidecarConfig(join(dir, 'nothing', 'w.safetensors')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HF ViTModel (no vit. prefix, pooler instead of classifier) and qkv_bias=false', () => {
  const c = ckptOf('models/hf_vit_p14/model.safetensors');
  const base = c.tensors.filter((t) => !t.name.startsWith('classifier.')).map((t) => ({ ...t, name: t.name.replace(/^vit\./, '') }));
  const pooler = tensors([['pooler.dense.weight', 'F32', [48, 48]], ['pooler.dense.bias', 'F32', [48]]]);
  const r = recognize({ ...c, tensors: [...base, ...pooler] });
  assert.equal(r.summary.family, 'hf-vit');
  assert.ok(r.spec, r.summary.notAnalyzable);
  assert.equal(r.spec.weights.clsToken, 'embeddings.cls_token');
  assert.equal(r.spec.weights.blocks[0]?.qB, 'encoder.layer.0.attention.attention.query.bias');
  const noBias = recognize({ ...c, tensors: base.filter((t) => !/attention\.attention\.(query|key|value)\.bias$/.test(t.name)), config: { ...c.config, qkv_bias: false } });
  assert.ok(noBias.spec, noBias.summary.notAnalyzable);
  assert.equal(noBias.spec.weights.blocks[0]?.qB, undefined);
  assert.equal(noBias.summary.details?.['qkvBias'], false);
  // a different HF model type with the same embedding names is recognized but not claimed analyzable
  const dino = recognize({ ...c, config: { ...c.config, model_type: 'dinov2' } });
  assert.match(dino.summary.notAnalyzable ?? '', /dinov2/);
});
