// The in-graph reductions of the analysis contract (DESIGN.md, "Analysis graph contract"): attention
// maps and token features stay inside the session; only per-head sums and n×n Gram matrices leave it.
// Shared by the graph built from weights (vitGraph.ts) and by the instrumentation of a user's own
// ONNX export (instrument.ts), so every shape here is taken from the tensors at run time where
// possible (heads and tokens need not be known statically).
import { KL_EPS, patchDistanceMatrix as patchDistanceMatrix64 } from '../metrics';
import { OnnxDataType, attrInt, attrInts, type OnnxGraphBuilder } from './onnxBuilder';

/** ε of the KL log⁺ (DESIGN.md); the same constant as the float64 reference. */
export const KL_EPSILON = KL_EPS;

export const OUTPUT_ATTN_DIST = 'attn_dist_sum';
export const OUTPUT_KL = 'kl_sum';
export const OUTPUT_GRAM = 'gram';

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
 * Per-layer reduction nodes for one attention map: returns the [1,H] distance sum and the [1,H,H]
 * cross term C[h,h'] = Σ_b,i,j Â[b,h,i,j]·log⁺Â[b,h',i,j]. Add them right after the softmax so the
 * runtime can free the map early.
 */
export function addAttentionReductions(g: OnnxGraphBuilder, probs: string, distVec: string, n: number, cast: boolean, opset = 17): { dist: string; cross: string } {
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
  const distBH = g.op('MatMul', [aFlat, distVec], undefined, 'dist_bh');
  const dist = reduceSum(g, distBH, [0], true, opset, 'dist_h');
  const logA = g.op('Log', [g.op('Max', [a, g.scalar(KL_EPSILON)], undefined, 'attn_clamped')], undefined, 'log_attn');
  const logFlatT = g.op('Transpose', [g.op('Reshape', [logA, g.i64([0, 0, -1])], undefined, 'log_attn_flat')], { perm: attrInts([0, 2, 1]) }, 'log_attn_t');
  const crossB = g.op('MatMul', [aFlat, logFlatT], undefined, 'cross_bhh');
  const cross = reduceSum(g, crossB, [0], true, opset, 'cross_hh');
  return { dist, cross };
}

/**
 * Per-layer Gram node: [B,T,D] (or [B·T,D]) -> [1,B,B] = X_c X_cᵀ with X flattened over tokens and channels and
 * centred over the batch (X_c = X − mean_b X). The unbiased HSIC estimator is exactly invariant to a
 * shift shared by all rows of X, so CKA is unchanged; centring first removes the large common
 * component of ViT features (outlier channels) that would otherwise cost float32 Gram entries most of
 * their significant digits (measured: CKA error 7e-4..2.6e-3 uncentred vs ≤4e-5 centred when the
 * per-image part is 3–10% of the feature norm).
 */
export function addGram(g: OnnxGraphBuilder, block: string, cast: boolean, flatShape: string, opset = 17, center = true): string {
  let x = block;
  if (cast) x = g.op('Cast', [x], { to: attrInt(OnnxDataType.FLOAT) }, 'block_f32');
  // `flatShape` is [B, -1]: it accepts a [B,T,D] block output as well as a [B·T, D] one.
  let flat = g.op('Reshape', [x, flatShape], undefined, 'block_flat');
  if (center) {
    const mean = opset >= 18
      ? g.op('ReduceMean', [flat, g.i64([0])], { keepdims: attrInt(1) }, 'block_mean')
      : g.op('ReduceMean', [flat], { axes: attrInts([0]), keepdims: attrInt(1) }, 'block_mean');
    flat = g.op('Sub', [flat, mean], undefined, 'block_centred');
  }
  const gram = g.op('MatMul', [flat, g.op('Transpose', [flat], { perm: attrInts([1, 0]) }, 'block_flat_t')], undefined, 'gram_bb');
  return unsqueeze(g, gram, [0], opset, 'gram_1bb');
}

/**
 * Stacks the per-layer pieces into the three contract outputs and declares them as graph outputs:
 * attn_dist_sum [L,H], kl_sum [L,H,H] (KL[h,h'] = C[h,h] − C[h,h']), gram [L,B,B] (batch-centred, see addGram).
 */
export function addContractOutputs(g: OnnxGraphBuilder, dists: readonly string[], crosses: readonly string[], grams: readonly string[], heads: number | string, opset = 17): void {
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
}
