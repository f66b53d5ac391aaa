// HuggingFace SigLIP / SigLIP 2 (fixed resolution) vision towers (`vision_model.`): no class token (S = 0),
// a patch-only position embedding, tanh-GELU and eps 1e-6 by default; the attention-pooling `head` and
// `post_layernorm` are not analysed blocks. Input normalisation 0.5 / 0.5.

import type { LayoutFamily } from '../layoutFamily';
import { finishHfTower } from './hfClip';

export const hfSiglipFamily: LayoutFamily = {
  label: 'HuggingFace SigLIP',
  reads: 'weights',
  match(ctx) {
    const prefix = ctx.prefixesFor('embeddings.patch_embedding.weight')
      .find((p) => ctx.get(`${p}encoder.layers.0.self_attn.q_proj.weight`) !== undefined && ctx.get(`${p}embeddings.class_embedding`) === undefined);
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    const P = m.prefix;
    const pw = ctx.shape(`${P}embeddings.patch_embedding.weight`);
    return finishHfTower(ctx, 'hf-siglip', P, 'siglip', {
      patchW: `${P}embeddings.patch_embedding.weight`, patchB: ctx.opt(`${P}embeddings.patch_embedding.bias`),
      posEmbed: ctx.opt(`${P}embeddings.position_embedding.weight`), posPatchesOnly: true,
      unused: [/^post_layernorm\.(weight|bias)$/, /^head\./, /^embeddings\.position_ids$/],
      norm: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      refuse: pw && pw.length === 2 ? 'SigLIP 2 NaFlex (patch embedding as a linear layer over variable-size patch sequences) is not supported yet' : undefined,
    });
  },
};
