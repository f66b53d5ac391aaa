// On-demand attention maps for the attention view and `lens attention`: one warm session of a graph whose
// outputs are every layer's attention probabilities, run on one image at a time. A new image costs one
// forward pass; switching layer, head, query or kind afterwards only slices the cached probabilities, and
// only the rows the view shows leave the process.
import { readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { type AttentionLayout, headStats, patchToken, rollout, tokenRows } from '../analysis/attentionMaps';
import { buildAttentionGraph } from '../analysis/graph/vitGraph';
import { instrumentOnnxFile } from '../analysis/graph/instrument';
import { decodeImage, type RgbImage } from '../analysis/imageDecode';
import { IMAGENET_MEAN, IMAGENET_STD, MAX_PROBE_FILE_BYTES, SYNTHETIC_PROBES, preprocessInto, selectProbeSet, syntheticImage } from '../analysis/probes';
import type { DeviceName } from '../analysis/resultSchema';
import type { TensorInfo } from '../formats/checkpoint';
import { ModelLensError } from '../formats/errors';
import { openCheckpoint } from '../formats/openCheckpoint';
import { readTensorF32 } from '../formats/tensorData';
import { recognize } from '../model/recognize';
import { attachSidecarConfig } from '../model/sidecarConfig';
import type { VitSpec } from '../model/modelTypes';
import { specAtSize } from './preparedModel';
import type { AttentionImageRef, AttentionMapParams, AttentionMapResult, AttentionProbesParams, AttentionProbesResult } from '../protocol/workerProtocol';
import { createSession } from './devices';
import { onnxruntime } from './ortRuntime';

/** Images whose probabilities are kept (ViT-B: 22 MB each). */
const IMAGE_CACHE = 4;
/** A warm attention session is released after this long unused (it holds a copy of the weights). */
const IDLE_RELEASE_MS = 10 * 60 * 1000;

export interface AttentionModel {
  key: string;
  file: string;
  family: string;
  session: ort.InferenceSession;
  device: string;
  inputName: string;
  probNames: string[];
  inputSize: [number, number];
  mean: readonly number[];
  std: readonly number[];
  patchSize: [number, number];
  grid: [number, number];
  /** From the checkpoint; for ONNX exports known after the first run. */
  specialTokens: number | null;
  hasCls: boolean | null;
}

interface ImageProbs {
  name: string;
  /** Per layer [H,T,T]. */
  probs: Float32Array[];
  layout: AttentionLayout;
  rgb: Uint8Array;
  inferenceMs: number;
  /** Per layer, computed on first use (a ViT-B layer costs ~10 ms of logs). */
  stats: Array<{ distance: Float64Array; entropy: Float64Array } | undefined>;
}

function b64(a: Float32Array | Uint8Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function badRequest(file: string, problem: string): never {
  throw new ModelLensError('not-analyzable', file, problem);
}

function modelKey(p: Pick<AttentionMapParams, 'file' | 'variant' | 'heads' | 'device' | 'imageSize'>): string {
  let mtime = 0;
  try {
    mtime = statSync(p.file).mtimeMs;
  } catch {
    // a missing file is reported by the reader
  }
  return JSON.stringify([p.file, p.variant ?? null, p.heads ?? null, p.device, mtime, ...(p.imageSize !== undefined ? [p.imageSize] : [])]);
}

/** The preprocessed image as RGB bytes (what the model sees, before normalisation). */
function displayRgb(img: RgbImage, size: [number, number]): Uint8Array {
  const [h, w] = size;
  const chw = new Float32Array(3 * h * w);
  preprocessInto(img, size, [0, 0, 0], [1 / 255, 1 / 255, 1 / 255], chw, 0);
  const out = new Uint8Array(3 * h * w);
  for (let p = 0; p < h * w; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.max(0, Math.min(255, Math.round(chw[c * h * w + p]!)));
  return out;
}

export function loadImage(ref: AttentionImageRef, inputSize: [number, number]): { name: string; image: RgbImage } {
  if ('synthetic' in ref) {
    if (!Number.isInteger(ref.synthetic) || ref.synthetic < 0) badRequest('(request)', 'synthetic image index must be an integer >= 0');
    return { name: `synthetic-${ref.synthetic}`, image: syntheticImage(ref.synthetic, inputSize[0], inputSize[1]) };
  }
  let size: number;
  try {
    size = statSync(ref.file).size;
  } catch (e) {
    throw new ModelLensError('not-found', ref.file, `cannot read image (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (size > MAX_PROBE_FILE_BYTES) throw new ModelLensError('too-large', ref.file, `is ${size} bytes, over the ${MAX_PROBE_FILE_BYTES}-byte cap for probe images`);
  return { name: basename(ref.file), image: decodeImage(readFileSync(ref.file), ref.file) };
}

async function loadModel(p: AttentionMapParams, key: string): Promise<AttentionModel> {
  const file = p.file;
  if (extname(file).toLowerCase() === '.onnx') {
    const inst = await instrumentOnnxFile(file, { attentionOutputs: true });
    if (p.imageSize !== undefined && (p.imageSize !== inst.imageSize[0] || p.imageSize !== inst.imageSize[1])) {
      throw new ModelLensError('not-analyzable', file, `image size ${p.imageSize} px: an ONNX graph is exported for one input size (${inst.imageSize.join('×')} px here); its attention is shown only at that size (leave the image size unset)`);
    }
    const created = await createSession(inst.model, p.device);
    return {
      key, file, family: 'onnx-graph', session: created.session, device: created.device.used, inputName: inst.inputName, probNames: inst.probOutputs,
      inputSize: inst.imageSize, mean: IMAGENET_MEAN, std: IMAGENET_STD, patchSize: inst.patchSize, grid: inst.grid, specialTokens: null, hasCls: null,
    };
  }
  const ckpt = await attachSidecarConfig(await openCheckpoint(file, p.variant !== undefined ? { variant: p.variant } : undefined));
  const { summary, spec, swinSpec } = recognize(ckpt, p.heads !== undefined ? { headsOverride: p.heads } : undefined);
  if (swinSpec) throw new ModelLensError('not-analyzable', file, `attention maps of windowed models (${swinSpec.family}) are not available yet; the analysis view shows their attention distance, head diversity and CKA`);
  if (!spec) throw new ModelLensError('not-analyzable', file, summary.notAnalyzable ?? `not a recognized ViT (family ${summary.family})`);
  const byName = new Map<string, TensorInfo>(ckpt.tensors.map((t) => [t.name, t]));
  const sized = specAtSize(file, spec, async (name) => {
    const t = byName.get(name);
    if (!t) throw new ModelLensError('not-analyzable', file, `tensor "${name}" needed by the ${spec.family} graph is missing`);
    return readTensorF32(t);
  }, p.imageSize);
  return modelFromSpec(key, file, sized.spec, sized.weights, p.device);
}

/** A warm attention model from a recognized spec (the checkpoint path above, or the benchmark's random ViT). */
export async function modelFromSpec(key: string, file: string, spec: VitSpec, weights: (name: string) => Promise<Float32Array>, device: DeviceName): Promise<AttentionModel> {
  const graph = await buildAttentionGraph(spec, weights, { file });
  const created = await createSession(graph.model, device);
  return {
    key, file, family: spec.family, session: created.session, device: created.device.used, inputName: graph.inputName, probNames: graph.probNames,
    inputSize: spec.imageSize, mean: spec.mean ?? IMAGENET_MEAN, std: spec.std ?? IMAGENET_STD, patchSize: spec.patchSize, grid: graph.grid,
    specialTokens: spec.specialTokens, hasCls: spec.weights.clsToken !== undefined,
  };
}

/** How the service gets a model for a request (tests and the benchmark pass their own). */
export type AttentionLoader = (p: AttentionMapParams, key: string) => Promise<AttentionModel>;

export class AttentionService {
  private model: AttentionModel | undefined;

  constructor(private readonly load: AttentionLoader = loadModel) {}

  private readonly images = new Map<string, ImageProbs>();
  private chain: Promise<unknown> = Promise.resolve();
  private idle: NodeJS.Timeout | undefined;

  /** Requests run one after another: a burst of query moves must not build the model twice. */
  map(p: AttentionMapParams): Promise<AttentionMapResult> {
    const job = this.chain.then(() => this.mapNow(p));
    this.chain = job.catch(() => undefined);
    return job;
  }

  private async session(p: AttentionMapParams): Promise<AttentionModel> {
    const key = modelKey(p);
    if (this.model?.key === key) return this.model;
    await this.release();
    this.model = await this.load(p, key);
    return this.model;
  }

  private touch(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.release(), IDLE_RELEASE_MS);
    this.idle.unref();
  }

  private async forward(m: AttentionModel, ref: AttentionImageRef): Promise<ImageProbs> {
    const ckey = JSON.stringify([m.key, ref]);
    const hit = this.images.get(ckey);
    if (hit) {
      this.images.delete(ckey);
      this.images.set(ckey, hit);
      return hit;
    }
    const { name, image } = loadImage(ref, m.inputSize);
    const [h, w] = m.inputSize;
    const input = new Float32Array(3 * h * w);
    preprocessInto(image, m.inputSize, m.mean, m.std, input, 0);
    const t0 = performance.now();
    const out = await m.session.run({ [m.inputName]: new (onnxruntime().Tensor)('float32', input, [1, 3, h, w]) });
    const inferenceMs = performance.now() - t0;
    const probs: Float32Array[] = [];
    let dims: readonly number[] = [];
    for (const n of m.probNames) {
      const t = out[n];
      if (!t || !(t.data instanceof Float32Array) || t.dims.length !== 4) throw new ModelLensError('corrupt', m.file, `attention graph returned no float32 [1,H,T,T] output "${n}"`);
      dims = t.dims;
      probs.push(t.data);
    }
    const heads = Number(dims[1]);
    const tokens = Number(dims[3]);
    const n = m.grid[0] * m.grid[1];
    // ONNX exports: whatever precedes the patches is special; the class token comes first in every export we read.
    const s = m.specialTokens ?? tokens - n;
    if (tokens !== s + n) throw new ModelLensError('corrupt', m.file, `attention has ${tokens} tokens; ${m.grid.join('×')} patches + ${s} special tokens give ${s + n}`);
    const layout: AttentionLayout = { heads, tokens, specialTokens: s, grid: m.grid, patchSize: m.patchSize, hasCls: m.hasCls ?? s >= 1 };
    const entry: ImageProbs = { name, probs, layout, rgb: displayRgb(image, m.inputSize), inferenceMs, stats: [] };
    this.images.set(ckey, entry);
    while (this.images.size > IMAGE_CACHE) this.images.delete(this.images.keys().next().value as string);
    return entry;
  }

  private async mapNow(p: AttentionMapParams): Promise<AttentionMapResult> {
    const t0 = performance.now();
    const m = await this.session(p);
    this.touch();
    const before = this.images.size;
    const cachedBefore = this.images.has(JSON.stringify([m.key, p.image]));
    const img = await this.forward(m, p.image);
    const lay = img.layout;
    const layers = img.probs.length;
    if (!Number.isInteger(p.layer) || p.layer < 0 || p.layer >= layers) badRequest(m.file, `layer ${p.layer + 1} is out of range: the model has ${layers} layers (1–${layers})`);
    const probs = img.probs[p.layer]!;
    let rows: Float32Array;
    let specialMass: number[];
    let query: [number, number] | undefined;
    if (p.kind === 'rollout') {
      const r = rollout(img.probs.slice(0, p.layer + 1), lay);
      rows = Float32Array.from(r);
      specialMass = [1 - r.reduce((a, b) => a + b, 0)];
    } else {
      let token = 0;
      if (p.kind === 'cls') {
        if (!lay.hasCls) badRequest(m.file, 'the model has no class token; use a query patch (--query ROW,COL) or rollout');
      } else if (p.kind === 'query') {
        const q = p.query;
        const [gh, gw] = lay.grid;
        if (!q || !Number.isInteger(q[0]) || !Number.isInteger(q[1]) || q[0] < 0 || q[1] < 0 || q[0] >= gh || q[1] >= gw) {
          badRequest(m.file, `query patch ${q ? q.join(',') : '(none)'} is outside the ${gh}×${gw} patch grid (rows 0–${gh - 1}, columns 0–${gw - 1})`);
        }
        query = [q[0], q[1]];
        token = patchToken(lay, q[0], q[1]);
      } else {
        badRequest('(request)', `kind must be cls, query or rollout`);
      }
      const r = tokenRows(probs, lay, token);
      rows = r.rows;
      specialMass = Array.from(r.specialMass);
    }
    const stats = (img.stats[p.layer] ??= headStats(probs, lay));
    return {
      model: { file: m.file, family: m.family, layers, heads: lay.heads, grid: lay.grid, patchSize: lay.patchSize, inputSize: m.inputSize, specialTokens: lay.specialTokens, hasCls: lay.hasCls },
      image: { name: img.name, ...(p.withImage ? { rgb: b64(img.rgb) } : {}) },
      layer: p.layer,
      kind: p.kind,
      ...(query ? { query } : {}),
      rows: b64(rows),
      specialMass,
      distance: Array.from(stats.distance),
      entropy: Array.from(stats.entropy),
      device: m.device,
      timing: { totalMs: performance.now() - t0, inferenceMs: cachedBefore ? 0 : img.inferenceMs, cached: cachedBefore && before === this.images.size },
    };
  }

  /** Thumbnails of the probe set, center-cropped squares. */
  probes(p: AttentionProbesParams): AttentionProbesResult {
    const thumb = Math.max(8, Math.min(256, Math.floor(p.thumb)));
    const set = selectProbeSet(p.images, p.images === SYNTHETIC_PROBES ? p.limit ?? 16 : p.limit, p.inputSize);
    const items: AttentionProbesResult['items'] = [];
    for (const batch of set.batches(1, () => undefined)) {
      for (const img of batch) {
        const ref: AttentionImageRef = set.folder !== undefined ? { file: join(set.folder, img.name) } : { synthetic: img.index };
        items.push({ name: img.name, ref, rgb: b64(displayRgb(img.image, [thumb, thumb])) });
      }
    }
    return { thumb, items };
  }

  async release(): Promise<void> {
    const m = this.model;
    this.model = undefined;
    this.images.clear();
    if (m) await m.session.release().catch(() => undefined);
  }
}
