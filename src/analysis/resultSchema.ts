// `model-lens/analysis@1`, exactly as DESIGN.md gives it.
import type { ModelSummary } from '../model/modelTypes';

export const ANALYSIS_SCHEMA = 'model-lens/analysis@1';
export const INSPECT_SCHEMA = 'model-lens/inspect@1';

export type DeviceName = 'auto' | 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';

export interface ProbeInfo {
  source: 'folder' | 'synthetic';
  /** The folder is the bundled photographs (media/probes) that runs use by default. */
  bundled?: boolean;
  count: number;
  batchSize: number;
  preprocess: {
    size: [number, number];
    mean: [number, number, number];
    std: [number, number, number];
    resize: string;
    folder?: string;
    skipped?: number;
  };
  /** Hash of the probe set (cache key). */
  hash?: string;
}

/** 95% percentile-bootstrap intervals over probe images (DESIGN.md item 9), [lo, hi] each. */
export interface MetricCi95 {
  perHead: Array<Array<[number, number]>>;
  perLayer: Array<[number, number]>;
}

export interface MetricBlock {
  perHead: number[][];
  perLayer: number[];
  /** `fraction`: special-token mass, a share of each query's attention in [0, 1]. */
  unit: 'px' | 'nats' | 'fraction';
  ci95?: MetricCi95;
}

export interface CkaBlock {
  matrix: number[][];
  batches: number;
  estimator: 'linear-minibatch-unbiased';
  /** Bootstrap over minibatches, only with at least 5 of them: [l][m] = [lo, hi]. */
  ci95?: { matrix: Array<Array<[number, number]>> };
}

export type DistanceConvention = 'renormalised' | 'vit';
export type CkaTokens = 'all' | 'patch' | 'cls' | 'mean';

/** The options a result was computed with (absent in results made before they existed: the defaults). */
export interface AnalysisOptions {
  distanceConvention: DistanceConvention;
  ckaTokens: CkaTokens;
  /** Model A's input size [h, w]. */
  imageSize: [number, number];
}

/** A model analysed beside model A on the same probe batches. */
export interface ComparedModel {
  model: ModelSummary;
  attentionDistance: MetricBlock;
  headDiversity: MetricBlock;
  specialMass?: MetricBlock;
  attentionEntropy?: MetricBlock;
  cka: CkaBlock;
  /** CKA between layers of model A (rows) and this model (columns). */
  crossCka: number[][];
  /** Bootstrap over minibatches of crossCka (at least 5 batches): [l][m] = [lo, hi]. */
  crossCkaCi95?: Array<Array<[number, number]>>;
}

export interface AnalysisResult {
  schema: typeof ANALYSIS_SCHEMA;
  model: ModelSummary;
  probe: ProbeInfo;
  device: { requested: DeviceName; used: DeviceName; fallbackReason?: string };
  attentionDistance: MetricBlock;
  headDiversity: MetricBlock;
  specialMass?: MetricBlock;
  attentionEntropy?: MetricBlock;
  cka: CkaBlock;
  compare?: ComparedModel;
  /** Models C, D, ... of an N-way comparison; `crossCka` is always against model A. */
  compareMore?: ComparedModel[];
  options?: AnalysisOptions;
  timing: { totalMs: number; inferenceMs: number; [k: string]: number };
  warnings: string[];
}
