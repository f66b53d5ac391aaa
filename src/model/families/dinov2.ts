// DINOv2 in the facebookresearch/dinov2 torch-hub layout: timm-style blocks with `ls1.gamma`/`ls2.gamma`,
// a `mask_token`, patch 14, and (the "with registers" models) `register_tokens` [1, R, D] that are
// inserted after the class token once the position embedding has been added, so they have none.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { buildTimmLike, timmPrefix } from '../timmLayout';
import { TIMM_UNUSED } from '../vitLayout';

export const dinov2Family: LayoutFamily = {
  label: 'DINOv2 (torch hub)',
  reads: 'weights',
  match(ctx) {
    const prefix = timmPrefix(ctx);
    if (prefix === undefined) return undefined;
    const registers = ctx.get(`${prefix}register_tokens`) !== undefined;
    const dinoMask = ctx.shape(`${prefix}mask_token`)?.length === 2 && ctx.get(`${prefix}blocks.0.ls1.gamma`) !== undefined;
    return registers || dinoMask ? { prefix } : undefined;
  },
  build(ctx, m) {
    const P = m.prefix;
    return buildTimmLike(ctx, emptyDraft('dinov2'), P, { registerTokens: ctx.opt(`${P}register_tokens`), unused: TIMM_UNUSED });
  },
};
