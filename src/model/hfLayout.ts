// Tensor names shared by HuggingFace's ViT-style encoders (ViT, ViTMAE, DeiT, DINOv2): the self-attention
// of a block under `encoder.layer.N.`, with separate query/key/value projections whose biases are optional.

import type { LayoutContext } from './layoutContext';
import type { VitBlockWeights } from './modelTypes';

export type HfSelfAttention = Pick<VitBlockWeights, 'qW' | 'kW' | 'vW' | 'qB' | 'kB' | 'vB' | 'projW' | 'projB'>;

/** The attention weights of block `b` (a prefix ending in `.`), biases only where the file has them. */
export function hfSelfAttention(ctx: LayoutContext, b: string): HfSelfAttention {
  const a = `${b}attention.attention.`;
  const w: HfSelfAttention = {
    qW: `${a}query.weight`, kW: `${a}key.weight`, vW: `${a}value.weight`,
    projW: `${b}attention.output.dense.weight`, projB: `${b}attention.output.dense.bias`,
  };
  for (const [k, n] of [['qB', 'query'], ['kB', 'key'], ['vB', 'value']] as const) {
    const o = ctx.opt(`${a}${n}.bias`);
    if (o) w[k] = o;
  }
  return w;
}
