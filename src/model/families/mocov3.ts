// MoCo v3 (facebookresearch/moco-v3) ViT checkpoints: `state_dict` with `module.base_encoder.*` (the
// default), `module.momentum_encoder.*` (pick it with the variant `momentum_encoder`) and
// `module.predictor.*`. Each encoder is a timm ViT whose `head` is the projection MLP (not analysed).
// The head count is MoCo v3's own for the `arch` the checkpoint names: its vit_small has 12 heads.

import type { FamilyHeads } from '../heads';
import { numel, type LayoutContext } from '../layoutContext';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { buildTimmLike } from '../timmLayout';
import { TIMM_UNUSED } from '../vitLayout';

/** Heads of the architectures defined in moco-v3's vits.py. */
const MOCO_ARCH_HEADS: Readonly<Record<string, number>> = { vit_small: 12, vit_base: 12, vit_conv_small: 12, vit_conv_base: 12 };
const ENCODERS = ['base_encoder.', 'momentum_encoder.'] as const;

function archOf(ctx: LayoutContext): string | undefined {
  const e = ctx.ckpt.extras.find((x) => x.key === 'arch');
  const m = e ? /^['"]?([A-Za-z0-9_]{1,60})['"]?$/.exec(e.value.trim()) : undefined;
  return m?.[1] ?? ctx.cfg.strings(['arch'])[0];
}

export const mocov3Family: LayoutFamily = {
  label: 'MoCo v3',
  reads: 'weights',
  match(ctx) {
    const prefix = ENCODERS.find((p) => ctx.get(`${p}patch_embed.proj.weight`) !== undefined && ctx.countIndexed(`${p}blocks.`) > 0);
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    const d = emptyDraft('mocov3');
    const params: Record<string, number> = {};
    for (const t of ctx.ckpt.tensors) {
      const top = t.name.split('.')[0] ?? '';
      params[top] = (params[top] ?? 0) + numel(t);
    }
    d.details['encoder'] = m.prefix.slice(0, -1);
    d.details['paramsPerPart'] = params;
    d.details['notAnalysed'] = 'projection head (head.*) and predictor';
    const arch = archOf(ctx);
    let familyHeads: FamilyHeads | undefined;
    if (arch) {
      d.details['arch'] = arch;
      const h = MOCO_ARCH_HEADS[arch];
      if (h !== undefined) familyHeads = { heads: h, source: 'checkpoint-args', note: `arch "${arch}" (MoCo v3 defines ${h} heads)` };
    }
    return buildTimmLike(ctx, d, m.prefix, { unused: TIMM_UNUSED, familyHeads });
  },
};
