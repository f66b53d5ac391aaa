// The one place that loads onnxruntime-node. Loading it starts native threads and maps ~40 MB of
// libraries, which header reads and tensor statistics (all Restricted Mode may do) never need, so it is
// required on first use by an analysis (or an explicit backend listing), not at worker start.
import type * as Ort from 'onnxruntime-node';

let loaded: typeof Ort | undefined;

/** onnxruntime-node, loaded on the first call. */
export function onnxruntime(): typeof Ort {
  loaded ??= require('onnxruntime-node') as typeof Ort;
  return loaded;
}

/** Whether this process has loaded onnxruntime-node yet. */
export function onnxruntimeLoaded(): boolean {
  return loaded !== undefined;
}
