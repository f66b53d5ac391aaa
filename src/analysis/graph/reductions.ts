// The in-graph reductions of the analysis contract (DESIGN.md, "Analysis graph contract"): attention
// maps and token features stay inside the session; only per-head sums and n×n Gram matrices leave it.
// Shared by the graph built from weights (vitGraph.ts) and by the instrumentation of a user's own
// ONNX export (instrument.ts), so every shape here is taken from the tensors at run time where
// possible (heads and tokens need not be known statically).
import { KL_EPS, patchDistanceMatrix as patchDistanceMatrix64 } from '../metrics';
import type { CkaTokens, DistanceConvention } from '../resultSchema';
import { OnnxDataType, attrInt, attrInts, type OnnxGraphBuilder } from './onnxBuilder';

/** ε of the KL log⁺ (DESIGN.md); the same constant as the float64 reference. */
export const KL_EPSILON = KL_EPS;

export const OUTPUT_ATTN_DIST = 'attn_dist_sum';
export const OUTPUT_KL = 'kl_sum';
export const OUTPUT_GRAM = 'gram';
/** Per image: Σ_i Σ_j Â·d (or A·d, `vit` convention) [L,B,H]. */
export const OUTPUT_DIST_IMAGE = 'attn_dist_image';
/** Per image: C_b[h,h'] = Σ_i Σ_j Â[h]·log⁺Â[h'] [L,B,H,H]; the diagonal is minus the entropy sum. */
export const OUTPUT_CROSS_IMAGE = 'cross_image';
/** Per image: Σ_i Σ_{j<S} A[S+i, j], the attention patch queries send to special tokens [L,B,H]. */
export const OUTPUT_SPECIAL_IMAGE = 'special_mass_image';
/** The per-image outputs, in the order the accumulator reads them. */
export const PER_IMAGE_OUTPUTS = [OUTPUT_DIST_IMAGE, OUTPUT_CROSS_IMAGE, OUTPUT_SPECIAL_IMAGE] as const;

/** DESIGN.md item 7: `renormalised` rows over patch keys (default) or the raw patch block (`vit`). */
export const DISTANCE_CONVENTIONS: readonly DistanceConvention[] = ['renormalised', 'vit'];
/** DESIGN.md item 10: which tokens of a block output enter the CKA features. */
export const CKA_TOKEN_MODES: readonly CkaTokens[] = ['all', 'patch', 'cls', 'mean'];

/** Names of one layer's reduction nodes; the per-image ones keep the batch axis. */
export interface AttentionReductions {
  /** [1,H] Σ over the batch of the distance sums. */
  dist: string;
  /** [1,H,H] Σ over the batch of C_b. */
  cross: string;
  /** [B,H] per image. */
  distImage: string;
  /** [B,H,H] per image. */
  crossImage: string;
  /** [B,H] per image. */
  specialImage: string;
}

/** Shapes of the contract outputs for a batch of n (what a caller preallocates). */
export function contractOutputDims(layers: number, heads: number, n: number): Record<string, number[]> {
  return {
    [OUTPUT_ATTN_DIST]: [layers, heads],
    [OUTPUT_KL]: [layers, heads, heads],
    [OUTPUT_GRAM]: [layers, n, n],
    [OUTPUT_DIST_IMAGE]: [layers, n, heads],
    [OUTPUT_CROSS_IMAGE]: [layers, n, heads, heads],
    [OUTPUT_SPECIAL_IMAGE]: [layers, n, heads],
  };
}

/** Pixel distances between patch centres of a gh×gw grid (row-major), as a flat [N·N] float32 vector. */
export function patchDistanceMatrix(grid: [number, number], patch: [number, number]): Float32Array {
  // The same distances the float64 JS metrics use (metrics.ts), rounded once to the graph's float32.
  return Float32Array.from(patchDistanceMatrix64(grid[0], grid[1], patch[0], patch[1]));
}

/** ReduceSum with axes as an input (opset ≥ 13) or an attribute (older opsets). */
export function reduceSum(g: OnnxGraphBuilder, x: string, axes: number[], keepdims: boolean, opset: number, hint: string): string {
  if (opset >= 13) return g.op('ReduceSum', [x, g.i64(axes)], { keepdims: attrInt(keepdims ? 1 : 0) }, hint);
  return g.op('ReduceSum', [x], { axes: attrInts(axes), keepdims: attrInt(keepdims ? 1 : 0) }, hint);
}

/** Unsqueeze with axes as an input (opset ≥ 13) or an attribute (older opsets). */
export function unsqueeze(g: OnnxGraphBuilder, x: string, axes: number[], opset: number, hint: string): string {
  if (opset >= 13) return g.op('Unsqueeze', [x, g.i64(axes)], undefined, hint);
  return g.op('Unsqueeze', [x], { axes: attrInts(axes) }, hint);
}

/**
 * Per-layer reduction nodes for one attention map [B,H,T,T] whose last `n` tokens are the patches (any
 * number of special tokens before them): the batch sums of the distance and of the cross term
 * C[h,h'] = Σ_b,i,j Â[b,h,i,j]·log⁺Â[b,h',i,j], and the same per image plus the special-token mass.
 * Add them right after the softmax so the runtime can free the map early. Nothing here assumes a
 * global grid beyond `distVec` being [N·N] for these N keys, so windowed graphs can feed window maps.
 */
