// SimMIM ViT pretraining checkpoints (microsoft/SimMIM): BEiT-style blocks under `encoder.` beside a
// `decoder.` head, or a file that names SimMIM.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { buildTimmLike, isBeitLike, joinedNames, timmPrefix } from '../timmLayout';
import { TIMM_UNUSED } from '../vitLayout';

export const simmimFamily: LayoutFamily = {
  label: 'SimMIM ViT',
  reads: 'weights',
  match(ctx) {
    const prefix = timmPrefix(ctx);
    if (prefix === undefined || !isBeitLike(ctx, prefix)) return undefined;
    const named = /simmim/.test(joinedNames(ctx));
    return named || (prefix === 'encoder.' && ctx.get('decoder.0.weight') !== undefined) ? { prefix } : undefined;
  },
  build(ctx, m) {
    return buildTimmLike(ctx, emptyDraft('simmim'), m.prefix, { unused: [...TIMM_UNUSED, /^mask_token$/, /^decoder\./] });
  },
};
