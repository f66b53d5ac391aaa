// Plain float64 implementation of the attention metrics (DESIGN.md "Metric definitions"), from raw
// attention probabilities. The engine computes the same sums inside the ONNX graph; this file is the
// independent check used by the tests, and is small enough to audit against the definitions line by line.

/** Shape of one layer's attention tensor A[b,h,i,j] and the patch grid it covers. */
export interface AttentionDims {
  batch: number;
  heads: number;
  /** All tokens T (special + patches). */
  tokens: number;
  /** Leading special tokens S (CLS, distillation). */
  special: number;
  gridH: number;
  gridW: number;
  patchH: number;
  patchW: number;
}

/** The ε of the clipped logarithm log⁺x = log(max(x, ε)). */
export const KL_EPS = 1e-8;

type Numeric = ArrayLike<number>;

/** Pixel distance between patch centres on a gh×gw grid, row-major: d[i*N+j]. */
export function patchDistanceMatrix(gh: number, gw: number, ph: number, pw: number): Float64Array {
  const n = gh * gw;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = Math.floor(i / gw);
    const ci = i % gw;
    for (let j = 0; j < n; j++) {
      const dr = ph * (ri - Math.floor(j / gw));
      const dc = pw * (ci - (j % gw));
      d[i * n + j] = Math.sqrt(dr * dr + dc * dc);
    }
  }
  return d;
}

function checkDims(a: Numeric, dims: AttentionDims): number {
  const n = dims.gridH * dims.gridW;
  if (dims.tokens !== dims.special + n) {
    throw new RangeError(`tokens ${dims.tokens} != special ${dims.special} + grid ${dims.gridH}x${dims.gridW}`);
  }
  if (a.length !== dims.batch * dims.heads * dims.tokens * dims.tokens) {
    throw new RangeError(`attention has ${a.length} values, dims say ${dims.batch}x${dims.heads}x${dims.tokens}x${dims.tokens}`);
  }
  return n;
}

/** Â = A[:, :, S:, S:] with each row renormalised to sum to 1; float64 [B,H,N,N]. */
export function patchAttention(a: Numeric, dims: AttentionDims): Float64Array {
  const n = checkDims(a, dims);
  const { batch, heads, tokens: t, special: s } = dims;
  const out = new Float64Array(batch * heads * n * n);
  for (let bh = 0; bh < batch * heads; bh++) {
    for (let i = 0; i < n; i++) {
      const src = bh * t * t + (s + i) * t + s;
      const dst = (bh * n + i) * n;
      let sum = 0;
      for (let j = 0; j < n; j++) sum += a[src + j] as number;
      for (let j = 0; j < n; j++) out[dst + j] = (a[src + j] as number) / sum;
    }
  }
  return out;
}

/** Per head: Σ_b Σ_i Σ_j Â[b,h,i,j]·d(i,j) — the quantity the graph's `attn_dist_sum` holds for one layer. */
export function attentionDistanceSum(a: Numeric, dims: AttentionDims): Float64Array {
  const n = checkDims(a, dims);
  const p = patchAttention(a, dims);
  const d = patchDistanceMatrix(dims.gridH, dims.gridW, dims.patchH, dims.patchW);
  const out = new Float64Array(dims.heads);
  for (let b = 0; b < dims.batch; b++) {
    for (let h = 0; h < dims.heads; h++) {
      const base = (b * dims.heads + h) * n * n;
      let acc = 0;
      for (let k = 0; k < n * n; k++) acc += (p[base + k] as number) * (d[k] as number);
      out[h] = (out[h] as number) + acc;
    }
  }
  return out;
}

/** Per head: mean over images and query patches of Σ_j Â·d, in pixels. */
export function attentionDistance(a: Numeric, dims: AttentionDims): Float64Array {
  const sum = attentionDistanceSum(a, dims);
  const count = dims.batch * dims.gridH * dims.gridW;
  return sum.map((v) => v / count);
}

const logPlus = (x: number): number => Math.log(Math.max(x, KL_EPS));

/** [h*H+h'] = Σ_b Σ_i KL_bi(h‖h') — the quantity the graph's `kl_sum` holds for one layer. */
export function klSum(a: Numeric, dims: AttentionDims): Float64Array {
  const n = checkDims(a, dims);
  const hh = dims.heads;
  const p = patchAttention(a, dims);
  const logs = p.map(logPlus);
  const out = new Float64Array(hh * hh);
  for (let b = 0; b < dims.batch; b++) {
    for (let i = 0; i < n; i++) {
      for (let h = 0; h < hh; h++) {
        const rh = ((b * hh + h) * n + i) * n;
        for (let h2 = 0; h2 < hh; h2++) {
          const r2 = ((b * hh + h2) * n + i) * n;
          let kl = 0;
          for (let j = 0; j < n; j++) kl += (p[rh + j] as number) * ((logs[rh + j] as number) - (logs[r2 + j] as number));
          out[h * hh + h2] = (out[h * hh + h2] as number) + kl;
        }
      }
    }
  }
  return out;
}

/** HD[h] = mean over h'≠h of (Σ KL(h‖h') / count); `count` = images × query patches. */
export function headDiversityFromKlSum(kl: Numeric, heads: number, count: number): Float64Array {
  const out = new Float64Array(heads);
  if (heads < 2) return out;
  for (let h = 0; h < heads; h++) {
    let acc = 0;
    for (let h2 = 0; h2 < heads; h2++) if (h2 !== h) acc += (kl[h * heads + h2] as number) / count;
    out[h] = acc / (heads - 1);
  }
  return out;
}

/** Per head diversity in nats, straight from the attention tensor. */
export function headDiversity(a: Numeric, dims: AttentionDims): Float64Array {
  return headDiversityFromKlSum(klSum(a, dims), dims.heads, dims.batch * dims.gridH * dims.gridW);
}

/** Mean of a per-head row (the per-layer number). */
export function meanOf(values: Numeric): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return values.length === 0 ? NaN : s / values.length;
}
