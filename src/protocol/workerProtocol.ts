// Messages between the host (extension host or CLI) and the analysis worker process. Types only.
import type { AnalysisResult, CkaTokens, DeviceName, DistanceConvention } from '../analysis/resultSchema';
import type { AttentionKind } from '../analysis/attentionMaps';
import type { ModelSummary } from '../model/modelTypes';
import type { Checkpoint } from '../formats/checkpoint';

/** Request: run the analyses on one checkpoint, or two for a comparison (both see the same batches). */
export const ANALYSIS_RUN = 'analysis/run';
/** Request: analyse every checkpoint of a training run (TimelineRunParams); answers `model-lens/timeline@1`. */
export const TIMELINE_RUN = 'timeline/run';
/** Notification worker→host: one checkpoint of a timeline job finished (TimelineCheckpointNote). */
export const TIMELINE_CHECKPOINT = 'timeline/checkpoint';
/** Request: weights diff of two checkpoints (WeightsDiffParams); answers `model-lens/weights-diff@1`. */
export const WEIGHTS_DIFF = 'weights/diff';
/** Notification worker→host: one batch done (or a phase change). */
export const ANALYSIS_PROGRESS = 'analysis/progress';
/** Request: statistics of one tensor (min/max/mean/std, non-finite counts). */
export const TENSOR_STATS = 'tensor/stats';
/** Request: checkpoint header and recognized model, no weights read beyond what recognition needs. */
export const INSPECT_HEADER = 'inspect/header';
/** Request: heads of an ONNX graph's attention, as the analysis will find them (params: {file} → {heads: number | null}). */
export const ONNX_HEADS = 'onnx/heads';
/** Notification worker→host: a log line for the output channel / stderr. */
export const WORKER_LOG = 'worker/log';
/** Request: liveness check (params: WorkerPingParams); answers with a WorkerPong. */
export const WORKER_PING = 'worker/ping';
/** Request: one layer's attention rows (or the rollout row) of one image through one model (AttentionMapParams). */
export const ATTENTION_MAP = 'attention/map';
/** Request: thumbnails of the probe images the attention view picks from (AttentionProbesParams). */
export const ATTENTION_PROBES = 'attention/probes';

/** Parameters of `analysis/run`. */
export interface AnalysisRunParams {
  /** Checkpoint (or .onnx) to analyze. */
  file: string;
  /** Second checkpoint for a comparison; both models see the same probe batches. */
  fileB?: string;
  /** Further checkpoints of an N-way comparison (after fileB); model A is the reference for cross-model CKA. */
  more?: string[];
  /** Folder of PNG/JPEG probes; absent means the bundled photographs, `synthetic` the built-in synthetic set. */
  images?: string;
  /** At most this many probe images (synthetic: exactly this many; default 64). */
  limit?: number;
  /** Images per batch (default 16); also the CKA minibatch size. */
  batchSize: number;
  device: DeviceName;
  /** Number of attention heads when the checkpoint does not say. */
  heads?: number;
  headsB?: number;
  /** The user confirmed heads overrides that contradict a recorded head count. */
  headsForce?: boolean;
  /** Weight set inside the file (e.g. "model_ema"). */
  variant?: string;
  variantB?: string;
  /** Attention-distance convention (DESIGN.md item 7; default renormalised). */
  distanceConvention?: DistanceConvention;
  /** Tokens of the block output that enter CKA (DESIGN.md item 10; default all). */
  ckaTokens?: CkaTokens;
  /**
   * Analyse every model at this square input size (px) instead of its native one: absolute position
   * embeddings are resampled bicubic (timm's default); models that cannot be are refused. Absent: native.
   */
  imageSize?: number;
  /** Echoed in progress notifications so the host can route them. */
  jobId?: string;
}

/** Parameters of `timeline/run`. */
export interface TimelineRunParams {
  /** One run folder, or checkpoint files (in any order; the job orders them). */
  inputs: string[];
  /** As in AnalysisRunParams. */
  images?: string;
  limit?: number;
  batchSize: number;
  device: DeviceName;
  /** As in AnalysisRunParams: every checkpoint analysed at this input size (px). */
  imageSize?: number;
  /** Result cache folder; each checkpoint's entry is read from and written to its `timeline/` (absent: no cache). */
  cacheDir?: string;
  jobId?: string;
}

