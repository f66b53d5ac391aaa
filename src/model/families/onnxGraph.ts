// A user's own ONNX export: layers counted from eager-attention Softmax nodes, which the instrumenter taps.

import { isPositiveInt } from '../configView';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';

export const onnxGraphFamily: LayoutFamily = {
  label: 'ONNX graph with eager attention',
  reads: 'onnx',
  match() {
    return { prefix: '' };
  },
  build(ctx) {
    const d = emptyDraft('onnx-graph');
    const ops = ctx.ckpt.onnx?.opCounts;
    if (ops) {
      const softmax = ops['Softmax'] ?? 0;
      d.details['softmaxNodes'] = softmax;
      const fused = Object.keys(ops).filter((k) => /attention/i.test(k));
      if (softmax > 0) {
        d.layers = softmax;
        d.details['layersNote'] = 'counted from Softmax nodes (one per eager attention)';
      } else {
        d.notAnalyzable = fused.length
          ? `attention is fused (${fused.join(', ')}): its probabilities are not in the graph; re-export with eager attention (e.g. attn_implementation="eager", or timm with fused_attn disabled) so each attention has a Softmax`
          : 'no Softmax node: no eager attention to instrument; re-export with eager attention';
      }
    }
    const o = ctx.opts.headsOverride;
    if (o !== undefined && isPositiveInt(o)) {
      d.heads = o;
      d.headsSource = 'override';
    }
    return d;
  },
};
