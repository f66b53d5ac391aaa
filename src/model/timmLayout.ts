// The block naming timm and the projects built on it share (`patch_embed.proj`, `blocks.N.attn.qkv`, ...):
// used by the timm/DeiT, BEiT, SimMIM and MAE families, which differ in their signals and details.

import type { LayoutContext } from './layoutContext';
import { intSqrt } from './layoutContext';
import type { Draft } from './layoutFamily';
import type { VitBlockWeights } from './modelTypes';
import { TIMM_UNUSED, finishVit, type VitLayout } from './vitLayout';

/** Container prefix of a timm-style ViT (`patch_embed.proj.weight` beside indexed `blocks.`), if any. */
export function timmPrefix(ctx: LayoutContext): string | undefined {
  return ctx.prefixesFor('patch_embed.proj.weight').find((p) => ctx.countIndexed(`${p}blocks.`) > 0);
}

/** BEiT-style blocks: q/v biases without a key bias, relative position bias, or layer scale as `gamma_1`. */
export function isBeitLike(ctx: LayoutContext, P: string): boolean {
  const b0 = `${P}blocks.0.`;
  return ctx.get(`${b0}attn.q_bias`) !== undefined || ctx.get(`${b0}attn.relative_position_bias_table`) !== undefined
    || ctx.get(`${P}rel_pos_bias.relative_position_bias_table`) !== undefined || ctx.get(`${b0}gamma_1`) !== undefined;
}

/** Lower-cased model names of the checkpoint, joined, for name signals (`mae`, `deit`, `simmim`). */
export function joinedNames(ctx: LayoutContext): string {
  return ctx.modelNames().join(' ').toLowerCase();
}

const TIMM_BLOCK_KEYS = [
  'norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias',
  'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias',
  'ls1.gamma', 'ls2.gamma', 'gamma_1', 'gamma_2', 'attn.q_bias', 'attn.v_bias',
  'attn.relative_position_bias_table', 'attn.relative_position_index',
];

function timmBlock(ctx: LayoutContext, b: string): VitBlockWeights {
  const w: VitBlockWeights = {
    ln1W: `${b}norm1.weight`, ln1B: `${b}norm1.bias`,
    qkvW: `${b}attn.qkv.weight`,
    projW: `${b}attn.proj.weight`, projB: `${b}attn.proj.bias`,
    ln2W: `${b}norm2.weight`, ln2B: `${b}norm2.bias`,
    fc1W: `${b}mlp.fc1.weight`, fc1B: `${b}mlp.fc1.bias`,
    fc2W: `${b}mlp.fc2.weight`, fc2B: `${b}mlp.fc2.bias`,
  };
  const qkvB = ctx.opt(`${b}attn.qkv.bias`);
  if (qkvB) w.qkvB = qkvB;
  const qB = ctx.opt(`${b}attn.q_bias`);
  const vB = ctx.opt(`${b}attn.v_bias`);
  if (qB && vB && !qkvB) {
    w.qB = qB;
    w.vB = vB;
  }
  const g1 = ctx.opt(`${b}gamma_1`) ?? ctx.opt(`${b}ls1.gamma`);
  const g2 = ctx.opt(`${b}gamma_2`) ?? ctx.opt(`${b}ls2.gamma`);
  if (g1) w.gamma1 = g1;
  if (g2) w.gamma2 = g2;
  const rel = ctx.opt(`${b}attn.relative_position_bias_table`);
  if (rel) {
    w.relPosTable = rel;
    const idx = ctx.opt(`${b}attn.relative_position_index`);
    if (idx) w.relPosIndex = idx;
  }
  return w;
}

/** Patch tokens when there is no absolute position embedding: from the relative position index or table. */
function tokensFromRelPos(ctx: LayoutContext, idxName: string | undefined, tableName: string | undefined): number | undefined {
  const is = idxName ? ctx.shape(idxName) : undefined;
  if (is && is.length === 2 && is[0] === is[1]) return (is[0] as number) - 1;
  if (tableName) {
    const ts = ctx.shape(tableName);
    const w = ts ? intSqrt((ts[0] as number) - 3) : undefined;
    if (w !== undefined && w % 2 === 1) return ((w + 1) / 2) ** 2;
  }
  return undefined;
}

/**
 * Maps a timm-style checkpoint under prefix P to the canonical weights and finishes `d` (its family set);
 * `more` adds what a family knows beyond timm (known-unused tensors, registers, a patches-only position
 * embedding, normalisation).
 */
export function buildTimmLike(ctx: LayoutContext, d: Draft, P: string, more: Partial<VitLayout> = {}): Draft {
  const blockHead = `${P}blocks.`;
  const layers = ctx.countIndexed(blockHead);
  const blocks: VitBlockWeights[] = [];
  let weightsHeads: number | undefined;
  for (let i = 0; i < layers; i++) {
    const w = timmBlock(ctx, `${blockHead}${i}.`);
    const s = w.relPosTable ? ctx.shape(w.relPosTable) : undefined;
    if (s && s.length === 2 && i === 0) weightsHeads = s[1];
    blocks.push(w);
  }
  const shared = ctx.opt(`${P}rel_pos_bias.relative_position_bias_table`);
  const sharedIdx = ctx.opt(`${P}rel_pos_bias.relative_position_index`);
  if (shared) {
    const s = ctx.shape(shared);
    if (s && s.length === 2) weightsHeads = s[1];
  }
  const posEmbed = ctx.opt(`${P}pos_embed`);
  const n = posEmbed ? undefined : tokensFromRelPos(ctx, blocks[0]?.relPosIndex ?? sharedIdx, blocks[0]?.relPosTable ?? shared);
  // DeiT III and timm's no_embed_class models add the position embedding to the patches only.
  const special = (ctx.get(`${P}cls_token`) ? 1 : 0) + (ctx.get(`${P}dist_token`) ? 1 : 0);
  const ps = posEmbed ? ctx.shape(posEmbed) : undefined;
  const t = ps && ps.length >= 2 ? (ps[ps.length - 2] as number) : undefined;
  const posPatchesOnly = t !== undefined && special > 0 && intSqrt(t) !== undefined && intSqrt(t - special) === undefined;
  if (posPatchesOnly) d.details['positionEmbedding'] = 'patches only (class token prepended after it is added)';
  const unsupported: string[] = [];
  if (ctx.get(`${P}reg_token`)) unsupported.push('register tokens (reg_token)');
  if (ctx.get(`${P}norm_pre.weight`)) unsupported.push('pre-norm before the blocks (norm_pre)');
  if (ctx.get(`${P}patch_embed.norm.weight`)) unsupported.push('normalisation inside the patch embedding');
  return finishVit(ctx, d, {
    family: d.family, prefix: P, blockHead, patchW: `${P}patch_embed.proj.weight`, patchB: ctx.opt(`${P}patch_embed.proj.bias`),
    clsToken: ctx.opt(`${P}cls_token`), distToken: ctx.opt(`${P}dist_token`), posEmbed, blocks, known: TIMM_BLOCK_KEYS, weightsHeads, n,
    headsPrefer: 'vit', sharedRelPosTable: shared, sharedRelPosIndex: sharedIdx, unsupported, unused: TIMM_UNUSED, posPatchesOnly, ...more,
  });
}
