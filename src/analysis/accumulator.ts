// Float64 accumulation of the per-batch reductions the analysis graph emits (see the graph contract in
// DESIGN.md): attention-distance sums [L,H], KL sums [L,H,H] and Gram stacks [L,n,n], plus the per-image
// values (distance, cross term, special-token mass) that give special mass, entropy and the bootstrap
// intervals. The reported distance and diversity come from the batch sums exactly as before the per-image
// outputs existed; the per-image values only add new blocks and intervals.
import { bootstrapMeans, MIN_BOOTSTRAP_UNITS, type Interval } from './bootstrap';
import { headDiversityFromKlSum } from './metrics';
import type { MetricBlock, MetricCi95 } from './resultSchema';

type Numeric = ArrayLike<number>;

/** One batch of the graph's per-image outputs: [L,B,H], [L,B,H,H], [L,B,H]. */
export interface PerImageOutputs {
  dist: Numeric;
  cross: Numeric;
  special: Numeric;
}

/** Per image, layer and head (DESIGN.md item 9): each a mean over the image's query patches. */
const PER_IMAGE_METRICS = ['distance', 'diversity', 'specialMass', 'entropy'] as const;
type PerImageMetric = (typeof PER_IMAGE_METRICS)[number];

/** Sums of one model's attention reductions over every batch. */
export class AttentionAccumulator {
  private readonly dist: Float64Array;
  private readonly kl: Float64Array;
  /** Images × query patches seen so far (the divisor of every mean). */
  private count = 0;
  /** Per metric, one [B_batch][L·H] block per batch; undefined once a batch came without per-image outputs. */
  private perImage: Record<PerImageMetric, Float64Array[]> | undefined = { distance: [], diversity: [], specialMass: [], entropy: [] };
  private perImageCount = 0;

  /**
   * `ragged` (windowed models): heads and query tokens of every layer; the graph pads each layer's sums
   * to `heads` columns, and per-layer means divide by images × that layer's tokens.
   */
  constructor(readonly layers: number, readonly heads: number, readonly patchTokens: number, private readonly ragged?: { headsPerLayer: readonly number[]; tokensPerLayer: readonly number[] }) {
    this.dist = new Float64Array(layers * heads);
    this.kl = new Float64Array(layers * heads * heads);
  }

  get images(): number {
    return this.count / this.patchTokens;
  }

  /** Adds one batch of `batch` images; `distSum` is [L,H], `klSum` is [L,H,H]. */
  add(distSum: Numeric, klSum: Numeric, batch: number, perImage?: PerImageOutputs): void {
    if (distSum.length !== this.dist.length) throw new RangeError(`attn_dist_sum has ${distSum.length} values, expected ${this.layers}x${this.heads}`);
    if (klSum.length !== this.kl.length) throw new RangeError(`kl_sum has ${klSum.length} values, expected ${this.layers}x${this.heads}x${this.heads}`);
    for (let i = 0; i < this.dist.length; i++) this.dist[i] = (this.dist[i] as number) + (distSum[i] as number);
    for (let i = 0; i < this.kl.length; i++) this.kl[i] = (this.kl[i] as number) + (klSum[i] as number);
    this.count += batch * this.patchTokens;
    if (perImage && this.perImage) this.addPerImage(perImage, batch);
    else this.perImage = undefined;
  }

  private addPerImage(p: PerImageOutputs, b: number): void {
    const { layers: L, heads: H } = this;
    const lh = L * H;
    if (p.dist.length !== L * b * H || p.special.length !== L * b * H || p.cross.length !== L * b * H * H) {
      throw new RangeError(`per-image outputs have ${p.dist.length}/${p.cross.length}/${p.special.length} values, expected ${L}x${b}x${H}(x${H})`);
    }
    const blocks = { distance: new Float64Array(b * lh), diversity: new Float64Array(b * lh), specialMass: new Float64Array(b * lh), entropy: new Float64Array(b * lh) };
    for (let l = 0; l < L; l++) {
      // Windowed models pad each layer to H heads; its own heads and query tokens are what count.
      const hl = this.layerHeads(l);
      const n = this.ragged?.tokensPerLayer[l] ?? this.patchTokens;
      for (let i = 0; i < b; i++) {
        const src = (l * b + i) * H;
        const cross = (l * b + i) * H * H;
        for (let h = 0; h < hl; h++) {
          const dst = i * lh + l * H + h;
          blocks.distance[dst] = (p.dist[src + h] as number) / n;
          blocks.specialMass[dst] = (p.special[src + h] as number) / n;
          const self = p.cross[cross + h * H + h] as number;
          blocks.entropy[dst] = -self / n;
          // KL_b(h‖h') = C_b[h,h] − C_b[h,h']; HD_b[h] is its mean over h' ≠ h, per query patch.
          let kl = 0;
          for (let h2 = 0; h2 < hl; h2++) if (h2 !== h) kl += self - (p.cross[cross + h * H + h2] as number);
          blocks.diversity[dst] = hl > 1 ? kl / (hl - 1) / n : 0;
        }
      }
    }
    for (const m of PER_IMAGE_METRICS) this.perImage?.[m].push(blocks[m]);
    this.perImageCount += b;
  }

  /** Whether every batch came with per-image outputs (graphs built before them do not have them). */
  get hasPerImage(): boolean {
    return this.perImage !== undefined && this.perImageCount > 0;
  }

