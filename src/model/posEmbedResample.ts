// Absolute position embeddings brought to another token grid, as timm's `resample_abs_pos_embed` does by
// default: the patch rows, seen as a [1, D, gh, gw] image, go through PyTorch's bicubic interpolation
// (align_corners false, antialias on); the prefix rows (class, distillation token) are kept as they are.
// Register tokens have no position embedding, so nothing of theirs is resampled. The weights reproduce
// `torch.nn.functional.interpolate` exactly (float64 here; timm runs it in float32).

/** Keys (Keys 1981) cubic convolution kernel with parameter a. */
function cubic(x: number, a: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** One axis of a separable resampling: output i reads inputs `start[i] .. start[i] + count[i] - 1`. */
export interface AxisWeights {
  nIn: number;
  nOut: number;
  start: Int32Array;
  count: Int32Array;
  /** Row i: `count[i]` weights from offset `i * taps`. */
  weights: Float64Array;
  taps: number;
}

/**
 * Plain bicubic (`antialias=False`): a = −0.75, four taps around the source coordinate
 * `scale·(i + ½) − ½`, indices clamped to the edge (replicate border).
 */
function plainAxis(nIn: number, nOut: number): AxisWeights {
  const scale = nIn / nOut;
  const taps = 4;
  const weights = new Float64Array(nOut * nIn);
  const start = new Int32Array(nOut);
  const count = new Int32Array(nOut).fill(nIn);
  // Clamped taps may land on the same input, so the rows are kept dense over the input.
  for (let i = 0; i < nOut; i++) {
    const src = scale * (i + 0.5) - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const w = [cubic(1 + t, -0.75), cubic(t, -0.75), cubic(1 - t, -0.75), cubic(2 - t, -0.75)];
    for (let k = 0; k < taps; k++) {
      const j = Math.min(Math.max(i0 - 1 + k, 0), nIn - 1);
      weights[i * nIn + j]! += w[k]!;
    }
  }
  return { nIn, nOut, start, count, weights, taps: nIn };
}

/**
 * Antialiased bicubic (`antialias=True`): a = −0.5; when shrinking, the kernel is stretched by the
 * downscale factor (support 2·scale), taps outside the input are dropped, and each row is normalised
 * to sum to 1. When enlarging, the support stays 2 and only the edge rows differ from a plain kernel.
 */
function antialiasAxis(nIn: number, nOut: number): AxisWeights {
  const scale = nIn / nOut;
  const support = scale >= 1 ? 2 * scale : 2;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const weights = new Float64Array(nOut * taps);
  const start = new Int32Array(nOut);
  const count = new Int32Array(nOut);
  for (let i = 0; i < nOut; i++) {
    const center = scale * (i + 0.5);
    // Truncation toward zero, then the clamp, as PyTorch computes the window.
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), nIn);
    const n = Math.max(0, Math.min(hi - lo, taps));
    let total = 0;
    for (let j = 0; j < n; j++) {
      const w = cubic((j + lo - center + 0.5) * invScale, -0.5);
      weights[i * taps + j] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < n; j++) weights[i * taps + j] = weights[i * taps + j]! / total;
    start[i] = lo;
    count[i] = n;
  }
  return { nIn, nOut, start, count, weights, taps };
}

/** The weights of one axis of `F.interpolate(mode='bicubic', align_corners=False, antialias)`. */
export function bicubicAxis(nIn: number, nOut: number, antialias: boolean): AxisWeights {
  if (!(Number.isInteger(nIn) && Number.isInteger(nOut) && nIn > 0 && nOut > 0)) throw new RangeError(`bicubic resampling needs positive integer sizes, got ${nIn} → ${nOut}`);
  return antialias ? antialiasAxis(nIn, nOut) : plainAxis(nIn, nOut);
}

/**
 * Resamples a token-major grid [gh·gw, D] (row-major tokens, D channels each, as a position embedding
 * stores its patch rows) to `to`, channel by channel; width first, then height (separable, as PyTorch).
 */
export function resampleGrid(src: ArrayLike<number>, dim: number, from: readonly [number, number], to: readonly [number, number], antialias: boolean): Float64Array {
  const [ih, iw] = from;
  const [oh, ow] = to;
  if (src.length !== ih * iw * dim) throw new RangeError(`grid has ${src.length} values, expected ${ih}×${iw}×${dim}`);
  const ax = bicubicAxis(iw, ow, antialias);
  const ay = bicubicAxis(ih, oh, antialias);
  // Along the width: [ih, ow, D].
  const mid = new Float64Array(ih * ow * dim);
  for (let r = 0; r < ih; r++) {
    for (let c = 0; c < ow; c++) {
      const out = (r * ow + c) * dim;
      const s0 = ax.start[c]!;
      for (let k = 0; k < ax.count[c]!; k++) {
        const w = ax.weights[c * ax.taps + k]!;
        if (w === 0) continue;
        const inp = (r * iw + s0 + k) * dim;
        for (let d = 0; d < dim; d++) mid[out + d]! += w * src[inp + d]!;
      }
    }
  }
  // Along the height: [oh, ow, D].
  const res = new Float64Array(oh * ow * dim);
  for (let r = 0; r < oh; r++) {
    const s0 = ay.start[r]!;
    for (let k = 0; k < ay.count[r]!; k++) {
      const w = ay.weights[r * ay.taps + k]!;
      if (w === 0) continue;
      const rowIn = (s0 + k) * ow * dim;
      const rowOut = r * ow * dim;
      for (let x = 0; x < ow * dim; x++) res[rowOut + x]! += w * mid[rowIn + x]!;
    }
  }
  return res;
}

/** How a position embedding was brought to the analysed grid (recorded in the result's `model`). */
export interface PosEmbedResampling {
  method: 'bicubic';
  antialias: boolean;
  alignCorners: false;
  /** Patch grid [gh, gw] the embedding was trained at, and the one analysed. */
  fromGrid: [number, number];
  toGrid: [number, number];
  /** Rows before the patch rows that were kept (class, distillation token); 0 for patches-only layouts. */
  prefixTokens: number;
}

/** timm's default: bicubic with antialiasing, corners not aligned. */
export const TIMM_POS_EMBED_RESAMPLING = { method: 'bicubic', antialias: true, alignCorners: false } as const;

/**
 * A position embedding of `prefix + gh·gw` rows of `dim` values, its patch rows resampled from `from`
 * to `to` and its prefix rows copied. The prefix count is what the row count leaves over the grid, and
 * must be at most `maxPrefix` (the special tokens that can carry one); otherwise the embedding does not
 * fit the grid and `undefined` is returned.
 */
export function resamplePosEmbed(pos: Float32Array, dim: number, from: readonly [number, number], to: readonly [number, number], maxPrefix: number, antialias: boolean = TIMM_POS_EMBED_RESAMPLING.antialias): { data: Float32Array; prefixTokens: number } | undefined {
  if (dim <= 0 || pos.length % dim !== 0) return undefined;
  const rows = pos.length / dim;
  const prefix = rows - from[0] * from[1];
  if (prefix < 0 || prefix > maxPrefix) return undefined;
  const n = to[0] * to[1];
  const out = new Float32Array((prefix + n) * dim);
  out.set(pos.subarray(0, prefix * dim), 0);
  if (from[0] === to[0] && from[1] === to[1]) {
    out.set(pos.subarray(prefix * dim), prefix * dim);
  } else {
    out.set(resampleGrid(pos.subarray(prefix * dim), dim, from, to, antialias), prefix * dim);
  }
  return { data: out, prefixTokens: prefix };
}
