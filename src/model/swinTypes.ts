// What the Swin graph builder needs to rebuild a Swin / SwinV2 forward pass from weights, whatever the
// checkpoint's layout (timm old/new, microsoft/Swin-Transformer, SimMIM, HuggingFace).

import type { BlockLinearWeights } from './modelTypes';

/** Tensor names of one Swin block (norms, projections and MLP as in every block, plus its position bias). */
export interface SwinBlockWeights extends BlockLinearWeights {
  /** V1: relative position bias table [(2w−1)², H]. */
  relPosTable?: string;
  /** `relative_position_index` [w², w²] when the file has it (checked against the computed one). */
  relPosIndex?: string;
  /** `attn_mask` [nW, w², w²] when the file has it (checked against the computed one). */
  attnMask?: string;
  /** V2: learned logit scale [H,1,1] and the continuous position bias MLP (2 → hidden → H). */
  logitScale?: string;
  cpbW1?: string; cpbB1?: string; cpbW2?: string;
  /** V2: `relative_coords_table` [1, 2w−1, 2w−1, 2] when the file has it (used as is). */
  coordsTable?: string;
}

export interface SwinStageWeights {
  depth: number;
  heads: number;
  /** Channels C_s of the stage's tokens. */
  dim: number;
  /** Window side the stage's weights were made for (from its bias table, mask or config). */
  window: number;
  /** SwinV2 pretrained window size of the stage (0: none), which scales the coordinates table. */
  pretrainedWindow: number;
  blocks: SwinBlockWeights[];
  /** Patch merging applied after this stage's blocks (whatever stage index the file files it under). */
  merge?: { reductionW: string; normW: string; normB: string };
}

export interface SwinSpec {
  family: 'swin' | 'swinv2';
  /** 1: Swin (pre-norm, scaled dot product + bias table); 2: SwinV2 (post-norm, cosine attention + CPB). */
  version: 1 | 2;
  inChans: number;
  patchSize: [number, number];
  imageSize: [number, number];
  embedDim: number;
  lnEps: number;
  mean: [number, number, number];
  std: [number, number, number];
  weights: {
    patchW: string;
    patchB?: string;
    /** LayerNorm after the patch embedding (patch_norm, on in every released model). */
    patchNormW?: string; patchNormB?: string;
    /** Absolute position embedding [1, N, C] (ape=True models). */
    absPosEmbed?: string;
    stages: SwinStageWeights[];
  };
}

/** Blocks of every stage in order: the layers of the analysis. */
export function swinLayers(spec: SwinSpec): number {
  return spec.weights.stages.reduce((a, s) => a + s.depth, 0);
}

/** Heads of every layer (block), ragged across stages. */
export function swinHeadsPerLayer(spec: SwinSpec): number[] {
  return spec.weights.stages.flatMap((s) => Array.from({ length: s.depth }, () => s.heads));
}
