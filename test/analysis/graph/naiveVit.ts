// Independent float64 reference for the tests: a direct, unoptimized ViT forward pass written from the
// PyTorch definitions (Linear weights [out,in], no folding), plus the DESIGN.md metric sums.
import type { VitSpec } from '../../../src/model/modelTypes';
import { mulberry32 } from '../../../src/analysis/probes';

export type Weights = Map<string, Float64Array>;

export interface NaiveOut {
  /** [L][B][H][T][T] flattened per layer: probs[l][((b*H+h)*T+i)*T+j]. */
  probs: Float64Array[];
  /** [L] of [B][T][D]. */
  blocks: Float64Array[];
}

function layerNorm(x: Float64Array, rows: number, d: number, w: Float64Array, b: Float64Array, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < d; c++) mean += x[r * d + c]!;
    mean /= d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x[r * d + c]! - mean) ** 2;
    v /= d;
    const inv = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < d; c++) out[r * d + c] = (x[r * d + c]! - mean) * inv * w[c]! + b[c]!;
  }
  return out;
}

/** y = x Wᵀ + b with W [out,in] (rows r0..r0+out-1 of a bigger matrix). */
function linear(x: Float64Array, rows: number, inDim: number, w: Float64Array, outDim: number, r0 = 0, b?: Float64Array, b0 = 0): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let acc = b ? b[b0 + o]! : 0;
      const wr = (r0 + o) * inDim;
      for (let i = 0; i < inDim; i++) acc += x[r * inDim + i]! * w[wr + i]!;
      y[r * outDim + o] = acc;
    }
  }
  return y;
}

function erf(x: number): number {
  // Series / continued fraction accurate to ~1e-15 (Abramowitz-Stegun is too coarse for a reference).
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc continued fraction
    let f = 0;
    for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  }
  return x < 0 ? -r : r;
}

export function naiveRelIndex(gh: number, gw: number): Int32Array {
  const n = gh * gw;
  const t = n + 1;
  const numRel = (2 * gh - 1) * (2 * gw - 1);
  const idx = new Int32Array(t * t);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) {
      if (i === 0 && j === 0) idx[0] = numRel + 2;
      else if (i === 0) idx[j] = numRel;
      else if (j === 0) idx[i * t] = numRel + 1;
      else {
        const a = i - 1;
        const b = j - 1;
        const dr = Math.floor(a / gw) - Math.floor(b / gw) + gh - 1;
        const dc = (a % gw) - (b % gw) + gw - 1;
        idx[i * t + j] = dr * (2 * gw - 1) + dc;
      }
    }
  }
  return idx;
}

