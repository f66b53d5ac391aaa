// Swin and SwinV2 in every layout swinLayout.ts reads (timm old/new, microsoft, SimMIM, HuggingFace):
// the summary with stages and per-layer heads, and the spec of the windowed graph builder.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { recognizeSwinLayout, swinNaming, type SwinLookup } from '../swinLayout';
import { lnEps, normalization } from '../vitLayout';
import type { LayoutContext } from '../layoutContext';

function lookup(ctx: LayoutContext): SwinLookup {
  const norm = normalization(ctx);
  return {
    names: ctx.names,
    shape: (n) => ctx.shape(n),
    configValues: (keys) => ctx.cfg.find(keys).map((e) => e.value),
    modelNames: ctx.modelNames(),
    mean: norm.mean,
    std: norm.std,
    lnEps: lnEps(ctx, 'swin').eps,
  };
}

export const swinFamily: LayoutFamily = {
  label: 'Swin / SwinV2',
  reads: 'weights',
  match(ctx) {
    const nm = swinNaming(ctx.names, new Set(ctx.names));
    return nm ? { prefix: nm.prefix } : undefined;
  },
  build(ctx) {
    const r = recognizeSwinLayout(lookup(ctx));
    const d = emptyDraft(r?.family ?? 'swin');
    if (!r) {
      d.notAnalyzable = 'Swin layout not recognized';
      return d;
    }
    d.layers = r.layers;
    d.dim = r.dim;
    d.patchSize = r.patchSize;
    d.imageSize = r.imageSize;
    d.specialTokens = 0;
    d.heads = r.headsPerLayer.length ? Math.max(...r.headsPerLayer) : null;
    d.headsSource = 'weights';
    d.headsPerLayer = r.headsPerLayer;
    if (r.stages) d.stages = r.stages;
    d.details = r.details;
    if (ctx.opts.headsOverride !== undefined) d.details['headsOverrideIgnored'] = 'Swin heads are read per stage from the weights';
    if (r.notAnalyzable !== undefined) d.notAnalyzable = r.notAnalyzable;
    if (r.spec) d.swinSpec = r.spec;
    return d;
  },
};
