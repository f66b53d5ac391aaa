// HuggingFace ViTModel / ViTForImageClassification (and ViTMAE / DeiT by model_type): separate
// query/key/value projections under `encoder.layer.N.`.

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

export const hfVitFamily: LayoutFamily = {
  label: 'HuggingFace ViT',
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
    const modelType = ctx.cfg.raw?.['model_type'];
    if (typeof modelType === 'string' && modelType !== 'vit' && modelType !== 'vit_mae' && modelType !== 'deit') {
      unsupported.push(`HF model_type "${modelType}"`);
    }
    if (typeof modelType === 'string') d.details['modelType'] = modelType;
    return finishVit(ctx, d, {
      family: 'hf-vit', prefix: P, blockHead, patchW: `${P}${ANCHOR}`, patchB: ctx.opt(`${P}embeddings.patch_embeddings.projection.bias`),
      clsToken: ctx.opt(`${P}embeddings.cls_token`), distToken: ctx.opt(`${P}embeddings.distillation_token`),
      posEmbed: ctx.opt(`${P}embeddings.position_embeddings`), blocks, known: KNOWN, unsupported,
      unused: [/^layernorm\.(weight|bias)$/, /^pooler\./, /^classifier\./, /^embeddings\.mask_token$/],
    });
  },
};
