// The part of recognition every plain-ViT family shares: once a family has named its tensors (a VitLayout),
// check their shapes, resolve heads, grid, normalisation and LayerNorm eps, and produce the VitSpec.

import { intSqrt, type LayoutContext } from './layoutContext';
import type { Draft } from './layoutFamily';
import { resolveHeads, type FamilyHeads } from './heads';
import type { ModelFamily, VitActivation, VitBlockWeights, VitSpec } from './modelTypes';
import { strayRefusal, unexplainedTensors } from './strayTensors';

export const IMAGENET_MEAN_RGB: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD_RGB: [number, number, number] = [0.229, 0.224, 0.225];

/** LayerNorm eps each library uses when the checkpoint does not say. */
export const FAMILY_LN_EPS: Readonly<Record<ModelFamily, number>> = {
  'timm-vit': 1e-6, deit: 1e-6, 'deit-distilled': 1e-6, mae: 1e-6, beit: 1e-6, simmim: 1e-6,
  'hf-vit': 1e-12, 'torchvision-vit': 1e-6, swin: 1e-5, swinv2: 1e-5, 'onnx-graph': 1e-6, unknown: 1e-6,
  clip: 1e-5, 'hf-clip': 1e-5, 'hf-siglip': 1e-6, dino: 1e-6, dinov2: 1e-6, 'hf-dinov2': 1e-6, 'hf-beit': 1e-12, 'hf-data2vec-vision': 1e-12, mocov3: 1e-6, deit3: 1e-6, eva02: 1e-6,
};

/** A family's tensor names for one plain ViT, in the canonical roles of VitSpec. */
export interface VitLayout {
  family: ModelFamily;
  prefix: string;
  /** Head of the indexed block names (`blocks.`), for the check of unexplained block tensors. */
  blockHead: string;
  patchW: string;
  patchB?: string | undefined;
  clsToken?: string | undefined;
  distToken?: string | undefined;
  posEmbed?: string | undefined;
  blocks: VitBlockWeights[];
  /** Block-relative names the family explains (anything else under a block makes the model not analyzable). */
  known: readonly string[];
  /** Heads read from tensor shapes (relative position bias tables). */
  weightsHeads?: number | undefined;
  /** Patch tokens, when there is no absolute position embedding to count them from. */
  n?: number | undefined;
  /** Config path segment preferred when several head counts are recorded (e.g. `vit`). */
  headsPrefer?: string | undefined;
  sharedRelPosTable?: string | undefined;
  sharedRelPosIndex?: string | undefined;
  /** Features the graph does not implement, each a short phrase. */
  unsupported?: string[] | undefined;
  /** Register tokens [1, R, D] inserted after the class token without position embeddings (DINOv2). */
  registerTokens?: string | undefined;
  /** LayerNorm before the first block (CLIP `ln_pre`). */
  preNormW?: string | undefined;
  preNormB?: string | undefined;
  /** MLP activation when it is not exact GELU. */
  activation?: VitActivation | undefined;
  /** The position embedding covers the patches only; the class token is prepended after it is added. */
  posPatchesOnly?: boolean | undefined;
  /** The family's input normalisation when the checkpoint has no config saying (default ImageNet). */
  norm?: { mean: [number, number, number]; std: [number, number, number] } | undefined;
  /**
   * Tensors under `prefix` the family knows the analysis does not use (heads, final norms, decoders,
   * mask tokens), as patterns on the name after the prefix. Any other tensor under the prefix that the
   * spec does not consume makes the model not analyzable: the forward pass would differ.
   */
  unused: readonly RegExp[];
  /** A reason the family already knows the model cannot be analysed as it stands (asked before any other). */
  refuse?: string | undefined;
  /** The family's own head count, which replaces the generic search of configs and names. */
  familyHeads?: FamilyHeads | undefined;
  /** LayerNorm eps the family's config gives (HF sections), else the family default applies. */
  lnEps?: number | undefined;
}

/** Final norms, classifier heads and the mask token of masked pretraining in timm-style encoders: read by nothing the analysis computes. */
export const TIMM_UNUSED: readonly RegExp[] = [/^mask_token$/, /^norm\.(weight|bias)$/, /^fc_norm\.(weight|bias)$/, /^head\./, /^head_dist\./, /^pre_logits\./];