/** Payload of `timeline/checkpoint`: checkpoint `index` of `total` (run order) is done. */
export interface TimelineCheckpointNote {
  jobId: string;
  index: number;
  total: number;
  file: string;
  cached: boolean;
}

/** Parameters of `weights/diff`: A is the reference (‖B − A‖ / ‖A‖). */
export interface WeightsDiffParams {
  fileA: string;
  fileB: string;
  variantA?: string;
  variantB?: string;
}

/** Payload of `analysis/progress`. */
export interface AnalysisProgress {
  jobId: string;
  /** Images done (phase "run") or 0/1 for other phases. */
  done: number;
  total: number;
  phase: 'load' | 'build' | 'session' | 'run' | 'done';
  /** Human-readable detail, e.g. "CPU (WebGPU unavailable: ...)". */
  message?: string;
}

/** Parameters of `tensor/stats`. */
export interface TensorStatsParams {
  file: string;
  tensor: string;
  variant?: string;
}

/** Result of `tensor/stats`; the shape R's tensorStats returns, passed through. */
export type TensorStatsResult = Record<string, unknown>;

/** Parameters of `inspect/header`. */
export interface InspectHeaderParams {
  file: string;
  variant?: string;
  heads?: number;
}

/** Result of `inspect/header`. */
export interface InspectHeaderResult {
  checkpoint: Checkpoint;
  model: ModelSummary;
}

/** Payload of `worker/log`. */
export interface WorkerLog {
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** Parameters of `worker/ping`. */
export interface WorkerPingParams {
  /** List onnxruntime's backends in the answer (loads onnxruntime if it is not loaded yet). */
  backends?: boolean;
}

/** Result of `worker/ping`. */
export interface WorkerPong {
  pid: number;
  /** onnxruntime's backends; only when asked for (listing them loads onnxruntime). */
  backends?: Array<{ name: string; bundled: boolean }>;
  /** Whether the worker has loaded onnxruntime-node (it does on the first analysis only). */
  ortLoaded: boolean;
  /** Native runs of cancelled jobs still executing (onnxruntime cannot interrupt a run); 0 when none. */
  busy?: number;
}

/** One image for the attention view: a file, or the i-th image of the built-in synthetic set. */
export type AttentionImageRef = { file: string } | { synthetic: number };

/** Parameters of `attention/map`. */
export interface AttentionMapParams {
  file: string;
  variant?: string;
  heads?: number;
  device: DeviceName;
  image: AttentionImageRef;
  /** 0-based layer; rollout runs through layers 0..layer. */
  layer: number;
  kind: AttentionKind;
  /** Query patch [row, col] from the top-left patch (kind "query"). */
  query?: [number, number];
  /** Also send the preprocessed image (RGB bytes at the model's input size). */
  withImage?: boolean;
  /** Square input side in px (position embeddings resampled, as for the analysis); absent: native. */
  imageSize?: number;
}

/** Result of `attention/map`: only what the view shows, numbers as base64 float32. */
export interface AttentionMapResult {
  model: { file: string; family: string; layers: number; heads: number; grid: [number, number]; patchSize: [number, number]; inputSize: [number, number]; specialTokens: number; hasCls: boolean };
  image: { name: string; rgb?: string };
  layer: number;
  kind: AttentionKind;
  query?: [number, number];
  /** base64 float32 [rows × gh·gw]: one row per head (cls, query) or one row (rollout). */
  rows: string;
  /** Per head: the share of the row on special tokens (rollout: one value). */
  specialMass: number[];
  /** Per head, this image and layer: attention distance (px) and entropy (nats), DESIGN.md items 2 and 8. */
  distance: number[];
  entropy: number[];
  device: string;
  timing: { totalMs: number; inferenceMs: number; cached: boolean };
}

/** Parameters of `attention/probes`. */
export interface AttentionProbesParams {
  /** Probe folder; absent means the bundled photographs, `synthetic` the synthetic set drawn at `inputSize`. */
  images?: string;
  limit?: number;
  inputSize: [number, number];
  /** Thumbnail edge in pixels. */
  thumb: number;
}

/** Result of `attention/probes`. */
export interface AttentionProbesResult {
  thumb: number;
  /** `ref` is what `attention/map` takes; `rgb` base64 thumb×thumb×3. */
  items: Array<{ name: string; ref: AttentionImageRef; rgb: string }>;
}

export type { AnalysisResult };
