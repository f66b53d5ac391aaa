// In-graph reductions of one windowed attention map [B, nW, H, n, n] (DESIGN.md item 11): rows are
// renormalised over the keys the shift mask allows, distances are taken between the tokens'
// original positions, and the per-head sums are zero-padded to the model's largest head count so
// every layer stacks into the contract outputs.
import { KL_EPSILON, reduceSum } from './reductions';
import { attrInts, type OnnxGraphBuilder } from './onnxBuilder';
import { windowCount, type WindowLayout } from '../../model/swinGeometry';

/**
 * Returns the [1, hMax] distance sum Σ_b,win,i,j Â·d and the [1, hMax, hMax] cross term
 * C[h,h'] = Σ Â[h]·log⁺Â[h'] of one layer. `allowed` and `dist` are [nW, n, n] (see swinGeometry).
 */
export function addWindowReductions(g: OnnxGraphBuilder, probs: string, lay: WindowLayout, heads: number, hMax: number, allowed: Uint8Array, dist: Float64Array, tag: string): { dist: string; cross: string } {
  const n = lay.window * lay.window;
  const nw = windowCount(lay);
  const masked = allowed.some((a) => a === 0);
  let a = probs;
  if (masked) {
    // Masked keys carry exp(−100)-sized probabilities; zero them, then renormalise over K(i).
    const m = g.f32(`${tag}_allowed`, [nw, 1, n, n], Float32Array.from(allowed));
    const kept = g.op('Mul', [probs, m], undefined, `${tag}_attn_allowed`);
    const rowSum = reduceSum(g, kept, [-1], true, 17, `${tag}_row_sum`);
    a = g.op('Mul', [kept, g.op('Reciprocal', [rowSum], undefined, `${tag}_row_inv`)], undefined, `${tag}_attn_hat`);
  }
  // [B, nW, H, n·n]
  const aFlat = g.op('Reshape', [a, g.i64([0, nw, heads, n * n])], undefined, `${tag}_attn_hat_flat`);
  let distH: string;
  const uniformWindows = !masked && lay.shift === 0;
  if (uniformWindows) {
    // Unshifted: every window has the same geometry; one [n·n] vector.
    const dv = g.f32(`${tag}_distance`, [n * n], Float32Array.from(dist.subarray(0, n * n)));
    distH = reduceSum(g, g.op('MatMul', [aFlat, dv], undefined, `${tag}_dist_bwh`), [0, 1], false, 17, `${tag}_dist_h`);
  } else {
    const dv = g.f32(`${tag}_distance`, [nw, n * n, 1], Float32Array.from(dist));
    distH = reduceSum(g, g.op('MatMul', [aFlat, dv], undefined, `${tag}_dist_bwh1`), [0, 1, 3], false, 17, `${tag}_dist_h`);
  }
  // [B·nW, H, n·n] × [B·nW, n·n, H] → [B·nW, H, H] → Σ over windows and images.
  const a3 = g.op('Reshape', [a, g.i64([-1, heads, n * n])], undefined, `${tag}_attn_hat_3d`);
  const logA = g.op('Log', [g.op('Max', [a3, g.scalar(KL_EPSILON)], undefined, `${tag}_attn_clamped`)], undefined, `${tag}_log_attn`);
  const logT = g.op('Transpose', [logA], { perm: attrInts([0, 2, 1]) }, `${tag}_log_attn_t`);
  const crossHH = reduceSum(g, g.op('MatMul', [a3, logT], undefined, `${tag}_cross_bhh`), [0], false, 17, `${tag}_cross_hh`);
  const pad = hMax - heads;
  const dist1 = g.op('Reshape', [distH, g.i64([1, heads])], undefined, `${tag}_dist_1h`);
  const cross1 = g.op('Reshape', [crossHH, g.i64([1, heads, heads])], undefined, `${tag}_cross_1hh`);
  if (pad === 0) return { dist: dist1, cross: cross1 };
  // Pad's default mode is constant zeros.
  return {
    dist: g.op('Pad', [dist1, g.i64([0, 0, 0, pad])], undefined, `${tag}_dist_pad`),
    cross: g.op('Pad', [cross1, g.i64([0, 0, 0, 0, pad, pad])], undefined, `${tag}_cross_pad`),
  };
}
