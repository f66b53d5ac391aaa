// The reader-independent view of a checkpoint that every reader produces and everything else consumes.

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

export type CheckpointFormat = 'safetensors' | 'safetensors-sharded' | 'pytorch-zip' | 'pytorch-legacy' | 'torchscript' | 'onnx';

export interface TensorLocation {
  /** File that holds the bytes (a shard, the zip, or ONNX external data). */
  file: string;
  /** Absolute byte offset in that file of the tensor's first element (storage offset applied). */
  offset: number;
  /** Bytes spanned from `offset` to the last element the view touches. */
  length: number;
}

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Element strides; absent means C-contiguous. */
  strides?: number[];
  location: TensorLocation;
}

export type FindingSeverity = 'info' | 'warning' | 'danger';

export interface Finding {
  severity: FindingSeverity;
  /** e.g. "pickle-global", "external-data", "lfs-pointer". */
  kind: string;
  message: string;
  module?: string;
  name?: string;
  offset?: number;
}

/** A non-tensor entry in a checkpoint, rendered inertly. */
export interface ExtraValue {
  key: string;
  /** Short human-readable rendering (never evaluated). */
  value: string;
}

/** A selectable set of weights inside one file (e.g. `model` vs `model_ema`). */
export interface WeightVariant {
  /** Path inside the container, e.g. "model_ema". */
  key: string;
  tensorCount: number;
}

export interface OnnxSummary {
  irVersion: number;
  opsets: Array<{ domain: string; version: number }>;
  producer: string;
  inputs: Array<{ name: string; elemType: string; shape: Array<number | string> }>;
  outputs: Array<{ name: string; elemType: string; shape: Array<number | string> }>;
  opCounts: Record<string, number>;
  nodeCount: number;
}

export interface Checkpoint {
  file: string;
  format: CheckpointFormat;
  sizeBytes: number;
  tensors: TensorInfo[];
  /** safetensors `__metadata__`, ONNX metadata_props. */
  metadata: Record<string, string>;
  /** Config found with or inside the checkpoint (HF config.json, `args`, yacs cfg), as plain JSON. */
  config?: Record<string, unknown>;
  extras: ExtraValue[];
  findings: Finding[];
  /** Alternative weight sets found in the file; `selectedVariant` is the one in `tensors`. */
  variants: WeightVariant[];
  selectedVariant?: string;
  /** Prefix stripped from tensor names (`module.`, `encoder.`, `backbone.`), if any. */
  strippedPrefix?: string;
  onnx?: OnnxSummary;
}
