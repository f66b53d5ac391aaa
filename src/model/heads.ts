// Head counts: where a checkpoint's number of attention heads comes from, by one precedence for all families.

import { isPositiveInt } from './configView';
import type { LayoutContext } from './layoutContext';
import type { HeadsSource, ModelFamily } from './modelTypes';

/** Heads of the standard ViT sizes (ViT-Ti/S/B/L/H, DeiT, MAE, BEiT, ViT-g). */
export const SIZE_HEADS: Readonly<Record<string, number>> = {
  tiny: 3, small: 6, base: 12, large: 16, huge: 16, giant: 16, gigantic: 16,
};
const LETTER_HEADS: Readonly<Record<string, number>> = { t: 3, s: 6, b: 12, l: 16, h: 16, g: 16 };
/** Heads of the standard widths; a name whose size word contradicts a standard width is not believed. */
const STANDARD_WIDTH_HEADS: Readonly<Record<number, number>> = { 192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16 };

/** Heads implied by a model name such as `vit_base_patch16_224`, `deit_small`, `mae_vit_large`, `vit_b_16`. */
export function headsFromModelName(name: string): { heads: number; word: string } | undefined {
  const s = name.toLowerCase();
  const m = /(?:^|[^a-z])(tiny|small|base|large|huge|giant|gigantic)(?:[^a-z]|$)/.exec(s);
  if (m && m[1]) return { heads: SIZE_HEADS[m[1]] as number, word: m[1] };
  const t = /(?:^|[^a-z])vit[-_]?([tsblhg])(?:[-_/]?\d|[^a-z]|$)/.exec(s);
  if (t && t[1]) return { heads: LETTER_HEADS[t[1]] as number, word: `vit-${t[1]}` };
  return undefined;
}

/** A family's own reading of the head count (its config section, the architecture a checkpoint names). */
export interface FamilyHeads {
  heads: number;
  source: HeadsSource;
  /** Where exactly, for the summary (e.g. "vision_config.num_attention_heads"). */
  note?: string;
}

export interface HeadsResolution {
  heads: number | null;
  source: HeadsSource;
  /** Why the resolved count cannot be used (the model is then not analyzable). */
  invalid?: string;
}

/** A head count the checkpoint itself records (not a guess from a name or dim/64), if any. */
function recordedHeads(ctx: LayoutContext, weightsHeads: number | undefined, familyHeads: FamilyHeads | undefined, prefer?: string): { heads: number; source: HeadsSource; where: string } | undefined {
  if (familyHeads && (familyHeads.source === 'config' || familyHeads.source === 'checkpoint-args') && !/class default/.test(familyHeads.note ?? '')) {
    return { heads: familyHeads.heads, source: familyHeads.source, where: familyHeads.note ?? familyHeads.source };
  }
  const c = familyHeads ? undefined : ctx.configHeads(prefer);
  if (c) return { heads: c.heads, source: c.source, where: c.source === 'config' ? 'config' : 'checkpoint args / metadata' };
  if (weightsHeads !== undefined) return { heads: weightsHeads, source: 'weights', where: 'relative position bias table' };
  return undefined;
}

/**
 * Heads by precedence: override > config > checkpoint args/cfg > weights > model name > dim/64 > unknown.
 * A candidate that does not divide the embedding dim is skipped (and said so in details).
 */
export function resolveHeads(ctx: LayoutContext, dim: number | null, weightsHeads: number | undefined, family: ModelFamily, details: Record<string, unknown>, prefer?: string, familyHeads?: FamilyHeads): HeadsResolution {
  const notes: string[] = [];
  const ok = (h: number): boolean => dim === null || dim % h === 0;
  const o = ctx.opts.headsOverride;
  if (o !== undefined) {
    if (!isPositiveInt(o)) return { heads: null, source: 'override', invalid: `heads override ${String(o)} is not a positive integer` };
    if (!ok(o)) return { heads: o, source: 'override', invalid: `heads override ${o} does not divide the embedding dim ${String(dim)}` };
    if (weightsHeads !== undefined && weightsHeads !== o) details['headsInWeights'] = weightsHeads;
    const rec = recordedHeads(ctx, weightsHeads, familyHeads, prefer);
    if (rec && rec.heads !== o) {
      details['headsRecorded'] = { heads: rec.heads, source: rec.source };
      if (!ctx.opts.headsForce) {
        return { heads: o, source: 'override', invalid: `the heads override ${o} contradicts the ${rec.heads} heads the checkpoint records (${rec.where}); confirm the override (--heads-force on the CLI; VS Code asks when you analyse) to analyse with ${o}` };
      }
    }
    return { heads: o, source: 'override' };
  }
  if (familyHeads) {
    if (familyHeads.note) details['headsNote'] = familyHeads.note;
    if (ok(familyHeads.heads)) return { heads: familyHeads.heads, source: familyHeads.source };
    return { heads: familyHeads.heads, source: familyHeads.source, invalid: `${familyHeads.heads} heads (${familyHeads.note ?? familyHeads.source}) do not divide the embedding dim ${String(dim)}` };
  }
  const c = ctx.configHeads(prefer);
  if (c) {
    if (ok(c.heads) && (weightsHeads === undefined || weightsHeads === c.heads)) return { heads: c.heads, source: c.source };
    notes.push(`${c.source} says ${c.heads} heads, which ${ok(c.heads) ? `contradicts the ${String(weightsHeads)} in the weights` : `does not divide dim ${String(dim)}`}`);
  }
  if (weightsHeads !== undefined && ok(weightsHeads)) {
    if (notes.length) details['headsNotes'] = notes;
    return { heads: weightsHeads, source: 'weights' };
  }
  if (family !== 'swin' && family !== 'swinv2') {
    for (const name of ctx.modelNames()) {
      const m = headsFromModelName(name);
      if (!m) continue;
      const standard = dim === null ? undefined : STANDARD_WIDTH_HEADS[dim];
      if (standard !== undefined && standard !== m.heads) {
        notes.push(`model name "${name}" says ${m.word} (${m.heads} heads), but dim ${String(dim)} is the standard width of a ${standard}-head ViT`);
        continue;
      }
      if (ok(m.heads)) {
        details['headsFromName'] = name;
        if (notes.length) details['headsNotes'] = notes;
        return { heads: m.heads, source: 'model-name' };
      }
      notes.push(`model name "${name}" implies ${m.heads} heads, which does not divide dim ${String(dim)}`);
    }
  }
  if (notes.length) details['headsNotes'] = notes;
  if (dim !== null && dim % 64 === 0) return { heads: dim / 64, source: 'dim/64' };
  return { heads: null, source: 'unknown' };
}