export function naiveForward(spec: VitSpec, W: Weights, pixels: Float64Array, batch: number): NaiveOut {
  const get = (n: string | undefined): Float64Array => {
    const v = n === undefined ? undefined : W.get(n);
    if (!v) throw new Error(`missing weight ${n}`);
    return v;
  };
  const { dim: d, heads: H, inChans: C } = spec;
  const [ph, pw] = spec.patchSize;
  const [ih, iw] = spec.imageSize;
  const gh = ih / ph;
  const gw = iw / pw;
  const N = gh * gw;
  const S = spec.specialTokens;
  const T = N + S;
  const hd = d / H;
  const x = new Float64Array(batch * T * d);
  const pw_ = get(spec.weights.patchW);
  const pb = spec.weights.patchB ? get(spec.weights.patchB) : undefined;
  const special = [spec.weights.clsToken, spec.weights.distToken].filter((s): s is string => !!s);
  const pos = spec.weights.posEmbed ? get(spec.weights.posEmbed) : undefined;
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < S; s++) {
      const tok = get(special[s]);
      for (let c = 0; c < d; c++) x[(b * T + s) * d + c] = tok[c]!;
    }
    for (let p = 0; p < N; p++) {
      const r = Math.floor(p / gw);
      const cc = p % gw;
      for (let o = 0; o < d; o++) {
        let acc = pb ? pb[o]! : 0;
        for (let ch = 0; ch < C; ch++)
          for (let ky = 0; ky < ph; ky++)
            for (let kx = 0; kx < pw; kx++)
              acc += pw_[((o * C + ch) * ph + ky) * pw + kx]! * pixels[((b * C + ch) * ih + r * ph + ky) * iw + cc * pw + kx]!;
        x[(b * T + S + p) * d + o] = acc;
      }
    }
    if (pos) {
      const patchOnly = pos.length === N * d;
      for (let tk = patchOnly ? S : 0; tk < T; tk++) for (let c = 0; c < d; c++) x[(b * T + tk) * d + c] = x[(b * T + tk) * d + c]! + pos[(patchOnly ? tk - S : tk) * d + c]!;
    }
  }
  const probs: Float64Array[] = [];
  const blocks: Float64Array[] = [];
  const rows = batch * T;
  const relIdx = naiveRelIndex(gh, gw);
  let cur = x;
  for (const B of spec.weights.blocks) {
    const h1 = layerNorm(cur, rows, d, get(B.ln1W), get(B.ln1B), spec.lnEps);
    let q: Float64Array, k: Float64Array, v: Float64Array;
    if (B.qkvW) {
      const w = get(B.qkvW);
      const bias = B.qkvB ? get(B.qkvB) : undefined;
      q = linear(h1, rows, d, w, d, 0, bias ?? (B.qB ? get(B.qB) : undefined), 0);
      k = linear(h1, rows, d, w, d, d, bias, d);
      v = linear(h1, rows, d, w, d, 2 * d, bias ?? (B.vB ? get(B.vB) : undefined), bias ? 2 * d : 0);
    } else {
      q = linear(h1, rows, d, get(B.qW), d, 0, B.qB ? get(B.qB) : undefined);
      k = linear(h1, rows, d, get(B.kW), d, 0, B.kB ? get(B.kB) : undefined);
      v = linear(h1, rows, d, get(B.vW), d, 0, B.vB ? get(B.vB) : undefined);
    }
    const table = B.relPosTable ? get(B.relPosTable) : spec.weights.sharedRelPosTable ? get(spec.weights.sharedRelPosTable) : undefined;
    const P = new Float64Array(batch * H * T * T);
    const ctx = new Float64Array(rows * d);
    const scale = 1 / Math.sqrt(hd);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < T; i++) {
          const row = new Float64Array(T);
          let mx = -Infinity;
          for (let j = 0; j < T; j++) {
            let s = 0;
            for (let e = 0; e < hd; e++) s += q[(b * T + i) * d + h * hd + e]! * k[(b * T + j) * d + h * hd + e]!;
            s *= scale;
            if (table) s += table[relIdx[i * T + j]! * H + h]!;
            row[j] = s;
            if (s > mx) mx = s;
          }
          let z = 0;
          for (let j = 0; j < T; j++) z += row[j] = Math.exp(row[j]! - mx);
          for (let j = 0; j < T; j++) P[((b * H + h) * T + i) * T + j] = row[j]! / z;
          for (let e = 0; e < hd; e++) {
            let acc = 0;
            for (let j = 0; j < T; j++) acc += P[((b * H + h) * T + i) * T + j]! * v[(b * T + j) * d + h * hd + e]!;
            ctx[(b * T + i) * d + h * hd + e] = acc;
          }
        }
      }
    }
    probs.push(P);
    const attn = linear(ctx, rows, d, get(B.projW), d, 0, get(B.projB));
    const g1 = B.gamma1 ? get(B.gamma1) : undefined;
    const x1 = new Float64Array(rows * d);
    for (let i = 0; i < rows * d; i++) x1[i] = cur[i]! + attn[i]! * (g1 ? g1[i % d]! : 1);
    const h2 = layerNorm(x1, rows, d, get(B.ln2W), get(B.ln2B), spec.lnEps);
    const f1 = linear(h2, rows, d, get(B.fc1W), spec.mlpDim, 0, get(B.fc1B));
    for (let i = 0; i < f1.length; i++) f1[i] = 0.5 * f1[i]! * (1 + erf(f1[i]! / Math.SQRT2));
    const f2 = linear(f1, rows, spec.mlpDim, get(B.fc2W), d, 0, get(B.fc2B));
    const g2 = B.gamma2 ? get(B.gamma2) : undefined;
    const x2 = new Float64Array(rows * d);
    for (let i = 0; i < rows * d; i++) x2[i] = x1[i]! + f2[i]! * (g2 ? g2[i % d]! : 1);
    blocks.push(x2);
    cur = x2;
  }
  return { probs, blocks };
}