export function normalization(ctx: LayoutContext, family?: VitLayout['norm']): { mean: [number, number, number]; std: [number, number, number]; source: 'config' | 'imagenet-default' | 'family-default' } {
  const mean = ctx.cfg.triple(['image_mean', 'mean', 'pixel_mean']);
  const std = ctx.cfg.triple(['image_std', 'std', 'pixel_std']);
  if (mean && std && std.every((s) => s > 0)) {
    // Some configs store mean/std in 0..255 units (detectron-style); the pipeline divides by 255 first.
    if (mean.some((v) => v > 1.5)) {
      return { mean: mean.map((v) => v / 255) as [number, number, number], std: std.map((v) => v / 255) as [number, number, number], source: 'config' };
    }
    return { mean, std, source: 'config' };
  }
  if (family) return { mean: [...family.mean], std: [...family.std], source: 'family-default' };
  return { mean: [...IMAGENET_MEAN_RGB], std: [...IMAGENET_STD_RGB], source: 'imagenet-default' };
}

export function lnEps(ctx: LayoutContext, family: ModelFamily): { eps: number; source: 'config' | 'family-default' } {
  const e = ctx.cfg.numbers(['layer_norm_eps', 'layernorm_eps', 'ln_eps', 'norm_eps']).find((v) => v > 0 && v < 1);
  return e !== undefined ? { eps: e, source: 'config' } : { eps: FAMILY_LN_EPS[family], source: 'family-default' };
}

/** Grid from a token count: the config's image size when it fits, else a square grid, else undefined. */
function gridFor(ctx: LayoutContext, n: number, patch: [number, number], details: Record<string, unknown>): [number, number] | undefined {
  const cfgSize = ctx.cfg.imageSize();
  if (cfgSize && cfgSize[0] % patch[0] === 0 && cfgSize[1] % patch[1] === 0 && (cfgSize[0] / patch[0]) * (cfgSize[1] / patch[1]) === n) {
    return [cfgSize[0] / patch[0], cfgSize[1] / patch[1]];
  }
  const g = intSqrt(n);
  if (g !== undefined) {
    if (cfgSize) details['imageSizeNote'] = `config image size ${cfgSize.join('x')} does not match ${n} patch tokens; used a ${g}x${g} grid`;
    return [g, g];
  }
  details['imageSizeNote'] = `${n} patch tokens do not form a square grid and no config gives the input size`;
  return undefined;
}

function shapeIs(ctx: LayoutContext, name: string | undefined, shape: readonly number[]): string | undefined {
  if (name === undefined) return undefined;
  const s = ctx.shape(name);
  if (!s) return `missing tensor ${name}`;
  const squeezed = s.length === shape.length ? s : s.filter((x, i) => !(x === 1 && i < s.length - shape.length));
  if (squeezed.length !== shape.length || squeezed.some((x, i) => x !== shape[i])) return `${name} has shape [${s.join(', ')}], expected [${shape.join(', ')}]`;
  return undefined;
}

/** Checks every block tensor's shape; returns the first problem. */
function checkBlocks(ctx: LayoutContext, blocks: VitBlockWeights[], d: number, mlp: number, heads: number): string | undefined {
  for (const b of blocks) {
    const checks: Array<[string | undefined, number[]]> = [
      [b.ln1W, [d]], [b.ln1B, [d]], [b.ln2W, [d]], [b.ln2B, [d]],
      [b.qkvW, [3 * d, d]], [b.qkvB, [3 * d]],
      [b.qW, [d, d]], [b.kW, [d, d]], [b.vW, [d, d]], [b.qB, [d]], [b.kB, [d]], [b.vB, [d]],
      [b.projW, [d, d]], [b.projB, [d]], [b.fc1W, [mlp, d]], [b.fc1B, [mlp]], [b.fc2W, [d, mlp]], [b.fc2B, [d]],
      [b.gamma1, [d]], [b.gamma2, [d]],
    ];
    for (const [n, s] of checks) {
      const p = shapeIs(ctx, n, s);
      if (p) return p;
    }
    if (b.relPosTable) {
      const s = ctx.shape(b.relPosTable);
      if (!s || s.length !== 2 || s[1] !== heads) return `${b.relPosTable} has shape [${s?.join(', ') ?? ''}], expected [*, ${heads}]`;
    }
  }
  return undefined;
}

