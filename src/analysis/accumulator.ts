// Float64 accumulation of the per-batch reductions the analysis graph emits (see the graph contract in
// DESIGN.md): attention-distance sums [L,H], KL sums [L,H,H] and Gram stacks [L,n,n].
import { headDiversityFromKlSum } from './metrics';
import type { MetricBlock } from './resultSchema';

type Numeric = ArrayLike<number>;

/** Sums of one model's attention reductions over every batch. */
export class AttentionAccumulator {
  private readonly dist: Float64Array;
  private readonly kl: Float64Array;
  /** Images × query patches seen so far (the divisor of every mean). */
  private count = 0;

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
  add(distSum: Numeric, klSum: Numeric, batch: number): void {
    if (distSum.length !== this.dist.length) throw new RangeError(`attn_dist_sum has ${distSum.length} values, expected ${this.layers}x${this.heads}`);
    if (klSum.length !== this.kl.length) throw new RangeError(`kl_sum has ${klSum.length} values, expected ${this.layers}x${this.heads}x${this.heads}`);
    for (let i = 0; i < this.dist.length; i++) this.dist[i] = (this.dist[i] as number) + (distSum[i] as number);
    for (let i = 0; i < this.kl.length; i++) this.kl[i] = (this.kl[i] as number) + (klSum[i] as number);
    this.count += batch * this.patchTokens;
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
}

function mean(row: readonly number[]): number {
  return row.length === 0 ? NaN : row.reduce((a, b) => a + b, 0) / row.length;
}
