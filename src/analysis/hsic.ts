// Unbiased linear HSIC and minibatch CKA (Nguyen, Raghu & Kornblith 2021), as DESIGN.md defines it.
// Gram matrices arrive per batch from the graph (float32); every sum here is float64 because the unbiased
// estimator subtracts large, nearly equal terms.

import { bootstrapCells, type Interval } from './bootstrap';

type Numeric = ArrayLike<number>;

/** CKA intervals resample minibatches; with fewer of them a percentile interval means little (DESIGN.md item 9). */
export const MIN_CKA_CI_BATCHES = 5;

/** Below this many images the unbiased estimator is undefined (n(n-3) in the denominator). */
export const MIN_CKA_BATCH = 4;

/** Zero-diagonal statistics of one n×n Gram matrix, enough to get HSIC1 against any other. */
interface GramStats {
  /** Off-diagonal entries, row-major, diagonal zeroed. */
  k: Float64Array;
  /** Row sums of the zero-diagonal matrix. */
  rows: Float64Array;
  total: number;
}

function gramStats(src: Numeric, offset: number, n: number): GramStats {
  const k = new Float64Array(n * n);
  const rows = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      // Symmetrise: the graph computes X Xᵀ in float32, whose two triangles can differ in the last bit.
      const v = 0.5 * ((src[offset + i * n + j] as number) + (src[offset + j * n + i] as number));
      k[i * n + j] = v;
      r += v;
    }
    rows[i] = r;
    total += r;
  }
  return { k, rows, total };
}

function hsicFromStats(a: GramStats, b: GramStats, n: number): number {
  let tr = 0;
  for (let x = 0; x < n * n; x++) tr += (a.k[x] as number) * (b.k[x] as number);
  let kl1 = 0;
  for (let i = 0; i < n; i++) kl1 += (a.rows[i] as number) * (b.rows[i] as number);
  return (tr + (a.total * b.total) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * kl1) / (n * (n - 3));
}

/** HSIC1(K, L) with zeroed diagonals; K and L are n×n row-major (their diagonals are ignored). */
export function hsic1(k: Numeric, l: Numeric, n: number): number {
  if (n < MIN_CKA_BATCH) throw new RangeError(`unbiased HSIC needs n >= ${MIN_CKA_BATCH}, got ${n}`);
  if (k.length !== n * n || l.length !== n * n) throw new RangeError(`Gram matrices must be ${n}x${n}`);
  return hsicFromStats(gramStats(k, 0, n), gramStats(l, 0, n), n);
}

/**
 * Accumulates Σ_batches HSIC1 over every pair of layers of one or more models that saw the same batches.
 * Model m contributes layers[m] Gram matrices per batch; CKA within a model and across models come from
 * the same table.
 */
export class CkaAccumulator {
  private readonly offsets: number[];
  private readonly total: number;
  private readonly sums: Float64Array;
  /** Each batch's own HSIC table, for the bootstrap over minibatches. */
  private readonly perBatch: Float64Array[] = [];
  private batchCount = 0;

  constructor(private readonly layers: readonly number[]) {
    this.offsets = [];
    let t = 0;
    for (const l of layers) {
      this.offsets.push(t);
      t += l;
    }
    this.total = t;
    this.sums = new Float64Array(t * t);
  }

  /** Batches that entered the estimate. */
  get batches(): number {
    return this.batchCount;
  }

  /**
   * Adds one batch: grams[m] is model m's [L_m, n, n] Gram stack for the same n images.
   * Returns false (and adds nothing) when n < 4.
   */
  addBatch(grams: readonly Numeric[], n: number): boolean {
    if (grams.length !== this.layers.length) throw new RangeError(`expected ${this.layers.length} Gram stacks, got ${grams.length}`);
    if (n < MIN_CKA_BATCH) return false;
    const stats: GramStats[] = [];
    grams.forEach((g, m) => {
      const lm = this.layers[m] as number;
      if (g.length !== lm * n * n) throw new RangeError(`model ${m}: Gram stack has ${g.length} values, expected ${lm}x${n}x${n}`);
      for (let l = 0; l < lm; l++) stats.push(gramStats(g, l * n * n, n));
    });
    const own = new Float64Array(this.total * this.total);
    for (let p = 0; p < this.total; p++) {
      for (let q = p; q < this.total; q++) {
        const h = hsicFromStats(stats[p] as GramStats, stats[q] as GramStats, n);
        this.sums[p * this.total + q] = (this.sums[p * this.total + q] as number) + h;
        if (q !== p) this.sums[q * this.total + p] = (this.sums[q * this.total + p] as number) + h;
        own[p * this.total + q] = h;
        own[q * this.total + p] = h;
      }
    }
    this.perBatch.push(own);
    this.batchCount++;
    return true;
  }

  /** CKA between layers of model `a` (rows) and model `b` (columns); `a === b` gives the self matrix. */
  matrix(a = 0, b = a): number[][] {
    const la = this.layers[a];
    const lb = this.layers[b];
    if (la === undefined || lb === undefined) throw new RangeError('no such model');
    const oa = this.offsets[a] as number;
    const ob = this.offsets[b] as number;
    const out: number[][] = [];
    for (let i = 0; i < la; i++) {
      const row: number[] = [];
      for (let j = 0; j < lb; j++) {
        const p = oa + i;
        const q = ob + j;
        const num = this.sums[p * this.total + q] as number;
        const den = Math.sqrt((this.sums[p * this.total + p] as number) * (this.sums[q * this.total + q] as number));
        row.push(this.batchCount === 0 || !(den > 0) ? NaN : num / den);
      }
      out.push(row);
    }
    return out;
  }

  /**
   * 95% percentile-bootstrap interval of each CKA cell over minibatches (same generator and order as
   * bootstrap.ts, units = batches); undefined with fewer than MIN_CKA_CI_BATCHES batches.
   */
  matrixCi95(a = 0, b = a): Interval[][] | undefined {
    const la = this.layers[a];
    const lb = this.layers[b];
    if (la === undefined || lb === undefined) throw new RangeError('no such model');
    const nb = this.perBatch.length;
    if (nb < MIN_CKA_CI_BATCHES) return undefined;
    const oa = this.offsets[a] as number;
    const ob = this.offsets[b] as number;
    const t = this.total;
    const sums = new Float64Array(t * t);
    const cells = bootstrapCells(nb, la * lb, (counts, out) => {
      sums.fill(0);
      for (let k = 0; k < nb; k++) {
        const c = counts[k] as number;
        if (c === 0) continue;
        const h = this.perBatch[k] as Float64Array;
        for (let x = 0; x < t * t; x++) sums[x] = (sums[x] as number) + c * (h[x] as number);
      }
      for (let i = 0; i < la; i++) {
        for (let j = 0; j < lb; j++) {
          const p = oa + i;
          const q = ob + j;
          const den = Math.sqrt((sums[p * t + p] as number) * (sums[q * t + q] as number));
          out[i * lb + j] = den > 0 ? (sums[p * t + q] as number) / den : NaN;
        }
      }
    });
    const out: Interval[][] = [];
    for (let i = 0; i < la; i++) out.push(cells.slice(i * lb, (i + 1) * lb));
    return out;
  }
}