/** Block tensors that the recognized layout does not explain (e.g. qk-norm, SwiGLU): the forward would differ. */
function unexplained(ctx: LayoutContext, blockHead: string, layers: number, known: readonly string[]): string[] {
  const knownSet = new Set(known);
  const out: string[] = [];
  for (const n of ctx.names) {
    if (!n.startsWith(blockHead)) continue;
    const rest = n.slice(blockHead.length);
    const dot = rest.indexOf('.');
    if (dot <= 0) continue;
    const idx = rest.slice(0, dot);
    if (!/^\d+$/.test(idx) || Number(idx) >= layers) continue;
    if (!knownSet.has(rest.slice(dot + 1))) out.push(n);
  }
  return out;
}

/** Names every tensor of the spec reads. */
function consumed(a: VitLayout): Set<string> {
  const out = new Set<string>();
  for (const n of [a.patchW, a.patchB, a.clsToken, a.distToken, a.posEmbed, a.registerTokens, a.preNormW, a.preNormB, a.sharedRelPosTable, a.sharedRelPosIndex]) {
    if (n !== undefined) out.add(n);
  }
  for (const b of a.blocks) for (const n of Object.values(b)) if (typeof n === 'string') out.add(n);
  return out;
}

/** Tensors under the encoder prefix that are neither read by the spec nor on the family's known-unused list. */
export function strayTensors(ctx: LayoutContext, a: VitLayout): string[] {
  return unexplainedTensors(ctx.names, a.prefix, consumed(a), a.unused);
}

/** Patch tokens on the grid, read from the absolute position embedding (or `a.n`), with the problems found. */
function tokenGrid(ctx: LayoutContext, d: Draft, a: VitLayout, dim: number, patch: [number, number]): [number, number] | undefined {
  // Registers have no position embedding; neither do the special tokens of a patches-only embedding.
  const special = a.posPatchesOnly ? 0 : (a.clsToken ? 1 : 0) + (a.distToken ? 1 : 0);
  let n = a.n;
  if (a.posEmbed) {
    const ps = ctx.shape(a.posEmbed) ?? [];
    const t = ps.length >= 2 ? (ps[ps.length - 2] as number) : 0;
    if (ps[ps.length - 1] !== dim) {
      d.notAnalyzable = `${a.posEmbed} has shape [${ps.join(', ')}], its last dim is not the embedding dim ${dim}`;
    }
    n = t - special;
    if (n <= 0 || (intSqrt(n) === undefined && intSqrt(t) !== undefined && special > 0)) {
      d.notAnalyzable = `position embedding has ${t} tokens: it seems not to include the ${special} special token(s), which is not supported yet`;
    }
  }
  if (n !== undefined && n > 0) return gridFor(ctx, n, patch, d.details);
  if (!a.posEmbed) {
    const size = ctx.cfg.imageSize();
    if (size && size[0] % patch[0] === 0 && size[1] % patch[1] === 0) return [size[0] / patch[0], size[1] / patch[1]];
  }
  return undefined;
}

/** The first reason the recognized ViT cannot be rebuilt, or undefined. */
function firstProblem(ctx: LayoutContext, d: Draft, a: VitLayout, dim: number, mlpDim: number, grid: [number, number] | undefined, invalidHeads: string | undefined): string | undefined {
  if (a.refuse) return a.refuse;
  const extra = unexplained(ctx, a.blockHead, a.blocks.length, a.known);
  const unsupported = [...(a.unsupported ?? []), ...(extra.length ? [`unrecognized block tensors (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`] : [])];
  if (unsupported.length) return `not supported yet: ${unsupported.join('; ')}`;
  const stray = strayTensors(ctx, a);
  if (stray.length) {
    return strayRefusal(a.family, stray);
  }
  if (invalidHeads) return invalidHeads;
  if (d.heads === null) {
    return `number of heads unknown (dim ${dim} is not a multiple of 64 and no config or model name says); set it with --heads or the modelLens heads setting`;
  }
  if (!grid) return `input size unknown: ${String(d.details['imageSizeNote'] ?? 'no position embedding and no config')}`;
  if (a.blocks.length === 0) return 'no transformer blocks found';
  const bad = checkBlocks(ctx, a.blocks, dim, mlpDim, d.heads);
  if (bad) return bad;
  for (const t of [a.clsToken, a.distToken]) {
    const p = shapeIs(ctx, t, [1, dim]);
    if (p && shapeIs(ctx, t, [dim])) return p;
  }
  return undefined;
}