export function addAttentionReductions(g: OnnxGraphBuilder, probs: string, distVec: string, n: number, cast: boolean, opset = 17, convention: DistanceConvention = 'renormalised'): AttentionReductions {
  let p = probs;
  if (cast) p = g.op('Cast', [p], { to: attrInt(OnnxDataType.FLOAT) }, 'probs_f32');
  // Patch tokens are the last N of the sequence whatever the number of special tokens.
  const big = 9007199254740991;
  const patchP = g.op('Slice', [p, g.i64([-n, -n]), g.i64([big, big]), g.i64([2, 3])], undefined, 'patch_probs');
  const rowSum = reduceSum(g, patchP, [-1], true, opset, 'row_sum');
  // Multiplying by the row reciprocal is cheaper than a full-size division.
  const a = g.op('Mul', [patchP, g.op('Reciprocal', [rowSum], undefined, 'row_inv')], undefined, 'attn_hat');
  const aFlat = g.op('Reshape', [a, g.i64([0, 0, -1])], undefined, 'attn_hat_flat');
  // MatMul with a 1-D vector contracts the last axis: [B,H,N·N]·[N·N] -> [B,H].
  const distIn = convention === 'vit' ? g.op('Reshape', [patchP, g.i64([0, 0, -1])], undefined, 'patch_probs_flat') : aFlat;
  const distImage = g.op('MatMul', [distIn, distVec], undefined, 'dist_bh');
  const dist = reduceSum(g, distImage, [0], true, opset, 'dist_h');
  const logA = g.op('Log', [g.op('Max', [a, g.scalar(KL_EPSILON)], undefined, 'attn_clamped')], undefined, 'log_attn');
  const logFlatT = g.op('Transpose', [g.op('Reshape', [logA, g.i64([0, 0, -1])], undefined, 'log_attn_flat')], { perm: attrInts([0, 2, 1]) }, 'log_attn_t');
  const crossImage = g.op('MatMul', [aFlat, logFlatT], undefined, 'cross_bhh');
  const cross = reduceSum(g, crossImage, [0], true, opset, 'cross_hh');
  // Special mass straight from the keys before the patches (not 1 − row sum, which loses small masses
  // to float32 cancellation). With no special token the slice is empty and the sum is 0.
  const specialKeys = g.op('Slice', [p, g.i64([-n, 0]), g.i64([big, -n]), g.i64([2, 3])], undefined, 'special_keys');
  const specialImage = reduceSum(g, specialKeys, [2, 3], false, opset, 'special_bh');
  return { dist, cross, distImage, crossImage, specialImage };
}

/**
 * Per-layer Gram node: [B,T,D] (or [B·T,D]) -> [1,B,B] = X_c X_cᵀ with X flattened over tokens and channels and
 * centred over the batch (X_c = X − mean_b X). The unbiased HSIC estimator is exactly invariant to a
 * shift shared by all rows of X, so CKA is unchanged; centring first removes the large common
 * component of ViT features (outlier channels) that would otherwise cost float32 Gram entries most of
 * their significant digits (measured: CKA error 7e-4..2.6e-3 uncentred vs ≤4e-5 centred when the
 * per-image part is 3–10% of the feature norm).
 */
export function addGram(g: OnnxGraphBuilder, block: string, cast: boolean, flatShape: string, opset = 17, center = true, tokens: GramTokens = { mode: 'all' }): string {
  let x = block;
  if (cast) x = g.op('Cast', [x], { to: attrInt(OnnxDataType.FLOAT) }, 'block_f32');
  // `flatShape` is [B, -1]: it accepts a [B,T,D] block output as well as a [B·T, D] one. Selected tokens
  // come back with the batch axis first, so [0, -1] (keep the batch) flattens them.
  if (tokens.mode !== 'all') x = selectTokens(g, x, flatShape, tokens, opset);
  let flat = g.op('Reshape', [x, tokens.mode === 'all' ? flatShape : g.i64([0, -1])], undefined, 'block_flat');
  if (center) {
    const mean = opset >= 18
      ? g.op('ReduceMean', [flat, g.i64([0])], { keepdims: attrInt(1) }, 'block_mean')
      : g.op('ReduceMean', [flat], { axes: attrInts([0]), keepdims: attrInt(1) }, 'block_mean');
    flat = g.op('Sub', [flat, mean], undefined, 'block_centred');
  }
  const gram = g.op('MatMul', [flat, g.op('Transpose', [flat], { perm: attrInts([1, 0]) }, 'block_flat_t')], undefined, 'gram_bb');
  return unsqueeze(g, gram, [0], opset, 'gram_1bb');
}

/** Which tokens of a block output the Gram matrix sees (DESIGN.md item 10); patches are the last N tokens. */
export interface GramTokens {
  mode: CkaTokens;
  /** N, needed by `patch` and `mean`. */
  patchTokens?: number;
  /**
   * A shape tensor viewing the block as [B,T,D] with one −1 (e.g. [−1,T,D] when T is known). Default:
   * the batch of `flatShape` (which must then hold the real batch size), −1, and the block's last axis.
   */
  tokenShape?: string;
}

