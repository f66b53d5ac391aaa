// Messages between the analysis panel (extension host) and the analysis view (webview), carried by the
// RPC of rpc.ts over postMessage. The host validates everything the webview sends (src/host/analysisMessages.ts).
import type { AnalysisResult } from '../analysis/resultSchema';

// The webview may import only src/protocol, so the result types it renders are re-exported here.
export type { AnalysisResult, CkaBlock, MetricBlock, ProbeInfo, DeviceName } from '../analysis/resultSchema';
export type { ModelSummary, StageSummary } from '../model/modelTypes';

/** Method names; `view→host` ones are validated by the host before use. */
export const ANALYSIS_VIEW_METHODS = {
  /** view→host note: the page has loaded and wants the current state (params: {}). */
  ready: 'analysisView/ready',
  /** host→view note: the whole state to display (params: AnalysisViewState). */
  show: 'analysisView/show',
  /** host→view note: per-batch progress of the running job (params: AnalysisProgress). */
  progress: 'analysisView/progress',
  /** view→host note: the user pressed Cancel (params: {}). */
  cancel: 'analysisView/cancel',
  /** view→host note: run the analysis again, bypassing the cache (params: {}). */
  rerun: 'analysisView/rerun',
  /** view→host note: reveal the Model Lens output channel (params: {}). */
  showLog: 'analysisView/showLog',
  /** view→host note: one of the view's fixed follow-up actions (params: {command: ViewCommand}). */
  command: 'analysisView/command',
  /** view→host request: save an export through a save dialog (params: ExportRequest → ExportResponse). */
  export: 'analysisView/export',
  /** host→view request: the PNG of one chart, for the Export Analysis command (params: {chart: ChartId} → {dataUrl}). */
  renderPng: 'analysisView/renderPng',
  /** view→host note: open the metric definitions (docs/metrics.md shipped in the extension) in a preview (params: {}). */
  openMetricsDocs: 'analysisView/openMetricsDocs',
  /** view→host note: a head's dot was clicked; open its attention maps (params: OpenAttentionParams). */
  openAttention: 'analysisView/openAttention',
} as const;

/**
 * Follow-up actions the view offers (error card, probe warning): open the failing checkpoint in the
 * inspector, choose probe images, manage workspace trust, choose the compute device.
 */
export type ViewCommand = 'openInspector' | 'chooseProbeImages' | 'manageTrust' | 'selectDevice';
export const VIEW_COMMANDS: readonly ViewCommand[] = ['openInspector', 'chooseProbeImages', 'manageTrust', 'selectDevice'];

/** A drill-down from a chart: model 0 = A, 1 = B; layer and head 0-based. */
export interface OpenAttentionParams {
  model: number;
  layer: number;
  head: number;
}

/** Metric names that can be exported as CSV. */
export type CsvMetric = 'attentionDistance' | 'headDiversity' | 'specialMass' | 'attentionEntropy' | 'cka' | 'crossCka';
export const CSV_METRICS: readonly CsvMetric[] = ['attentionDistance', 'headDiversity', 'specialMass', 'attentionEntropy', 'cka', 'crossCka'];

/** Chart ids, also used for PNG file names. */
export type ChartId =
  | 'attention-distance'
  | 'head-diversity'
  | 'special-mass'
  | 'attention-entropy'
  | 'cka'
  | 'cka-b'
  | 'cross-cka';
export const CHART_IDS: readonly ChartId[] = ['attention-distance', 'head-diversity', 'special-mass', 'attention-entropy', 'cka', 'cka-b', 'cross-cka'];

/** Where the job is; `idle` before the first request. */
export type AnalysisPhase = 'running' | 'done' | 'error' | 'cancelled';

/** One progress step of the running job. */
export interface AnalysisProgress {
  /** Batches (or steps) done so far. */
  done: number;
  /** Total batches (or steps); 0 when not yet known. */
  total: number;
  /** Short stage label, e.g. "Reading weights", "Batch 3/8". */
  stage: string;
}

/** What the view shows; also what the view persists with setState and the serializer restores. */
export interface AnalysisViewState {
  /** Panel identity: the checkpoint path, or "A\u0000B" for a comparison. */
  key: string;
  /** Checkpoint paths: one, or two for a comparison. */
  files: string[];
  /** Weight variant per file (e.g. "ema"), null for the file's default set; absent when all are default. */
  variants?: Array<string | null>;
  /** Panel title (file names). */
  title: string;
  phase: AnalysisPhase;
  progress?: AnalysisProgress;
  result?: AnalysisResult;
  error?: AnalysisViewError;
  /** True when the result came from the cache. */
  cached?: boolean;
}

/** Why a run failed: the error code, its message and, when it is about a file, which file and where. */
export interface AnalysisViewError {
  code: string;
  message: string;
  /** The file the error is about (a checkpoint, a probe image or folder). */
  file?: string;
  /** Byte offset in that file, when known. */
  offset?: number;
}

/** Export one artefact of the shown result. */
export type ExportRequest =
  | { format: 'json' }
  | { format: 'csv'; metric: CsvMetric }
  | { format: 'png'; chart: ChartId; dataUrl: string };

/** Answer to an ExportRequest: `path` when the user saved a file. */
export interface ExportResponse {
  saved: boolean;
  path?: string;
}

/** Answer to `analysisView/renderPng`. */
export interface RenderPngResponse {
  dataUrl: string;
}

/** The data: URL prefix of a PNG export. */
export const PNG_DATA_URL_PREFIX = 'data:image/png;base64,';
/** Upper bound on a PNG export's data: URL length (chars); a chart canvas is far smaller. */
export const MAX_PNG_DATA_URL_CHARS = 24 * 1024 * 1024;
