// HuggingFace ViT, DeiT and ViTMAE: ViTModel / ViTForImageClassification / ViTForMaskedImageModeling (`vit.`),
// DeiTModel / DeiTForImageClassification(WithTeacher) / DeiTForMaskedImageModeling (`deit.`), ViTMAEModel /
// ViTMAEForPreTraining (`vit.`, the decoder under `decoder.` outside the encoder), or no prefix for the bare
// model. One encoder layout: separate query/key/value projections under `encoder.layer.N.`. DeiT adds a
// distillation token after the class token, both covered by the position embedding [1, N + 2, D]. ViTMAE's
// sin-cos position embedding is a saved parameter; its random masking is a pretraining device, so the
// analysis runs the encoder over every patch in natural order (what mask_ratio 0 computes, up to token order).

import { hfVisionSettings, HF_VISION_DEFAULTS } from '../hfConfig';
import type { FamilyHeads } from '../heads';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import type { VitBlockWeights } from '../modelTypes';
import { hfSelfAttention } from '../hfLayout';
import { finishVit } from '../vitLayout';

const ANCHOR = 'embeddings.patch_embeddings.projection.weight';

const KNOWN = [
  'layernorm_before.weight', 'layernorm_before.bias', 'attention.attention.query.weight', 'attention.attention.query.bias',
  'attention.attention.key.weight', 'attention.attention.key.bias', 'attention.attention.value.weight',
  'attention.attention.value.bias', 'attention.output.dense.weight', 'attention.output.dense.bias',
  'layernorm_after.weight', 'layernorm_after.bias', 'intermediate.dense.weight', 'intermediate.dense.bias',
  'output.dense.weight', 'output.dense.bias',
];

/**
 * Under the encoder prefix, what no analysed number depends on: the final LayerNorm, ViTModel's / DeiTModel's
 * pooler (a dense layer on the class token), the mask token of masked image modelling. The heads
 * (`classifier`, DeiT's `cls_classifier` / `distillation_classifier`) and decoders (`decoder.`) sit outside
 * the prefix of every class that has them.
 */
const UNUSED: readonly RegExp[] = [/^layernorm\.(weight|bias)$/, /^pooler\.dense\.(weight|bias)$/, /^embeddings\.mask_token$/];

const MODEL_TYPES = ['vit', 'deit', 'vit_mae'];

export const hfVitFamily: LayoutFamily = {
  label: 'HuggingFace ViT / DeiT / ViTMAE',
  reads: 'weights',
  match(ctx) {
    const prefix = ctx.prefixesFor(ANCHOR).find((p) => ctx.countIndexed(`${p}encoder.layer.`) > 0);
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    const P = m.prefix;
    const blockHead = `${P}encoder.layer.`;
    const layers = ctx.countIndexed(blockHead);
    const blocks: VitBlockWeights[] = [];
    for (let i = 0; i < layers; i++) {
      const b = `${blockHead}${i}.`;
      const w: VitBlockWeights = {
        ln1W: `${b}layernorm_before.weight`, ln1B: `${b}layernorm_before.bias`,
        ...hfSelfAttention(ctx, b),
        ln2W: `${b}layernorm_after.weight`, ln2B: `${b}layernorm_after.bias`,
        fc1W: `${b}intermediate.dense.weight`, fc1B: `${b}intermediate.dense.bias`,
        fc2W: `${b}output.dense.weight`, fc2B: `${b}output.dense.bias`,
      };
      blocks.push(w);
    }
    const d = emptyDraft('hf-vit');
    const unsupported: string[] = [];
    const raw = ctx.cfg.raw;
    const mt = raw?.['model_type'];
    const modelType = typeof mt === 'string' ? mt : undefined;
    if (modelType !== undefined) {
      d.details['modelType'] = modelType;
      if (!MODEL_TYPES.includes(modelType)) unsupported.push(`HF model_type "${modelType}"`);
    }
    // A HF config.json leaves out what equals its class default, so an absent field is ViTConfig's / DeiTConfig's /
    // ViTMAEConfig's value (all three: 12 heads, eps 1e-12, gelu), never a guess from the width. Without a HF
    // config (bare weights) the generic search of names and shapes applies.
    let familyHeads: FamilyHeads | undefined;
    let eps: number | undefined;
    let refuse: string | undefined;
    let activation: ReturnType<typeof hfVisionSettings>['act'];
    if (raw && ctx.cfg.isHf) {
      const s = hfVisionSettings(ctx, HF_VISION_DEFAULTS[modelType !== undefined && MODEL_TYPES.includes(modelType) ? modelType : 'vit']!);
      familyHeads = s.heads;
      eps = s.lnEps;
      activation = s.act;
      d.details['hiddenAct'] = s.actName;
      if (!s.act) refuse = `activation "${s.actName}" is not one Model Lens builds`;
    }
    const posEmbed = ctx.opt(`${P}embeddings.position_embeddings`);
    // Every one of these classes adds an absolute position embedding (ViTMAE's fixed sin-cos one is saved too);
    // running without it would compute another model.
    if (!posEmbed) refuse ??= `${P}embeddings.position_embeddings is missing: HF ViT, DeiT and ViTMAE encoders always add one`;
    if (modelType === 'vit_mae') {
      const r = raw?.['mask_ratio'];
      d.details['masking'] = `none: the encoder runs over every patch${typeof r === 'number' ? ` (mask_ratio ${r} applies to pretraining only)` : ''}`;
    }
    return finishVit(ctx, d, {
      family: 'hf-vit', prefix: P, blockHead, patchW: `${P}${ANCHOR}`, patchB: ctx.opt(`${P}embeddings.patch_embeddings.projection.bias`),
      clsToken: ctx.opt(`${P}embeddings.cls_token`), distToken: ctx.opt(`${P}embeddings.distillation_token`),
      posEmbed, blocks, known: KNOWN, unsupported, refuse,
      unused: UNUSED, familyHeads, lnEps: eps, activation,
    });
  },
};
