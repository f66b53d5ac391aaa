// The "open models" and "run one batch through a model" steps of an analysis job: a prepared model with
// its onnxruntime session, and one batch of probe images in, the contract's reductions out.
import type * as ort from 'onnxruntime-node';
import { ModelLensError } from '../formats/errors';
import { batchTensor, type ProbeImage } from '../analysis/probes';
import { contractOutputDims } from '../analysis/graph/reductions';
import type { DeviceName } from '../analysis/resultSchema';
import { createSession, createSessionOn, type DeviceOutcome } from './devices';
import { addTime, cancellable, checkAbort, collectGarbage, type JobHooks, type JobTiming } from './jobControl';
import type { PrepareFn, PrepareOptions, PreparedModel } from './preparedModel';
import { onnxruntime } from './ortRuntime';

/** One model of a job, as the caller names it. */
export interface ModelRequest extends PrepareOptions {
  file: string;
}

/** A model with its session, ready for batches. */
export interface ModelRun {
  model: PreparedModel;
  session: ort.InferenceSession;
  /** Weights fed at every run, when the session's graph takes them as inputs (one session, many checkpoints). */
  weights?: Record<string, ort.Tensor>;
  /** Preallocated output tensors for the current batch size (reused batch after batch). */
  fetches?: { n: number; tensors: Record<string, ort.Tensor> } | undefined;
  /** Set when the provider refused preallocated outputs; runs then let onnxruntime allocate. */
  noPrealloc?: boolean;
}

/** What one batch through one model gives: the contract's three reductions (float32, reused buffers). */
export interface ModelBatchOutput {
  /** Attention-distance sums [L,H]. */
  dist: Float32Array;
  /** KL sums [L,H,H]. */
  kl: Float32Array;
  /** Gram stack [L,n,n]. */
  gram: Float32Array;
  /** Every output the session returned, for reductions beyond the three above. */
  outputs: ort.InferenceSession.ReturnType;
}

export interface OpenContext {
  hooks: JobHooks;
  jobId: string;
  prepare: PrepareFn;
  timing: JobTiming;
}

/**
 * Opens the models in order, each getting its session (and dropping its serialized graph) before the next
 * is read, so a job over two ViT-B holds at most one extra copy of the weights at a time. The first model
 * picks the device (`requested` may fall back); the others use the device it got. On failure every session
 * opened so far is released.
 */
export async function openModels(requests: readonly ModelRequest[], requested: DeviceName, ctx: OpenContext): Promise<{ runs: ModelRun[]; device: DeviceOutcome }> {
  const runs: ModelRun[] = [];
  let device: DeviceOutcome = { requested, used: 'cpu' };
  const tLoad = performance.now();
  let sessionMs = 0;
  try {
    for (const req of requests) {
      const opened = await openModel(req, runs.length === 0 ? requested : device, ctx);
      if (runs.length === 0) device = opened.device;
      sessionMs += opened.sessionMs;
      runs.push(opened.run);
    }
  } catch (e) {
    await releaseModels(runs);
    throw e;
  }
  ctx.timing['sessionMs'] = sessionMs;
  ctx.timing['loadMs'] = performance.now() - tLoad - sessionMs;
  return { runs, device };
}

/** Reads one model and creates its session: on `device` as requested (with fallback) or on a device already chosen. */
export async function openModel(req: ModelRequest, device: DeviceName | DeviceOutcome, ctx: OpenContext): Promise<{ run: ModelRun; device: DeviceOutcome; sessionMs: number }> {
  const { hooks, jobId } = ctx;
  hooks.progress({ jobId, done: 0, total: 1, phase: 'load', message: req.file });
  const model = await ctx.prepare(req.file, { variant: req.variant, heads: req.heads, distanceConvention: req.distanceConvention, ckaTokens: req.ckaTokens, ...(req.headsForce ? { headsForce: true } : {}), ...(req.imageSize !== undefined ? { imageSize: req.imageSize } : {}) }, hooks.signal);
  checkAbort(hooks.signal);
  // Weight arrays read for the graph are garbage now; free them before onnxruntime copies the initializers.
  collectGarbage();
  hooks.progress({ jobId, done: 0, total: 1, phase: 'session' });
  const t = performance.now();
  let session: ort.InferenceSession;
  let outcome: DeviceOutcome;
  // Creating a ViT-L session takes seconds; a cancel must not wait for it.
  if (typeof device === 'string') {
    const created = await cancellable(createSession(model.onnx, device), hooks.signal, (late) => void late.session.release().catch(() => undefined));
    outcome = created.device;
    session = created.session;
  } else {
    session = await cancellable(createSessionOn(model.onnx, device.used as Exclude<DeviceName, 'auto'>), hooks.signal, (late) => void late.release().catch(() => undefined));
    outcome = device;
  }
  const sessionMs = performance.now() - t;
  // The serialized graph holds a full copy of the weights; the session has its own now.
  model.onnx = new Uint8Array(0);
  collectGarbage();
  return { run: { model, session }, device: outcome, sessionMs };
}

