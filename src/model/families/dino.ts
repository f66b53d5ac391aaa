// DINO (facebookresearch/dino) ViTs: timm-style keys. Training checkpoints hold `teacher` and `student`
// (the teacher is the default weight set, as DINO's evaluation scripts use it), each a `backbone.` beside
// the projection `head.` (mlp + weight-normalised last_layer), which is not analysed.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { buildTimmLike, joinedNames, timmPrefix } from '../timmLayout';
import { TIMM_UNUSED } from '../vitLayout';

export const dinoFamily: LayoutFamily = {
  label: 'DINO',
  reads: 'weights',
  match(ctx) {
    const prefix = timmPrefix(ctx);
    if (prefix === undefined) return undefined;
    const v = ctx.ckpt.selectedVariant ?? '';
    const trainCkpt = /^(teacher|student)$/.test(v) || ctx.get('head.last_layer.weight_v') !== undefined || ctx.get('head.last_layer.weight_g') !== undefined;
    const named = /(^|[^a-z0-9])dino([^a-z0-9v]|$)/.test(joinedNames(ctx));
    return trainCkpt || named ? { prefix } : undefined;
  },
  build(ctx, m) {
    const d = emptyDraft('dino');
    const v = ctx.ckpt.selectedVariant;
    if (v === 'teacher' || v === 'student') d.details['weightSet'] = v;
    const head = ctx.names.filter((n) => n.startsWith('head.'));
    if (m.prefix && head.length) d.details['notAnalysed'] = `DINO projection head (${head.length} tensors)`;
    return buildTimmLike(ctx, d, m.prefix, { unused: TIMM_UNUSED });
  },
};