  /** [images][L·H] per-image values of one metric, in probe order. */
  perImageValues(metric: PerImageMetric): Float64Array | undefined {
    if (!this.perImage || this.perImageCount === 0) return undefined;
    const out = new Float64Array(this.perImageCount * this.layers * this.heads);
    let off = 0;
    for (const blk of this.perImage[metric]) {
      out.set(blk, off);
      off += blk.length;
    }
    return out;
  }

  private layerHeads(l: number): number {
    return this.ragged?.headsPerLayer[l] ?? this.heads;
  }

  /** Images × query tokens of layer l seen so far. */
  private layerCount(l: number): number {
    const tokens = this.ragged?.tokensPerLayer[l];
    return tokens === undefined ? this.count : (this.count / this.patchTokens) * tokens;
  }

  attentionDistance(): MetricBlock {
    const perHead: number[][] = [];
    for (let l = 0; l < this.layers; l++) {
      const count = this.layerCount(l);
      perHead.push(Array.from(this.dist.subarray(l * this.heads, l * this.heads + this.layerHeads(l)), (v) => v / count));
    }
    return { perHead, perLayer: perHead.map(mean), unit: 'px' };
  }

  headDiversity(): MetricBlock {
    const hh = this.heads * this.heads;
    const perHead: number[][] = [];
    for (let l = 0; l < this.layers; l++) {
      const h = this.layerHeads(l);
      let kl = this.kl.subarray(l * hh, (l + 1) * hh);
      if (h !== this.heads) {
        // The layer's h×h block of the padded [H,H] sums.
        const sub = new Float64Array(h * h);
        for (let a = 0; a < h; a++) for (let b = 0; b < h; b++) sub[a * h + b] = kl[a * this.heads + b] as number;
        kl = sub;
      }
      perHead.push(Array.from(headDiversityFromKlSum(kl, h, this.layerCount(l))));
    }
    return { perHead, perLayer: perHead.map(mean), unit: 'nats' };
  }

  /** Mean over images of a per-image metric (float64), as a metric block. */
  private perImageBlock(metric: PerImageMetric, unit: MetricBlock['unit']): MetricBlock | undefined {
    const v = this.perImageValues(metric);
    if (!v) return undefined;
    const lh = this.layers * this.heads;
    const sums = new Float64Array(lh);
    for (let i = 0; i < this.perImageCount; i++) for (let k = 0; k < lh; k++) sums[k] = (sums[k] as number) + (v[i * lh + k] as number);
    const perHead: number[][] = [];
    for (let l = 0; l < this.layers; l++) perHead.push(Array.from(sums.subarray(l * this.heads, l * this.heads + this.layerHeads(l)), (s) => s / this.perImageCount));
    return { perHead, perLayer: perHead.map(mean), unit };
  }

  /** SM (DESIGN.md item 6): share of a patch query's attention on special tokens. */
  specialMass(): MetricBlock | undefined {
    return this.perImageBlock('specialMass', 'fraction');
  }

  /** EN (DESIGN.md item 8), nats. */
  attentionEntropy(): MetricBlock | undefined {
    return this.perImageBlock('entropy', 'nats');
  }

  /** 95% percentile-bootstrap intervals over probe images of one metric (undefined without per-image values). */
  ci95(metric: PerImageMetric): MetricCi95 | undefined {
    const v = this.perImageValues(metric);
    if (!v || this.perImageCount < MIN_BOOTSTRAP_UNITS) return undefined;
    const sizes = Array.from({ length: this.layers }, (_, l) => this.layerHeads(l));
    const k = sizes.reduce((a, b) => a + b, 0);
    // Only each layer's own heads enter the resampling (padded columns of windowed models are left out).
    const compact = k === this.layers * this.heads ? v : new Float64Array(this.perImageCount * k);
    if (compact !== v) {
      for (let i = 0; i < this.perImageCount; i++) {
        let at = i * k;
        for (let l = 0; l < this.layers; l++) for (let h = 0; h < (sizes[l] as number); h++) compact[at++] = v[i * this.layers * this.heads + l * this.heads + h] as number;
      }
    }
    const { items, groups } = bootstrapMeans(compact, this.perImageCount, k, sizes);
    const perHead: Interval[][] = [];
    let at = 0;
    for (const size of sizes) {
      perHead.push(items.slice(at, at + size));
      at += size;
    }
    return { perHead, perLayer: groups };
  }
}

/**
 * The attention blocks of a result for one model: distance and diversity as before, special mass and
 * entropy, each with its bootstrap interval when per-image values exist.
 */
export function attentionBlocks(acc: AttentionAccumulator): { attentionDistance: MetricBlock; headDiversity: MetricBlock; specialMass?: MetricBlock; attentionEntropy?: MetricBlock } {
  const withCi = (block: MetricBlock, metric: PerImageMetric): MetricBlock => {
    const ci = acc.ci95(metric);
    return ci ? { ...block, ci95: ci } : block;
  };
  const sm = acc.specialMass();
  const en = acc.attentionEntropy();
  return {
    attentionDistance: withCi(acc.attentionDistance(), 'distance'),
    headDiversity: withCi(acc.headDiversity(), 'diversity'),
    ...(sm ? { specialMass: withCi(sm, 'specialMass') } : {}),
    ...(en ? { attentionEntropy: withCi(en, 'entropy') } : {}),
  };
}

function mean(row: readonly number[]): number {
  return row.length === 0 ? NaN : row.reduce((a, b) => a + b, 0) / row.length;
}
