// Output of architecture recognition; the `model` object of the result schemas (DESIGN.md).
import type { PosEmbedResampling } from './posEmbedResample';

export type ModelFamily =
  | 'timm-vit'
  | 'deit'
  | 'deit-distilled'
  | 'mae'
  | 'beit'
  | 'simmim'
  | 'hf-vit'
  | 'torchvision-vit'
  | 'swin'
  | 'clip'
  | 'hf-clip'
  | 'hf-siglip'
  | 'dino'
  | 'dinov2'
  | 'hf-dinov2'
  | 'hf-beit'
  | 'hf-data2vec-vision'
  | 'mocov3'
  | 'deit3'
  | 'eva02'
  | 'swinv2'
  | 'onnx-graph'
  | 'unknown';

/** 'weights': read from tensor shapes (relative position bias tables of BEiT/SimMIM/Swin). */
export type HeadsSource = 'override' | 'config' | 'checkpoint-args' | 'weights' | 'model-name' | 'dim/64' | 'graph' | 'unknown';

/** Fields named as in the `model` object of `model-lens/analysis@1`. */
export interface ModelSummary {
  file: string;
  format: string;
  family: ModelFamily;
  layers: number | null;
  heads: number | null;
  headsSource: HeadsSource;
  dim: number | null;
  patchSize: [number, number] | null;
  imageSize: [number, number] | null;
  specialTokens: number | null;
  /** Hierarchical models whose heads differ per layer (Swin stages): heads of every layer, in order. */
  headsPerLayer?: number[];
  params: number;
  /** Dominant floating dtype, e.g. "F32"; "mixed" lists in `dtypes`. */
  dtype: string;
  dtypes: Record<string, number>;
  /** Swin: stages, window size, etc. */
  details?: Record<string, unknown>;
  /** Why the model is not analyzable, when it is not. */
  notAnalyzable?: string;
  /** Windowed models (Swin): the stages in layer order. */
  stages?: StageSummary[];
  /**
   * In a result analysed at an input size the user chose (`--image-size`): the size the checkpoint was
   * recognised at; `imageSize` is then the size the analysis ran at. Absent when no size was chosen.
   */
  nativeImageSize?: [number, number];
  /** How the absolute position embedding was brought from the native grid to the analysed one, when it was. */
  posEmbedResampling?: PosEmbedResampling;
}

/** One stage of a hierarchical model: its blocks are `layers` consecutive layers from `firstLayer` (0-based). */
export interface StageSummary {
  firstLayer: number;
  layers: number;
  heads: number;
  /** Token grid side of the stage at the analysed input size. */
  grid: number;
  /** Window side the blocks attend within. */
  window: number;
  /** Input pixels per token side (P·2^stage). */
  tokenPx: number;
  /** Mean distance (px) of a uniform attention row over the allowed keys, over the stage's blocks. */
  uniformDistance: number;
}

/** Tensor names every transformer block has: two norms, the attention projections, a two-layer MLP. */
export interface BlockLinearWeights {
  /** norm1/norm2: before attention/MLP (pre-norm) or, in SwinV2, after them. */
  ln1W: string; ln1B: string;
  /** Fused qkv [3D, D] (timm, torchvision in_proj, BEiT, Swin) ... BEiT/SimMIM have no fused bias: their
   *  `q_bias`/`v_bias` go in qB/vB with kB absent (the key bias is zero). */
  qkvW?: string; qkvB?: string;
  /** ... or separate projections (HF). */
  qW?: string; qB?: string; kW?: string; kB?: string; vW?: string; vB?: string;
  projW: string; projB: string;
  ln2W: string; ln2B: string;
  fc1W: string; fc1B: string;
  fc2W: string; fc2B: string;
}

/** Per-block tensor names of a standard pre-norm ViT block, after recognition. */
export interface VitBlockWeights extends BlockLinearWeights {
  /** Layer scale (BEiT `gamma_1/2`, timm `ls1.gamma/ls2.gamma`). */
  gamma1?: string; gamma2?: string;
  /** BEiT relative position bias table [(2Wh-1)(2Ww-1)+3, H]. */
  relPosTable?: string;
  /** BEiT `relative_position_index` buffer [N+1, N+1] beside the table, when the checkpoint has it. */
  relPosIndex?: string;
}

export type VitActivation = 'gelu' | 'quick_gelu' | 'gelu_tanh';

/** Everything the graph builder needs to rebuild the forward pass from weights. */
export interface VitSpec {
  family: ModelFamily;
  layers: number;
  heads: number;
  dim: number;
  mlpDim: number;
  inChans: number;
  patchSize: [number, number];
  imageSize: [number, number];
  /** Tokens before the patch tokens (CLS, distillation, registers). */
  specialTokens: number;
  lnEps: number;
  /** MLP activation: exact GELU (default), CLIP's QuickGELU x·σ(1.702x), or the tanh approximation (SigLIP). */
  activation?: VitActivation;
  /** Input normalisation (checkpoint config when known, else ImageNet). */
  mean: [number, number, number];
  std: [number, number, number];
  /** Where `mean`/`std` came from. */
  normalizationSource?: 'config' | 'imagenet-default' | 'family-default';
  /** Where `lnEps` came from. */
  lnEpsSource?: 'config' | 'family-default';
  weights: {
    patchW: string;
    patchB?: string;
    clsToken?: string;
    distToken?: string;
    /** Absolute position embedding [1, T, D] (or [T, D]); [1, N, D] when only the patches have one
     *  (DeiT III, SigLIP); absent for BEiT with relative bias only. */
    posEmbed?: string;
    /** Register tokens [1, R, D] (DINOv2 with registers): inserted after the class token, after the
     *  position embedding was added, so they have none. */
    registerTokens?: string;
    /** LayerNorm over all tokens before the first block (CLIP `ln_pre`). */
    preNormW?: string;
    preNormB?: string;
    /** BEiT shared relative position bias table, when not per layer. */
    sharedRelPosTable?: string;
    /** Its `relative_position_index` buffer, when the checkpoint has it. */
    sharedRelPosIndex?: string;
    blocks: VitBlockWeights[];
  };
}
