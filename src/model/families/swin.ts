// Swin: recognized and summarized (stages, depths, heads per stage, window size); not analyzable yet.

import { intSqrt } from '../layoutContext';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';

export const swinFamily: LayoutFamily = {
  label: 'Swin',
  reads: 'weights',
  match(ctx) {
    const prefix = ctx.prefixesFor('layers.0.blocks.0.attn.relative_position_bias_table')
      .find((p) => ctx.get(`${p}patch_embed.proj.weight`) !== undefined);
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    const P = m.prefix;
    const d = emptyDraft('swin');
    const stages = ctx.countIndexed(`${P}layers.`);
    const depths: number[] = [];
    const heads: number[] = [];
    const dims: number[] = [];
    let window: number | undefined;
    let windowMixed = false;
    for (let s = 0; s < stages; s++) {
      const depth = ctx.countIndexed(`${P}layers.${s}.blocks.`);
      depths.push(depth);
      const t = ctx.shape(`${P}layers.${s}.blocks.0.attn.relative_position_bias_table`);
      heads.push(t && t.length === 2 ? (t[1] as number) : 0);
      const q = ctx.shape(`${P}layers.${s}.blocks.0.attn.qkv.weight`) ?? ctx.shape(`${P}layers.${s}.blocks.0.norm1.weight`);
      dims.push(q ? (q[q.length - 1] as number) : 0);
      const r = t ? intSqrt(t[0] as number) : undefined;
      const w = r !== undefined && r % 2 === 1 ? (r + 1) / 2 : undefined;
      if (w !== undefined) {
        if (window !== undefined && window !== w) windowMixed = true;
        window ??= w;
      }
    }
    const pw = ctx.shape(`${P}patch_embed.proj.weight`);
    if (pw && pw.length === 4) {
      d.dim = pw[0] as number;
      d.patchSize = [pw[2] as number, pw[3] as number];
    }
    d.layers = depths.reduce((a, b) => a + b, 0);
    d.specialTokens = 0;
    d.headsSource = 'weights';
    // Input size from a shifted-window mask [nW, w², w²] of the first stage, else from the config.
    if (d.patchSize && window !== undefined) {
      for (let j = 0; j < (depths[0] ?? 0); j++) {
        const mask = ctx.shape(`${P}layers.0.blocks.${j}.attn_mask`);
        if (mask && mask.length === 3) {
          const side = intSqrt(mask[0] as number);
          if (side !== undefined) d.imageSize = [side * window * d.patchSize[0], side * window * d.patchSize[1]];
          break;
        }
      }
    }
    if (!d.imageSize) {
      const size = ctx.cfg.imageSize();
      if (size) d.imageSize = size;
    }
    const o = ctx.opts.headsOverride;
    if (o !== undefined) d.details['headsOverrideIgnored'] = 'Swin heads are read per stage from the weights';
    d.details = { ...d.details, stages, depths, heads, dims, windowSize: windowMixed ? 'mixed' : window ?? null };
    if (P) d.details['prefix'] = P;
    d.notAnalyzable = 'Swin (windowed attention over shifting windows) is recognized but not analyzable yet';
    return d;
  },
};
