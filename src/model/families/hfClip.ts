// HuggingFace CLIPVisionModel / CLIPModel (vision tower under `vision_model.`): separate q/k/v projections,
// `embeddings.class_embedding` [D], `pre_layrnorm` (sic) before the blocks, QuickGELU and eps 1e-5 unless
// the vision config says otherwise; `visual_projection` and the text tower are outside the encoder.

import { hfVisionSettings, HF_VISION_DEFAULTS } from '../hfConfig';
import type { LayoutContext } from '../layoutContext';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft, type Draft } from '../layoutFamily';
import type { ModelFamily, VitBlockWeights } from '../modelTypes';
import { finishVit, type VitLayout } from '../vitLayout';
import { CLIP_MEAN, CLIP_STD } from './clip';

const KNOWN = [
  'layer_norm1.weight', 'layer_norm1.bias', 'layer_norm2.weight', 'layer_norm2.bias',
  'self_attn.q_proj.weight', 'self_attn.q_proj.bias', 'self_attn.k_proj.weight', 'self_attn.k_proj.bias',
  'self_attn.v_proj.weight', 'self_attn.v_proj.bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
  'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias',
];

/** Blocks of the HF CLIP / SigLIP encoder (`encoder.layers.N.`). */
export function hfClipBlocks(ctx: LayoutContext, blockHead: string): VitBlockWeights[] {
  const blocks: VitBlockWeights[] = [];
  const layers = ctx.countIndexed(blockHead);
  for (let i = 0; i < layers; i++) {
    const b = `${blockHead}${i}.`;
    const w: VitBlockWeights = {
      ln1W: `${b}layer_norm1.weight`, ln1B: `${b}layer_norm1.bias`,
      qW: `${b}self_attn.q_proj.weight`, kW: `${b}self_attn.k_proj.weight`, vW: `${b}self_attn.v_proj.weight`,
      projW: `${b}self_attn.out_proj.weight`, projB: `${b}self_attn.out_proj.bias`,
      ln2W: `${b}layer_norm2.weight`, ln2B: `${b}layer_norm2.bias`,
      fc1W: `${b}mlp.fc1.weight`, fc1B: `${b}mlp.fc1.bias`, fc2W: `${b}mlp.fc2.weight`, fc2B: `${b}mlp.fc2.bias`,
    };
    const qB = ctx.opt(`${b}self_attn.q_proj.bias`);
    const kB = ctx.opt(`${b}self_attn.k_proj.bias`);
    const vB = ctx.opt(`${b}self_attn.v_proj.bias`);
    if (qB) w.qB = qB;
    if (kB) w.kB = kB;
    if (vB) w.vB = vB;
    blocks.push(w);
  }
  return blocks;
}

/** Finishes an HF CLIP-style vision tower with the model_type's config defaults. */
export function finishHfTower(ctx: LayoutContext, family: ModelFamily, P: string, defaultsKey: string, layout: Omit<VitLayout, 'family' | 'prefix' | 'blockHead' | 'blocks' | 'known'>): Draft {
  const d = emptyDraft(family);
  const s = hfVisionSettings(ctx, HF_VISION_DEFAULTS[defaultsKey]!);
  const modelType = ctx.cfg.raw?.['model_type'];
  if (typeof modelType === 'string') d.details['modelType'] = modelType;
  d.details['hiddenAct'] = s.actName;
  const blockHead = `${P}encoder.layers.`;
  return finishVit(ctx, d, {
    ...layout, family, prefix: P, blockHead, blocks: hfClipBlocks(ctx, blockHead), known: KNOWN,
    familyHeads: s.heads, lnEps: s.lnEps, activation: s.act,
    refuse: s.act ? layout.refuse : `activation "${s.actName}" is not one Model Lens builds`,
  });
}

export const hfClipFamily: LayoutFamily = {
  label: 'HuggingFace CLIP',
  reads: 'weights',
  match(ctx) {
    const prefix = ctx.prefixesFor('embeddings.class_embedding').find((p) => ctx.get(`${p}encoder.layers.0.self_attn.q_proj.weight`) !== undefined);
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    const P = m.prefix;
    return finishHfTower(ctx, 'hf-clip', P, 'clip', {
      patchW: `${P}embeddings.patch_embedding.weight`, patchB: ctx.opt(`${P}embeddings.patch_embedding.bias`),
      clsToken: ctx.opt(`${P}embeddings.class_embedding`), posEmbed: ctx.opt(`${P}embeddings.position_embedding.weight`),
      preNormW: ctx.opt(`${P}pre_layrnorm.weight`), preNormB: ctx.opt(`${P}pre_layrnorm.bias`),
      unused: [/^post_layernorm\.(weight|bias)$/, /^embeddings\.position_ids$/], norm: { mean: CLIP_MEAN, std: CLIP_STD },
    });
  },
};
