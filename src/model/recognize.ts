// Architecture recognition: from tensor names, shapes and any config that came with a checkpoint, say
// what model it is (the `model` object of the result schemas) and, for analyzable ViTs, produce the
// VitSpec the graph builder consumes. The layouts themselves live in families/, listed in registry.ts.

import type { Checkpoint, DType, TensorInfo } from '../formats/checkpoint';
import { LayoutContext, numel, type RecognizeOptions } from './layoutContext';
import { emptyDraft, type Draft } from './layoutFamily';
import type { ModelSummary, VitSpec } from './modelTypes';
import type { SwinSpec } from './swinTypes';
import { LAYOUT_FAMILIES } from './registry';

export type { RecognizeOptions } from './layoutContext';

export interface Recognition {
  summary: ModelSummary;
  /** Present only when the model can be rebuilt for analysis (summary.notAnalyzable explains otherwise). */
  spec?: VitSpec;
  /** Swin / SwinV2, when analyzable. */
  swinSpec?: SwinSpec;
}

const FLOAT_DTYPES: ReadonlySet<DType> = new Set<DType>(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

interface TensorStats {
  params: number;
  dtype: string;
  dtypes: Record<string, number>;
}

function tensorStats(tensors: readonly TensorInfo[]): TensorStats {
  let params = 0;
  const dtypes: Record<string, number> = {};
  const floatElems = new Map<string, number>();
  const allElems = new Map<string, number>();
  for (const t of tensors) {
    const n = numel(t);
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    allElems.set(t.dtype, (allElems.get(t.dtype) ?? 0) + n);
    if (FLOAT_DTYPES.has(t.dtype)) {
      params += n;
      floatElems.set(t.dtype, (floatElems.get(t.dtype) ?? 0) + n);
    }
  }
  const pick = floatElems.size > 0 ? floatElems : allElems;
  let dtype = '';
  let best = -1;
  for (const [k, v] of pick) {
    if (v > best) {
      best = v;
      dtype = k;
    }
  }
  return { params, dtype: dtype || 'none', dtypes };
}

function unknownDraft(ctx: LayoutContext): Draft {
  const d = emptyDraft('unknown');
  const known = LAYOUT_FAMILIES.filter((f) => f.reads === 'weights').map((f) => f.label).join(', ');
  d.notAnalyzable = `architecture not recognized: not a layout Model Lens knows (${known}). To analyse another model, export it to ONNX with torch.onnx.export(model, x, "model.onnx", opset_version=17) with eager (not fused) attention, and open the .onnx file: Model Lens instruments its Softmax nodes`;
  if (ctx.opts.headsOverride !== undefined) d.headsSource = 'override';
  return d;
}

/** The first registered family whose keys match builds the draft; none matching gives 'unknown'. */
function recognizeDraft(ctx: LayoutContext): Draft {
  const reads = ctx.ckpt.format === 'onnx' ? 'onnx' : 'weights';
  for (const family of LAYOUT_FAMILIES) {
    if (family.reads !== reads) continue;
    const m = family.match(ctx);
    if (m) return family.build(ctx, m);
  }
  return unknownDraft(ctx);
}

/** Recognizes the architecture of `ckpt`; never throws on odd tensors, it says what it could not tell. */
export function recognize(ckpt: Checkpoint, opts: RecognizeOptions = {}): Recognition {
  const stats = tensorStats(ckpt.tensors);
  const d = recognizeDraft(new LayoutContext(ckpt, opts));
  const summary: ModelSummary = {
    file: ckpt.file,
    format: ckpt.format,
    family: d.family,
    layers: d.layers,
    heads: d.heads,
    headsSource: d.headsSource,
    dim: d.dim,
    patchSize: d.patchSize,
    imageSize: d.imageSize,
    specialTokens: d.specialTokens,
    params: stats.params,
    dtype: stats.dtype,
    dtypes: stats.dtypes,
  };
  if (d.headsPerLayer !== undefined) summary.headsPerLayer = d.headsPerLayer;
  if (d.stages !== undefined) summary.stages = d.stages;
  if (Object.keys(d.details).length > 0) summary.details = d.details;
  if (d.notAnalyzable !== undefined) summary.notAnalyzable = d.notAnalyzable;
  if (d.notAnalyzable !== undefined) return { summary };
  if (d.swinSpec) return { summary, swinSpec: d.swinSpec };
  return d.spec ? { summary, spec: d.spec } : { summary };
}
