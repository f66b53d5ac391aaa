// Per-image attention maps from one forward pass of a batch of one image: the rows a person looks at
// (CLS row, a query patch's row), attention rollout (Abnar & Zuidema 2020) and the per-head statistics
// that label each head's tile. Input: each layer's softmax output A[h,i,j] (float32, [H,T,T]).
import { ModelLensError } from '../formats/errors';

export const ATTENTION_MAP_SCHEMA = 'model-lens/attention-map@1';

export type AttentionKind = 'cls' | 'query' | 'rollout';

/** Token layout of one model's attention: S special tokens first, then the gh×gw patches row-major. */
export interface AttentionLayout {
  heads: number;
  /** T = S + gh·gw. */
  tokens: number;
  specialTokens: number;
  grid: [number, number];
  patchSize: [number, number];
  /** Token 0 is a class token (every layout family puts it first). */
  hasCls: boolean;
}

/** `model-lens/attention-map@1` (DESIGN.md). Layers and heads 1-based, arrays 0-based. */
export interface AttentionMapDoc {
  schema: typeof ATTENTION_MAP_SCHEMA;
  model: string;
  image: string;
  layer: number;
  kind: AttentionKind;
  query?: [number, number];
  grid: [number, number];
  patchSize: [number, number];
  heads: number[];
  rows: number[][];
  specialMass: number[];
}

function checkLayer(probs: Float32Array, lay: AttentionLayout): void {
  const want = lay.heads * lay.tokens * lay.tokens;
  if (probs.length !== want) throw new ModelLensError('corrupt', '(attention)', `attention output has ${probs.length} values; ${lay.heads} heads × ${lay.tokens}² tokens need ${want}`);
}

/**
 * The row of query token `token` for every head, over patch keys only, as the model computes it (not
 * renormalised): [H·N]. `specialMass[h]` is the share of that row on special tokens.
 */
export function tokenRows(probs: Float32Array, lay: AttentionLayout, token: number): { rows: Float32Array; specialMass: Float64Array } {
  checkLayer(probs, lay);
  const { heads: h, tokens: t, specialTokens: s } = lay;
  const n = t - s;
  const rows = new Float32Array(h * n);
  const specialMass = new Float64Array(h);
  for (let k = 0; k < h; k++) {
    const base = (k * t + token) * t;
    rows.set(probs.subarray(base + s, base + t), k * n);
    let m = 0;
    for (let j = 0; j < s; j++) m += probs[base + j]!;
    specialMass[k] = m;
  }
  return { rows, specialMass };
}

/** Token index of the patch at grid row/col. */
export function patchToken(lay: AttentionLayout, row: number, col: number): number {
  return lay.specialTokens + row * lay.grid[1] + col;
}

/**
 * Attention rollout through layers 1..`layers.length` (Abnar & Zuidema 2020): per layer
 * R_l = 0.5·mean_h A_l + 0.5·I over all tokens with rows renormalised, R = R_L···R_1. Returns the
 * CLS row of R (without a class token: the mean of the patch rows) over patch keys [N], in float64.
 * Only one row is needed, so it is carried as a row vector through the layers (T² per layer, not T³).
 */
export function rollout(layers: readonly Float32Array[], lay: AttentionLayout): Float64Array {
  const { heads: h, tokens: t, specialTokens: s } = lay;
  let v = new Float64Array(t);
  if (lay.hasCls) v[0] = 1;
  else for (let i = s; i < t; i++) v[i] = 1 / (t - s);
  const r = new Float64Array(t * t);
  for (let l = layers.length - 1; l >= 0; l--) {
    const p = layers[l]!;
    checkLayer(p, lay);
    r.fill(0);
    for (let k = 0; k < h; k++) {
      const base = k * t * t;
      for (let x = 0; x < t * t; x++) r[x]! += p[base + x]!;
    }
    for (let i = 0; i < t; i++) {
      let sum = 0;
      for (let j = 0; j < t; j++) {
        const val = (0.5 * r[i * t + j]!) / h + (i === j ? 0.5 : 0);
        r[i * t + j] = val;
        sum += val;
      }
      for (let j = 0; j < t; j++) r[i * t + j]! /= sum;
    }
    const next = new Float64Array(t);
    for (let i = 0; i < t; i++) {
      const vi = v[i]!;
      if (vi === 0) continue;
      const row = i * t;
      for (let j = 0; j < t; j++) next[j]! += vi * r[row + j]!;
    }
    v = next;
  }
  return v.slice(s);
}

const EPS = 1e-8;

/**
 * This image's per-head average attention distance (px) and entropy (nats) for one layer, with the
 * definitions of DESIGN.md items 2 and 8 (patch queries, rows renormalised over patch keys).
 */
export function headStats(probs: Float32Array, lay: AttentionLayout): { distance: Float64Array; entropy: Float64Array } {
  checkLayer(probs, lay);
  const { heads: h, tokens: t, specialTokens: s, grid: [gh, gw], patchSize: [ph, pw] } = lay;
  const n = gh * gw;
  const dist = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const dr = ph * (Math.floor(a / gw) - Math.floor(b / gw));
      const dc = pw * ((a % gw) - (b % gw));
      dist[a * n + b] = Math.sqrt(dr * dr + dc * dc);
    }
  }
  const distance = new Float64Array(h);
  const entropy = new Float64Array(h);
  for (let k = 0; k < h; k++) {
    let ad = 0;
    let en = 0;
    for (let i = 0; i < n; i++) {
      const base = (k * t + s + i) * t + s;
      let z = 0;
      for (let j = 0; j < n; j++) z += probs[base + j]!;
      let rowD = 0;
      let rowE = 0;
      for (let j = 0; j < n; j++) {
        const a = probs[base + j]! / z;
        rowD += a * dist[i * n + j]!;
        rowE -= a * Math.log(Math.max(a, EPS));
      }
      ad += rowD;
      en += rowE;
    }
    distance[k] = ad / n;
    entropy[k] = en / n;
  }
  return { distance, entropy };
}