/** Completes a plain-ViT family's draft from its tensor names: summary fields, then the spec when analyzable. */
export function finishVit(ctx: LayoutContext, d: Draft, a: VitLayout): Draft {
  const pw = ctx.shape(a.patchW);
  if (!pw || pw.length !== 4) {
    d.notAnalyzable = `patch embedding ${a.patchW} is not a 4-D convolution weight`;
    return d;
  }
  const dim = pw[0] as number;
  const inChans = pw[1] as number;
  const patch: [number, number] = [pw[2] as number, pw[3] as number];
  d.dim = dim;
  d.patchSize = patch;
  d.layers = a.blocks.length;
  const regShape = a.registerTokens ? ctx.shape(a.registerTokens) : undefined;
  const registers = regShape && regShape.length >= 2 && regShape[regShape.length - 1] === dim ? (regShape[regShape.length - 2] as number) : 0;
  if (a.registerTokens && registers === 0) d.notAnalyzable = `register tokens ${a.registerTokens} have shape [${regShape?.join(', ') ?? ''}], expected [1, R, ${dim}]`;
  d.specialTokens = (a.clsToken ? 1 : 0) + (a.distToken ? 1 : 0) + registers;
  if (registers > 0) d.details['registerTokens'] = registers;
  if (a.prefix) d.details['prefix'] = a.prefix;
  const grid = tokenGrid(ctx, d, a, dim, patch);
  if (grid) d.imageSize = [grid[0] * patch[0], grid[1] * patch[1]];
  const fc1 = a.blocks[0] ? ctx.shape(a.blocks[0].fc1W) : undefined;
  const mlpDim = fc1 && fc1.length === 2 ? (fc1[0] as number) : 0;
  const hr = resolveHeads(ctx, dim, a.weightsHeads, a.family, d.details, a.headsPrefer, a.familyHeads);
  d.heads = hr.heads;
  d.headsSource = hr.source;
  const qkvBias = a.blocks[0] ? (a.blocks[0].qkvB !== undefined || a.blocks[0].qB !== undefined) : false;
  d.details['mlpDim'] = mlpDim;
  d.details['qkvBias'] = qkvBias;
  d.details['layerScale'] = a.blocks[0]?.gamma1 !== undefined;
  if (a.activation && a.activation !== 'gelu') d.details['activation'] = a.activation;
  if (a.sharedRelPosTable) d.details['relativePositionBias'] = 'shared';
  else if (a.blocks[0]?.relPosTable) d.details['relativePositionBias'] = 'per-layer';
  if (d.notAnalyzable !== undefined) return d;
  const problem = firstProblem(ctx, d, a, dim, mlpDim, grid, hr.invalid);
  if (problem !== undefined || d.heads === null || !grid) {
    d.notAnalyzable = problem;
    return d;
  }
  const norm = normalization(ctx, a.norm);
  const eps = a.lnEps !== undefined ? { eps: a.lnEps, source: 'config' as const } : lnEps(ctx, a.family);
  const weights: VitSpec['weights'] = { patchW: a.patchW, blocks: a.blocks };
  if (a.patchB) weights.patchB = a.patchB;
  if (a.clsToken) weights.clsToken = a.clsToken;
  if (a.distToken) weights.distToken = a.distToken;
  if (a.posEmbed) weights.posEmbed = a.posEmbed;
  if (a.sharedRelPosTable) weights.sharedRelPosTable = a.sharedRelPosTable;
  if (a.sharedRelPosIndex) weights.sharedRelPosIndex = a.sharedRelPosIndex;
  if (a.registerTokens) weights.registerTokens = a.registerTokens;
  if (a.preNormW && a.preNormB) {
    weights.preNormW = a.preNormW;
    weights.preNormB = a.preNormB;
  }
  d.spec = {
    family: a.family,
    layers: a.blocks.length,
    heads: d.heads,
    dim,
    mlpDim,
    inChans,
    patchSize: patch,
    imageSize: [grid[0] * patch[0], grid[1] * patch[1]],
    specialTokens: d.specialTokens,
    lnEps: eps.eps,
    lnEpsSource: eps.source,
    mean: norm.mean,
    std: norm.std,
    normalizationSource: norm.source,
    weights,
  };
  if (a.activation && a.activation !== 'gelu') d.spec.activation = a.activation;
  return d;
}
