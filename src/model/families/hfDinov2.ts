// HuggingFace Dinov2Model / Dinov2WithRegistersModel: `embeddings.cls_token`, `embeddings.register_tokens`
// [1, R, D] (inserted after the class token, without position embedding), blocks with `norm1`/`norm2`,
// separate query/key/value and LayerScale as `layer_scale1.lambda1` / `layer_scale2.lambda1`.

import { hfVisionSettings, HF_VISION_DEFAULTS } from '../hfConfig';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import type { VitBlockWeights } from '../modelTypes';
import { hfSelfAttention } from '../hfLayout';
import { finishVit } from '../vitLayout';

const ANCHOR = 'embeddings.patch_embeddings.projection.weight';
const KNOWN = [
  'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
  'attention.attention.query.weight', 'attention.attention.query.bias', 'attention.attention.key.weight', 'attention.attention.key.bias',
  'attention.attention.value.weight', 'attention.attention.value.bias', 'attention.output.dense.weight', 'attention.output.dense.bias',
  'layer_scale1.lambda1', 'layer_scale2.lambda1', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias',
];

export const hfDinov2Family: LayoutFamily = {
  label: 'HuggingFace DINOv2',
  reads: 'weights',
  match(ctx) {
    const prefix = ctx.prefixesFor(ANCHOR).find((p) => ctx.get(`${p}encoder.layer.0.norm1.weight`) !== undefined);
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
        ln1W: `${b}norm1.weight`, ln1B: `${b}norm1.bias`,
        ...hfSelfAttention(ctx, b),
        ln2W: `${b}norm2.weight`, ln2B: `${b}norm2.bias`,
        fc1W: `${b}mlp.fc1.weight`, fc1B: `${b}mlp.fc1.bias`, fc2W: `${b}mlp.fc2.weight`, fc2B: `${b}mlp.fc2.bias`,
      };
      const g1 = ctx.opt(`${b}layer_scale1.lambda1`);
      const g2 = ctx.opt(`${b}layer_scale2.lambda1`);
      if (g1) w.gamma1 = g1;
      if (g2) w.gamma2 = g2;
      blocks.push(w);
    }
    const d = emptyDraft('hf-dinov2');
    const s = hfVisionSettings(ctx, HF_VISION_DEFAULTS['dinov2']!);
    const modelType = ctx.cfg.raw?.['model_type'];
    if (typeof modelType === 'string') d.details['modelType'] = modelType;
    return finishVit(ctx, d, {
      family: 'hf-dinov2', prefix: P, blockHead, blocks, known: KNOWN,
      patchW: `${P}${ANCHOR}`, patchB: ctx.opt(`${P}embeddings.patch_embeddings.projection.bias`),
      clsToken: ctx.opt(`${P}embeddings.cls_token`), posEmbed: ctx.opt(`${P}embeddings.position_embeddings`),
      registerTokens: ctx.opt(`${P}embeddings.register_tokens`),
      unused: [/^layernorm\.(weight|bias)$/, /^embeddings\.mask_token$/, /^classifier\./],
      familyHeads: s.heads, lnEps: s.lnEps, activation: s.act,
      refuse: s.act ? undefined : `activation "${s.actName}" is not one Model Lens builds`,
    });
  },
};