export async function releaseModels(runs: readonly ModelRun[]): Promise<void> {
  for (const r of runs) await r.session.release().catch(() => undefined);
}

/**
 * One batch of probe images and its preprocessed input tensors, made once per input size and normalisation:
 * models that take the same input share it, and a run over many checkpoints keeps it for all of them.
 */
export class BatchInputs {
  private readonly tensors = new Map<string, Float32Array>();

  constructor(readonly images: readonly ProbeImage[]) {}

  get n(): number {
    return this.images.length;
  }

  tensorFor(model: PreparedModel, timing: JobTiming): Float32Array {
    const key = [...model.inputSize, ...model.mean, ...model.std].join(',');
    let t = this.tensors.get(key);
    if (!t) {
      const tp = performance.now();
      t = batchTensor(this.images as ProbeImage[], model.inputSize, model.mean, model.std);
      addTime(timing, 'preprocessMs', tp);
      this.tensors.set(key, t);
    }
    return t;
  }
}

/**
 * Runs one batch through `run`. `duringRun` is called while onnxruntime works (prefetching the next batch);
 * its time is not counted as inference.
 */
export async function runModelBatch(run: ModelRun, batch: BatchInputs, signal: AbortSignal, timing: JobTiming, duringRun?: () => void): Promise<ModelBatchOutput> {
  const n = batch.n;
  const { model } = run;
  const input = batch.tensorFor(model, timing);
  const tInf = performance.now();
  const feeds = { ...run.weights, [model.inputName]: new (onnxruntime().Tensor)('float32', input, [n, 3, model.inputSize[0], model.inputSize[1]]) };
  const pending = runCancellable(run, feeds, n, signal);
  let overlapped = 0;
  if (duringRun) {
    const td = performance.now();
    duringRun();
    overlapped = performance.now() - td;
  }
  const outputs = await pending;
  const ms = performance.now() - tInf - overlapped;
  timing.inferenceMs += ms;
  // The first run of a session also builds onnxruntime's memory plan; the bench reports it apart.
  if (timing['firstRunMs'] === undefined) timing['firstRunMs'] = ms;
  if (model.heads <= 0) headsFromOutput(outputs, model);
  return {
    dist: outputData(outputs, 'attn_dist_sum', model.file),
    kl: outputData(outputs, 'kl_sum', model.file),
    gram: outputData(outputs, 'gram', model.file),
    outputs,
  };
}

async function runCancellable(run: ModelRun, feeds: ort.InferenceSession.FeedsType, n: number, signal: AbortSignal): Promise<ort.InferenceSession.ReturnType> {
  checkAbort(signal);
  const fetches = fetchesFor(run, n);
  if (fetches) {
    try {
      await cancellable(run.session.run(feeds, fetches), signal);
      return fetches;
    } catch (e) {
      if (signal.aborted) throw e;
      // Some providers cannot write into caller buffers; let onnxruntime allocate from now on.
      run.noPrealloc = true;
    }
  }
  return cancellable(run.session.run(feeds), signal);
}

function outputData(out: ort.InferenceSession.ReturnType, name: string, file: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) throw new ModelLensError('corrupt', file, `analysis graph returned no float32 output "${name}"`);
  return t.data;
}

/** Output buffers for a batch of n, once the head count is known. */
function fetchesFor(run: ModelRun, n: number): Record<string, ort.Tensor> | undefined {
  const { layers: l, heads: h } = run.model;
  if (run.noPrealloc || h <= 0) return undefined;
  if (run.fetches?.n !== n) {
    // Every contract output the graph has (graphs may lack the per-image ones).
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, dims] of Object.entries(contractOutputDims(l, h, n))) {
      if (run.session.outputNames.includes(name)) tensors[name] = new (onnxruntime().Tensor)('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    }
    run.fetches = { n, tensors };
  }
  return run.fetches.tensors;
}

/** ONNX exports may not record the head count; the first batch's kl_sum [L,H,H] tells it. */
function headsFromOutput(out: ort.InferenceSession.ReturnType, model: PreparedModel): number {
  const dims = out['kl_sum']?.dims;
  const h = dims && dims.length === 3 ? Number(dims[1]) : 0;
  if (!(h > 0)) throw new ModelLensError('corrupt', model.file, 'analysis graph output kl_sum has no head dimension');
  model.heads = h;
  model.summary = { ...model.summary, heads: h, headsSource: model.summary.headsSource === 'unknown' ? 'checkpoint-args' : model.summary.headsSource };
  return h;
}
