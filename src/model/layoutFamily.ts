// The contract of one layout family: how it recognises a checkpoint's keys and what it makes of them.
// Families are listed, in the order they are tried, in registry.ts.

import type { LayoutContext } from './layoutContext';
import type { ModelFamily, ModelSummary, VitSpec } from './modelTypes';
import type { SwinSpec } from './swinTypes';

/** Where a family found its layout in a checkpoint. */
export interface LayoutMatch {
  /** Container prefix before the family's own keys ('' at the top, `module.`, `backbone.`, ...). */
  prefix: string;
}

/**
 * What a family fills in of the summary (architecture fields; params and dtypes are counted for all
 * families alike) and, when the model can be rebuilt for analysis, the spec the graph builder takes.
 * A hierarchical family may set per-layer fields (e.g. `headsPerLayer`) beside the flat ones.
 */
export type Draft = Omit<ModelSummary, 'file' | 'format' | 'params' | 'dtype' | 'dtypes' | 'details'> & {
  details: Record<string, unknown>;
  spec?: VitSpec;
  /** Windowed hierarchical models (Swin, SwinV2) are rebuilt by their own graph builder. */
  swinSpec?: SwinSpec;
};

export function emptyDraft(family: ModelFamily): Draft {
  return { family, layers: null, heads: null, headsSource: 'unknown', dim: null, patchSize: null, imageSize: null, specialTokens: null, details: {} };
}

export interface LayoutFamily {
  /** Short human name, used in messages that list the layouts Model Lens knows. */
  readonly label: string;
  /** What the family reads: tensors of a weights file, or an ONNX graph. */
  readonly reads: 'weights' | 'onnx';
  /** Recognises the family's keys; undefined when the checkpoint is not in this layout. Cheap: names only. */
  match(ctx: LayoutContext): LayoutMatch | undefined;
  /** Maps a matched checkpoint to the summary and, when analyzable, to the canonical weights (spec). */
  build(ctx: LayoutContext, m: LayoutMatch): Draft;
}
