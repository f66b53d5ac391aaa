// BEiT (and BEiT v2) in the microsoft/unilm and timm layouts: q/v biases, relative position bias, gamma_1/2.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { buildTimmLike, isBeitLike, timmPrefix } from '../timmLayout';
import { TIMM_UNUSED } from '../vitLayout';

export const beitFamily: LayoutFamily = {
  label: 'BEiT',
  reads: 'weights',
  match(ctx) {
    const prefix = timmPrefix(ctx);
    return prefix !== undefined && isBeitLike(ctx, prefix) ? { prefix } : undefined;
  },
  build(ctx, m) {
    return buildTimmLike(ctx, emptyDraft('beit'), m.prefix, { unused: [...TIMM_UNUSED, /^mask_token$/, /^lm_head\./] });
  },
};