/** [B,T,D] (or [B·T,D]) -> the selected tokens as [B,T',D] (`mean`: [B,D]). */
function selectTokens(g: OnnxGraphBuilder, x: string, flatShape: string, tokens: GramTokens, opset: number): string {
  const n = tokens.patchTokens;
  if (tokens.mode !== 'cls' && !(n !== undefined && n > 0)) throw new RangeError(`CKA tokens "${tokens.mode}" need the number of patch tokens`);
  const big = 9007199254740991;
  let shape3 = tokens.tokenShape;
  if (!shape3) {
    // [B, -1, D] from the batch of flatShape and the channel axis of the block, so [B·T,D] works too.
    const batch = g.op('Slice', [flatShape, g.i64([0]), g.i64([1])], undefined, 'cka_batch');
    const chans = g.op('Slice', [g.op('Shape', [x], undefined, 'block_shape'), g.i64([-1]), g.i64([big])], undefined, 'cka_chans');
    shape3 = g.op('Concat', [batch, g.i64([-1]), chans], { axis: attrInt(0) }, 'cka_shape3');
  }
  const x3 = g.op('Reshape', [x, shape3], undefined, 'block_btd');
  if (tokens.mode === 'cls') return g.op('Slice', [x3, g.i64([0]), g.i64([1]), g.i64([1])], undefined, 'cka_cls');
  const patches = g.op('Slice', [x3, g.i64([-(n as number)]), g.i64([big]), g.i64([1])], undefined, 'cka_patches');
  if (tokens.mode === 'patch') return patches;
  return opset >= 18
    ? g.op('ReduceMean', [patches, g.i64([1])], { keepdims: attrInt(0) }, 'cka_patch_mean')
    : g.op('ReduceMean', [patches], { axes: attrInts([1]), keepdims: attrInt(0) }, 'cka_patch_mean');
}

/**
 * Stacks the per-layer pieces into the three contract outputs and declares them as graph outputs:
 * attn_dist_sum [L,H], kl_sum [L,H,H] (KL[h,h'] = C[h,h] − C[h,h']), gram [L,B,B] (batch-centred, see addGram),
 * and, given `perImage`, the per-image outputs of addPerImageOutputs.
 */
export function addContractOutputs(g: OnnxGraphBuilder, dists: readonly string[], crosses: readonly string[], grams: readonly string[], heads: number | string, opset = 17, perImage?: readonly AttentionReductions[]): void {
  const layers = dists.length;
  g.node('Concat', [...dists], [OUTPUT_ATTN_DIST], { axis: attrInt(0) });
  const cross = g.op('Concat', [...crosses], { axis: attrInt(0) }, 'cross_lhh');
  const eye = g.op('EyeLike', [g.op('Gather', [cross, g.i64([0], [])], { axis: attrInt(0) }, 'cross_first')], undefined, 'eye_hh');
  const diag = reduceSum(g, g.op('Mul', [cross, eye], undefined, 'cross_diag_only'), [2], true, opset, 'cross_diag');
  g.node('Sub', [diag, cross], [OUTPUT_KL]);
  g.node('Concat', [...grams], [OUTPUT_GRAM], { axis: attrInt(0) });
  g.output(OUTPUT_ATTN_DIST, OnnxDataType.FLOAT, [layers, heads]);
  g.output(OUTPUT_KL, OnnxDataType.FLOAT, [layers, heads, heads]);
  g.output(OUTPUT_GRAM, OnnxDataType.FLOAT, [layers, 'batch', 'batch']);
  if (perImage) addPerImageOutputs(g, perImage, heads, opset);
}

/**
 * The per-image outputs (DESIGN.md item 9): attn_dist_image [L,B,H], cross_image [L,B,H,H],
 * special_mass_image [L,B,H]. Small (no N or T axis), so they cost a copy of a few KB per batch.
 */
export function addPerImageOutputs(g: OnnxGraphBuilder, layers: readonly AttentionReductions[], heads: number | string, opset = 17): void {
  const stack = (pick: (r: AttentionReductions) => string, out: string, hint: string): void => {
    g.node('Concat', layers.map((r) => unsqueeze(g, pick(r), [0], opset, hint)), [out], { axis: attrInt(0) });
  };
  stack((r) => r.distImage, OUTPUT_DIST_IMAGE, 'dist_1bh');
  stack((r) => r.crossImage, OUTPUT_CROSS_IMAGE, 'cross_1bhh');
  stack((r) => r.specialImage, OUTPUT_SPECIAL_IMAGE, 'special_1bh');
  g.output(OUTPUT_DIST_IMAGE, OnnxDataType.FLOAT, [layers.length, 'batch', heads]);
  g.output(OUTPUT_CROSS_IMAGE, OnnxDataType.FLOAT, [layers.length, 'batch', heads, heads]);
  g.output(OUTPUT_SPECIAL_IMAGE, OnnxDataType.FLOAT, [layers.length, 'batch', heads]);
}
