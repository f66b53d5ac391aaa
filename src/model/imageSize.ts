// Analysing a model at an input size of the user's choosing (`--image-size`, `modelLens.imageSize`).
// Only what can be done exactly is done: a plain ViT's absolute position embedding is resampled as timm
// resamples it (posEmbedResample.ts); everything tied to the pretraining grid in another way (relative
// position bias tables, Swin windows, a fixed ONNX graph) is refused with the reason.
import type { ModelSummary, VitSpec } from './modelTypes';
import { TIMM_POS_EMBED_RESAMPLING, resamplePosEmbed, type PosEmbedResampling } from './posEmbedResample';

/** Largest side accepted: attention is quadratic in the tokens, and beyond this no probe set is meaningful. */
export const MAX_IMAGE_SIZE = 4096;

const px = (s: readonly [number, number]): string => (s[0] === s[1] ? `${s[0]} px` : `${s[0]}×${s[1]} px`);
const patchText = (p: readonly [number, number]): string => (p[0] === p[1] ? `${p[0]}` : `${p[0]}×${p[1]}`);

/** Why `size` cannot be a square input for this patch size, or undefined. Names both, and the nearest sizes that work. */
export function imageSizeMultipleProblem(size: number, patch: readonly [number, number]): string | undefined {
  const step = patch[0] === patch[1] ? patch[0] : (patch[0] * patch[1]) / gcd(patch[0], patch[1]);
  if (size % patch[0] === 0 && size % patch[1] === 0) return undefined;
  const below = Math.floor(size / step) * step;
  const above = below + step;
  return `image size ${size} px is not a multiple of the patch size ${patchText(patch)} px; the nearest sizes that are: ${below > 0 ? `${below} and ` : ''}${above}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** A spec re-targeted at a square input `size`, with how its weights change; or the reason it cannot be. */
export type SizedSpec =
  | { ok: true; spec: VitSpec; native: [number, number]; grids?: { from: [number, number]; to: [number, number] } }
  | { ok: false; problem: string };

/**
 * The plain-ViT spec analysed at `size`×`size`. The native size gives the spec back unchanged. Another size
 * needs a patch-multiple side and no relative position bias table (those are learned for one window).
 */
export function specAtImageSize(spec: VitSpec, size: number): SizedSpec {
  const native: [number, number] = [spec.imageSize[0], spec.imageSize[1]];
  const bad = imageSizeMultipleProblem(size, spec.patchSize);
  if (bad) return { ok: false, problem: bad };
  if (native[0] === size && native[1] === size) return { ok: true, spec, native };
  const W = spec.weights;
  if (W.sharedRelPosTable || W.blocks.some((b) => b.relPosTable !== undefined)) {
    return { ok: false, problem: `the ${spec.family} model has a relative position bias table learned for its ${px(native)} input (${native[0] / spec.patchSize[0]}×${native[1] / spec.patchSize[1]} patches); analysing at ${size} px would need the table interpolated, which Model Lens does not approximate. Analyse it at its native ${px(native)} (leave the image size unset)` };
  }
  const to: [number, number] = [size / spec.patchSize[0], size / spec.patchSize[1]];
  const from: [number, number] = [native[0] / spec.patchSize[0], native[1] / spec.patchSize[1]];
  const sized: VitSpec = { ...spec, imageSize: [size, size] };
  return W.posEmbed ? { ok: true, spec: sized, native, grids: { from, to } } : { ok: true, spec: sized, native };
}

/**
 * The position embedding tensor `pos` of `spec` (at its native grid) resampled to the sized grid; the
 * prefix rows may be the class and distillation tokens' (registers never have one). Undefined when the
 * embedding's rows do not fit the native grid.
 */
export function resampledPosEmbed(spec: VitSpec, pos: Float32Array, grids: { from: [number, number]; to: [number, number] }): { data: Float32Array; resampling: PosEmbedResampling } | undefined {
  const maxPrefix = (spec.weights.clsToken ? 1 : 0) + (spec.weights.distToken ? 1 : 0);
  const r = resamplePosEmbed(pos, spec.dim, grids.from, grids.to, maxPrefix, TIMM_POS_EMBED_RESAMPLING.antialias);
  if (!r) return undefined;
  return { data: r.data, resampling: { ...TIMM_POS_EMBED_RESAMPLING, fromGrid: [...grids.from], toGrid: [...grids.to], prefixTokens: r.prefixTokens } };
}

/** The summary of a model analysed at `size` (a size was asked for): both sizes, and the resampling when there was one. */
export function summaryAtImageSize(summary: ModelSummary, native: [number, number], size: [number, number], resampling: PosEmbedResampling | undefined): ModelSummary {
  return { ...summary, imageSize: size, nativeImageSize: native, ...(resampling ? { posEmbedResampling: resampling } : {}) };
}
