// `model-lens/timeline@1` (DESIGN.md): the analyses of every checkpoint of a training run, in run order.
import type { ModelSummary } from '../model/modelTypes';
import type { AnalysisResult, CkaBlock, MetricBlock, ProbeInfo } from './resultSchema';

export const TIMELINE_SCHEMA = 'model-lens/timeline@1';

/** CKA of one checkpoint, summarised for a line against step. */
export interface CkaSummary {
  /** Mean of the off-diagonal entries of the layer×layer CKA matrix. */
  meanOffDiagonal: number | null;
  /** CKA between the first and the last layer. */
  firstLast: number | null;
  /** Per layer l: CKA between layer l of this checkpoint and layer l of the run's final checkpoint. */
  toFinal: Array<number | null>;
  /** Mean of `toFinal`. */
  toFinalMean: number | null;
}

export interface TimelineCheckpoint {
  file: string;
  step?: number;
  epoch?: number;
  model: ModelSummary;
  attentionDistance: MetricBlock;
  headDiversity: MetricBlock;
  cka: CkaBlock;
  specialMass?: MetricBlock;
  ckaSummary: CkaSummary;
  warnings: string[];
  /** The checkpoint's numbers came from the per-checkpoint cache. */
  cached?: boolean;
}

export interface TimelineResult {
  schema: typeof TIMELINE_SCHEMA;
  run: { folder?: string; orderedBy: 'step' | 'epoch' | 'name' | 'mtime' };
  probe: ProbeInfo;
  device: AnalysisResult['device'];
  checkpoints: TimelineCheckpoint[];
  skipped: Array<{ file: string; reason: string }>;
  timing?: { totalMs: number; [k: string]: number };
  warnings?: string[];
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** Mean off-diagonal and first-vs-last-layer CKA of a layer×layer matrix. */
export function ckaMatrixSummary(m: readonly (readonly number[])[]): Pick<CkaSummary, 'meanOffDiagonal' | 'firstLast'> {
  let sum = 0;
  let count = 0;
  m.forEach((row, i) => row.forEach((v, j) => {
    if (i !== j && Number.isFinite(v)) {
      sum += v;
      count++;
    }
  }));
  return { meanOffDiagonal: count ? sum / count : null, firstLast: finite(m[0]?.[m.length - 1]) };
}

export function meanOf(xs: ReadonlyArray<number | null>): number | null {
  const f = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : null;
}
