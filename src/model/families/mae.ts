// MAE pretraining checkpoints (facebookresearch/mae): a timm ViT encoder beside `decoder_*` and `mask_token`.

import { numel } from '../layoutContext';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { buildTimmLike, joinedNames, timmPrefix } from '../timmLayout';
import { TIMM_UNUSED } from '../vitLayout';

export const maeFamily: LayoutFamily = {
  label: 'MAE',
  reads: 'weights',
  match(ctx) {
    const prefix = timmPrefix(ctx);
    if (prefix === undefined) return undefined;
    const decoder = ctx.names.some((n) => n.startsWith(`${prefix}decoder_`));
    return decoder || /(^|[^a-z])mae([^a-z]|$)/.test(joinedNames(ctx)) ? { prefix } : undefined;
  },
  build(ctx, m) {
    const P = m.prefix;
    const d = emptyDraft('mae');
    const dec = ctx.ckpt.tensors.filter((t) => t.name.startsWith(`${P}decoder_`) || t.name === `${P}mask_token`);
    if (dec.length) {
      d.details['decoderTensors'] = dec.length;
      d.details['decoderParams'] = dec.reduce((s, t) => s + numel(t), 0);
      d.details['decoderNote'] = 'MAE decoder present; analysis uses the encoder only';
    }
    return buildTimmLike(ctx, d, P, { unused: [...TIMM_UNUSED, /^decoder_/, /^mask_token$/] });
  },
};
