// Messages between the inspector custom editor (extension host) and its webview, carried by the RPC
// of rpc.ts over postMessage. Everything the webview sends is checked by the validators below before
// the host acts on it; the webview is treated as untrusted (it renders file-derived strings).
import type { ModelSummary } from '../model/modelTypes';
import type { DType, ExtraValue, Finding, OnnxSummary, WeightVariant } from '../formats/checkpoint';

/** Method names of the inspector channel. */
export const INSPECTOR_METHODS = {
  /** view→host note: the page has loaded and wants the current state (params: {}). */
  ready: 'inspector/ready',
  /** host→view note: the whole state to display (params: InspectorState). */
  show: 'inspector/show',
  /** host→view note: workspace trust changed (params: {trusted: boolean}). */
  trust: 'inspector/trust',
  /** view→host request: statistics of one tensor (params: TensorStatsRequest → TensorStatsView). */
  tensorStats: 'inspector/tensorStats',
  /** view→host note: reload the file with another weight variant (params: SelectVariantParams). */
  selectVariant: 'inspector/selectVariant',
  /** view→host note: run one of the allow-listed commands on this file (params: RunCommandParams). */
  runCommand: 'inspector/runCommand',
} as const;

/** Commands the inspector's buttons may ask the host to run, always on the inspector's own file. */
export const INSPECTOR_COMMANDS = ['analyze', 'compareWith', 'reopenWithDefault', 'showLog', 'reload'] as const;
export type InspectorCommand = (typeof INSPECTOR_COMMANDS)[number];

/** One row of the tensor table (compact: 10,000 of them cross the channel). */
export interface TensorRow {
  name: string;
  dtype: DType;
  shape: number[];
  /** Elements (product of the shape). */
  numel: number;
  /** Bytes the tensor spans in its file. */
  bytes: number;
  /** Absolute byte offset of the first element in `file` (for the curious, and for errors). */
  offset: number;
  /** Set when the bytes live in another file than the inspected one (shards, ONNX external data). */
  file?: string;
  /** True when the view is not C-contiguous. */
  strided?: boolean;
}

/** A typed bad-input error as the inspector shows it. */
export interface InspectorErrorView {
  code: string;
  file: string;
  offset?: number;
  problem: string;
}

/** Everything the inspector shows for one file. */
export interface InspectorData {
  file: string;
  fileName: string;
  sizeBytes: number;
  format: string;
  summary: ModelSummary;
  tensors: TensorRow[];
  findings: Finding[];
  extras: ExtraValue[];
  metadata: Record<string, string>;
  /** Config found with or inside the checkpoint, pretty-printed JSON (shown as text). */
  configText?: string;
  variants: WeightVariant[];
  selectedVariant?: string;
  strippedPrefix?: string;
  onnx?: OnnxSummary;
  /** Set when torch.load(weights_only=True) would refuse this pickle: what to allowlist, in one sentence. */
  weightsOnly?: string;
  /** Milliseconds the header read + recognition took (uncached). */
  readMs: number;
}

/** The webview's whole state (persisted with setState so a hidden tab restores instantly). */
export interface InspectorState {
  fileName: string;
  trusted: boolean;
  loading: boolean;
  data?: InspectorData;
  error?: InspectorErrorView;
}

export interface TensorStatsRequest {
  name: string;
}

/** Statistics of one tensor, computed in the worker from ranged reads. */
export interface TensorStatsView {
  name: string;
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  zerosFraction: number;
  nanCount: number;
  infCount: number;
  /** Equal-width bins over [histMin, histMax] of the finite values. */
  histogram: number[];
  histMin: number;
  histMax: number;
  /** Wall time in the worker, ms. */
  ms: number;
}

export interface SelectVariantParams {
  variant: string;
}

export interface RunCommandParams {
  command: InspectorCommand;
}

/** Caps on what the webview may send: names are bounded even for hostile files. */
export const MAX_NAME_CHARS = 4096;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function boundedString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_CHARS;
}

/** Validates `inspector/tensorStats` params; undefined when malformed. */
export function parseTensorStatsRequest(v: unknown): TensorStatsRequest | undefined {
  if (!isPlainObject(v) || !boundedString(v['name'])) return undefined;
  return { name: v['name'] };
}

/** Validates `inspector/selectVariant` params; undefined when malformed. */
export function parseSelectVariant(v: unknown): SelectVariantParams | undefined {
  if (!isPlainObject(v) || !boundedString(v['variant'])) return undefined;
  return { variant: v['variant'] };
}

/** Validates `inspector/runCommand` params against the allow-list; undefined when malformed. */
export function parseRunCommand(v: unknown): RunCommandParams | undefined {
  if (!isPlainObject(v)) return undefined;
  const c = v['command'];
  if (typeof c !== 'string' || !(INSPECTOR_COMMANDS as readonly string[]).includes(c)) return undefined;
  return { command: c as InspectorCommand };
}

/** Validates `inspector/ready` params (an empty object, or nothing). */
export function parseReady(v: unknown): boolean {
  return v === undefined || v === null || isPlainObject(v);
}
