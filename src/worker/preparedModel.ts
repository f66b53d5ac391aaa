// A model ready for the job loop: the analysis graph plus what the loop needs to feed and read it.
import type { ModelSummary, VitSpec } from '../model/modelTypes';
import type { CkaTokens, DistanceConvention } from '../analysis/resultSchema';
import { buildAnalysisGraph, type WeightFeed } from '../analysis/graph/vitGraph';
import { IMAGENET_MEAN, IMAGENET_STD } from '../analysis/probes';
import { ModelLensError } from '../formats/errors';
import { resampledPosEmbed, specAtImageSize, summaryAtImageSize } from '../model/imageSize';
import type { PosEmbedResampling } from '../model/posEmbedResample';

/** Everything the job loop needs about one model; `onnx` is dropped once the session exists. */
export interface PreparedModel {
  file: string;
  summary: ModelSummary;
  onnx: Uint8Array;
  inputName: string;
  layers: number;
  heads: number;
  /** N, the patch tokens (the divisor of the per-image means). */
  patchTokens: number;
  inputSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  warnings: string[];
  buildMs: number;
  /** ONNX exports without a dynamic batch axis accept only this batch size. */
  fixedBatch?: number;
  /** Windowed models: heads and query tokens of every layer (`heads` is the padded maximum). */
  ragged?: { headsPerLayer: number[]; tokensPerLayer: number[] };
  /** With `weightsAsInputs`: the weights the graph takes as inputs (`onnx` then holds the structure only). */
  weightFeeds?: WeightFeed[];
}

export interface PrepareOptions {
  variant?: string | undefined;
  heads?: number | undefined;
  /** Confirms a heads override that contradicts the checkpoint's recorded count. */
  headsForce?: boolean | undefined;
  distanceConvention?: DistanceConvention | undefined;
  ckaTokens?: CkaTokens | undefined;
  /** false: build the graph without per-image outputs (see VitGraphOptions.perImage). */
  perImage?: boolean | undefined;
  /** Build the graph with its weights as inputs, so one session serves every checkpoint of the architecture. */
  weightsAsInputs?: boolean | undefined;
  /** Analyse at this square input size (px) instead of the native one; absent: native. */
  imageSize?: number | undefined;
}

/** Warnings about a guessed head count; worded for both the CLI and VS Code, which show the same result. */
export function headsWarning(summary: ModelSummary): string[] {
  if (summary.headsSource === 'dim/64') {
    return [`The checkpoint does not record the number of heads; assumed dim/64 = ${summary.heads}. If that is wrong, set the head count with --heads H (CLI) or the modelLens.headsOverride setting (VS Code).`];
  }
  if (summary.headsSource === 'model-name') return [`Number of heads (${summary.heads}) inferred from the model name.`];
  return [];
}

/** A ViT spec and its weights at the input size asked for (the native ones when none is). */
export interface SpecAtSize {
  spec: VitSpec;
  weights: (name: string) => Promise<Float32Array>;
  /** The native size, when a size was asked for. */
  native?: [number, number];
  /** How the position embedding was resampled, once its weights have been read. */
  resampling(): PosEmbedResampling | undefined;
}

/**
 * The spec at `imageSize` (`--image-size`, `modelLens.imageSize`), its position embedding resampled when
 * read; the analysis and the attention view share it so both see the same model.
 */
export function specAtSize(file: string, nativeSpec: VitSpec, nativeWeights: (name: string) => Promise<Float32Array>, imageSize: number | undefined): SpecAtSize {
  let resampling: PosEmbedResampling | undefined;
  const out: SpecAtSize = { spec: nativeSpec, weights: nativeWeights, resampling: () => resampling };
  if (imageSize === undefined) return out;
  const sized = specAtImageSize(nativeSpec, imageSize);
  if (!sized.ok) throw new ModelLensError('not-analyzable', file, sized.problem);
  const { native, grids } = sized;
  out.spec = sized.spec;
  out.native = native;
  const posName = nativeSpec.weights.posEmbed;
  if (grids && posName !== undefined) {
    out.weights = async (name) => {
      const w = await nativeWeights(name);
      if (name !== posName) return w;
      const r = resampledPosEmbed(nativeSpec, w, grids);
      if (!r) throw new ModelLensError('not-analyzable', file, `the position embedding ${posName} has ${w.length / nativeSpec.dim} rows, which do not fit the ${grids.from.join('×')} patch grid of the native ${native.join('×')} px input; it cannot be resampled`);
      resampling = r.resampling;
      return r.data;
    };
  }
  return out;
}

/** Builds the analysis graph for a recognized ViT spec; `weights` returns fp32 copies of named tensors. */
export async function prepareFromSpec(file: string, summary: ModelSummary, nativeSpec: VitSpec, nativeWeights: (name: string) => Promise<Float32Array>, opts: PrepareOptions = {}): Promise<PreparedModel> {
  const sized = specAtSize(file, nativeSpec, nativeWeights, opts.imageSize);
  const { spec, weights, native } = sized;
  const graph = await buildAnalysisGraph(spec, weights, {
    file,
    ...(opts.weightsAsInputs ? { weightsAsInputs: true } : {}),
    ...(opts.distanceConvention ? { distanceConvention: opts.distanceConvention } : {}),
    ...(opts.ckaTokens ? { ckaTokens: opts.ckaTokens } : {}),
    ...(opts.perImage === false ? { perImage: false } : {}),
  });
  const patchTokens = (spec.imageSize[0] / spec.patchSize[0]) * (spec.imageSize[1] / spec.patchSize[1]);
  return {
    file,
    summary: native ? summaryAtImageSize(summary, native, spec.imageSize, sized.resampling()) : summary,
    onnx: graph.model,
    inputName: graph.inputName,
    layers: spec.layers,
    heads: spec.heads,
    patchTokens,
    inputSize: spec.imageSize,
    mean: spec.mean ?? IMAGENET_MEAN,
    std: spec.std ?? IMAGENET_STD,
    warnings: headsWarning(summary),
    buildMs: graph.buildMs,
    ...(graph.weightFeeds ? { weightFeeds: graph.weightFeeds } : {}),
  };
}

/** How the job loop obtains a model; the worker uses `prepareModel`, the benchmark a random ViT. */
export type PrepareFn = (file: string, opts: PrepareOptions, signal?: AbortSignal) => Promise<PreparedModel>;
