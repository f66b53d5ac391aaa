// timm VisionTransformer and DeiT (with or without the distillation token), in timm's key layout.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import type { ModelFamily } from '../modelTypes';
import { buildTimmLike, joinedNames, timmPrefix } from '../timmLayout';

export const timmVitFamily: LayoutFamily = {
  label: 'timm ViT / DeiT',
  reads: 'weights',
  match(ctx) {
    const prefix = timmPrefix(ctx);
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    let family: ModelFamily = 'timm-vit';
    if (ctx.get(`${m.prefix}dist_token`)) family = 'deit-distilled';
    else if (/deit/.test(joinedNames(ctx))) family = 'deit';
    return buildTimmLike(ctx, emptyDraft(family), m.prefix);
  },
};
