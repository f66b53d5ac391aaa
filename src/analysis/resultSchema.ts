// `model-lens/analysis@1`, exactly as DESIGN.md gives it.
import type { ModelSummary } from '../model/modelTypes';

export const ANALYSIS_SCHEMA = 'model-lens/analysis@1';
export const INSPECT_SCHEMA = 'model-lens/inspect@1';

export type DeviceName = 'auto' | 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';

export interface ProbeInfo {
  source: 'folder' | 'synthetic';
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

export interface MetricBlock {
  perHead: number[][];
  perLayer: number[];
  unit: 'px' | 'nats';
}

export interface CkaBlock {
  matrix: number[][];
  batches: number;
  estimator: 'linear-minibatch-unbiased';
}

/** A model analysed beside model A on the same probe batches. */
export interface ComparedModel {
  model: ModelSummary;
  attentionDistance: MetricBlock;
  headDiversity: MetricBlock;
  cka: CkaBlock;
  /** CKA between layers of model A (rows) and this model (columns). */
  crossCka: number[][];
}

export interface AnalysisResult {
  schema: typeof ANALYSIS_SCHEMA;
  model: ModelSummary;
  probe: ProbeInfo;
  device: { requested: DeviceName; used: DeviceName; fallbackReason?: string };
  attentionDistance: MetricBlock;
  headDiversity: MetricBlock;
  cka: CkaBlock;
  compare?: ComparedModel;
  /** Models C, D, ... of an N-way comparison; `crossCka` is always against model A. */
  compareMore?: ComparedModel[];
  timing: { totalMs: number; inferenceMs: number; [k: string]: number };
  warnings: string[];
}
