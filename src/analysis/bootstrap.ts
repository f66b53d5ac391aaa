// Percentile-bootstrap 95% intervals (DESIGN.md item 9), written so that a few lines of Python reproduce
// every resample exactly (test/fixtures/metrics/makeMetricRefs.py does, to 1e-9):
//   generator  mulberry32, 32-bit state seeded with BOOTSTRAP_SEED, one fresh generator per interval family
//              (the per-image metrics of one run share one stream; CKA has its own);
//   order      resample k = 0..R−1, then position p = 0..n−1: index = floor(r·n / 2³²), r the next output;
//   statistic  per item: mean of the resampled per-unit values; per group (layer): mean of its items' means;
//   interval   2.5th and 97.5th percentiles of the R statistics, linear interpolation between order
//              statistics at q·(R−1) (numpy's default "linear" method).

export const BOOTSTRAP_RESAMPLES = 1000;
/** Fixed so that a rerun on the same probe images gives the same intervals. */
export const BOOTSTRAP_SEED = 220513543;
/** Fewer units than this and an interval says nothing; none is reported. */
export const MIN_BOOTSTRAP_UNITS = 2;

export type Interval = [number, number];

/** mulberry32: a 32-bit generator with a 2³² period, small enough to port bit for bit. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Index in [0, n) from one 32-bit draw; exact in doubles for n < 2²¹. */
function drawIndex(r: number, n: number): number {
  return Math.floor((r * n) / 4294967296);
}

/** Calls `visit(counts)` once per resample with how often each of the n units was drawn. */
export function forEachResample(n: number, resamples: number, seed: number, visit: (counts: Uint32Array, k: number) => void): void {
  const next = mulberry32(seed);
  const counts = new Uint32Array(n);
  for (let k = 0; k < resamples; k++) {
    counts.fill(0);
    for (let p = 0; p < n; p++) counts[drawIndex(next(), n)]! += 1;
    visit(counts, k);
  }
}

/** The q-th quantile (0..1) of an ascending array, linear between order statistics at q·(len−1). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo] as number;
  return a + ((sorted[hi] as number) - a) * (pos - lo);
}

function interval(stats: Float64Array): Interval {
  const s = Float64Array.from(stats).sort();
  return [quantileSorted(s, 0.025), quantileSorted(s, 0.975)];
}

export interface MeanIntervals {
  /** One interval per item. */
  items: Interval[];
  /** One per group of `groupSize` consecutive items (the mean of the group's item means). */
  groups: Interval[];
}

/**
 * Bootstrap intervals of item means over units: `values` is [n units][k items] row-major (e.g. images ×
 * (layer, head)); items are grouped in consecutive runs of `groupSize` (the heads of a layer), or of
 * `groupSize[g]` items for group g when layers have different head counts.
 */
export function bootstrapMeans(values: Float64Array, n: number, k: number, groupSize: number | readonly number[], resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED): MeanIntervals {
  if (values.length !== n * k) throw new RangeError(`bootstrap: ${values.length} values, expected ${n}x${k}`);
  const sizes = typeof groupSize === 'number' ? Array.from({ length: groupSize > 0 ? k / groupSize : 0 }, () => groupSize) : [...groupSize];
  if (sizes.some((g) => !(g > 0) || !Number.isInteger(g)) || sizes.reduce((a, b) => a + b, 0) !== k) throw new RangeError(`bootstrap: ${k} items do not split into groups of ${String(groupSize)}`);
  const groups = sizes.length;
  const starts: number[] = [];
  sizes.reduce((at, g) => (starts.push(at), at + g), 0);
  const itemStats = new Float64Array(resamples * k);
  const groupStats = new Float64Array(resamples * groups);
  const acc = new Float64Array(k);
  forEachResample(n, resamples, seed, (counts, r) => {
    acc.fill(0);
    for (let u = 0; u < n; u++) {
      const c = counts[u] as number;
      if (c === 0) continue;
      const row = u * k;
      for (let i = 0; i < k; i++) acc[i] = (acc[i] as number) + c * (values[row + i] as number);
    }
    for (let i = 0; i < k; i++) itemStats[i * resamples + r] = (acc[i] as number) / n;
    for (let gi = 0; gi < groups; gi++) {
      let s = 0;
      const from = starts[gi] as number;
      const size = sizes[gi] as number;
      for (let i = from; i < from + size; i++) s += (acc[i] as number) / n;
      groupStats[gi * resamples + r] = s / size;
    }
  });
  const items: Interval[] = [];
  for (let i = 0; i < k; i++) items.push(interval(itemStats.subarray(i * resamples, (i + 1) * resamples)));
  const out: Interval[] = [];
  for (let gi = 0; gi < groups; gi++) out.push(interval(groupStats.subarray(gi * resamples, (gi + 1) * resamples)));
  return { items, groups: out };
}

/** Percentile interval of each cell of a statistic computed per resample (`cells` values each time). */
export function bootstrapCells(n: number, cells: number, statistic: (counts: Uint32Array, out: Float64Array) => void, resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED): Interval[] {
  const stats = new Float64Array(resamples * cells);
  const out = new Float64Array(cells);
  forEachResample(n, resamples, seed, (counts, r) => {
    out.fill(NaN);
    statistic(counts, out);
    for (let c = 0; c < cells; c++) stats[c * resamples + r] = out[c] as number;
  });
  const res: Interval[] = [];
  for (let c = 0; c < cells; c++) res.push(interval(stats.subarray(c * resamples, (c + 1) * resamples)));
  return res;
}
