// DeiT III as facebookresearch/deit saves it (models_v2.py): LayerScale as `blocks.N.gamma_1`/`gamma_2`
// with plain timm attention (no q/v bias, no relative position bias), and a position embedding without a
// class-token slot, added to the patches before the class token is prepended.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { buildTimmLike, timmPrefix } from '../timmLayout';

export const deit3Family: LayoutFamily = {
  label: 'DeiT III',
  reads: 'weights',
  match(ctx) {
    const prefix = timmPrefix(ctx);
    if (prefix === undefined) return undefined;
    const b0 = `${prefix}blocks.0.`;
    const beitOnly = ctx.get(`${b0}attn.q_bias`) !== undefined || ctx.get(`${b0}attn.relative_position_bias_table`) !== undefined
      || ctx.get(`${prefix}rel_pos_bias.relative_position_bias_table`) !== undefined;
    return ctx.get(`${b0}gamma_1`) !== undefined && ctx.get(`${b0}attn.qkv.bias`) !== undefined && !beitOnly && ctx.get(`${prefix}cls_token`) !== undefined
      ? { prefix } : undefined;
  },
  build(ctx, m) {
    return buildTimmLike(ctx, emptyDraft('deit3'), m.prefix);
  },
};