export interface NaiveSums {
  dist: number[][];
  kl: number[][][];
  gram: number[][][];
}

/** DESIGN.md sums: Σ_b,i,j Â·d, Σ_b,i KL_bi(h‖h'), and X_c X_cᵀ (batch-centred), from attention maps and block outputs. */
export function naiveSums(out: NaiveOut, batch: number, heads: number, grid: [number, number], patch: [number, number]): NaiveSums {
  const N = grid[0] * grid[1];
  const dist: number[][] = [];
  const kl: number[][][] = [];
  const gram: number[][][] = [];
  for (let l = 0; l < out.probs.length; l++) {
    const P = out.probs[l]!;
    const T = Math.round(Math.sqrt(P.length / (batch * heads)));
    const S = T - N;
    const hat = new Float64Array(batch * heads * N * N);
    for (let b = 0; b < batch; b++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < N; i++) {
          let z = 0;
          for (let j = 0; j < N; j++) z += P[((b * heads + h) * T + S + i) * T + S + j]!;
          for (let j = 0; j < N; j++) hat[((b * heads + h) * N + i) * N + j] = P[((b * heads + h) * T + S + i) * T + S + j]! / z;
        }
    const dl: number[] = [];
    for (let h = 0; h < heads; h++) {
      let s = 0;
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < N; i++)
          for (let j = 0; j < N; j++) {
            const dr = patch[0] * (Math.floor(i / grid[1]) - Math.floor(j / grid[1]));
            const dc = patch[1] * ((i % grid[1]) - (j % grid[1]));
            s += hat[((b * heads + h) * N + i) * N + j]! * Math.sqrt(dr * dr + dc * dc);
          }
      dl.push(s);
    }
    dist.push(dl);
    const lg = (x: number): number => Math.log(Math.max(x, 1e-8));
    const kll: number[][] = [];
    for (let h = 0; h < heads; h++) {
      const row: number[] = [];
      for (let h2 = 0; h2 < heads; h2++) {
        let s = 0;
        for (let b = 0; b < batch; b++)
          for (let i = 0; i < N; i++)
            for (let j = 0; j < N; j++) {
              const a = hat[((b * heads + h) * N + i) * N + j]!;
              s += a * (lg(a) - lg(hat[((b * heads + h2) * N + i) * N + j]!));
            }
        row.push(s);
      }
      kll.push(row);
    }
    kl.push(kll);
    const raw = out.blocks[l]!;
    const F = raw.length / batch;
    // The graph centres features over the batch (HSIC is shift-invariant); so does the reference.
    const X = new Float64Array(raw.length);
    for (let f = 0; f < F; f++) {
      let m = 0;
      for (let a = 0; a < batch; a++) m += raw[a * F + f]!;
      m /= batch;
      for (let a = 0; a < batch; a++) X[a * F + f] = raw[a * F + f]! - m;
    }
    const G: number[][] = [];
    for (let a = 0; a < batch; a++) {
      const row: number[] = [];
      for (let b = 0; b < batch; b++) {
        let s = 0;
        for (let f = 0; f < F; f++) s += X[a * F + f]! * X[b * F + f]!;
        row.push(s);
      }
      G.push(row);
    }
    gram.push(G);
  }
  return { dist, kl, gram };
}

/** Deterministic pseudo-random numbers (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  return mulberry32(seed);
}
