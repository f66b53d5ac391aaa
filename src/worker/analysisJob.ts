// One analysis job: probes → batches → onnxruntime session(s) → in-graph reductions → float64 sums →
// `model-lens/analysis@1`. Memory is bounded by one batch of decoded images plus the sessions; the
// attention maps and token features never leave the graph.
import { readFileSync } from 'node:fs';
import type * as ort from 'onnxruntime-node';
import { AttentionAccumulator, attentionBlocks, type PerImageOutputs } from '../analysis/accumulator';
import { OUTPUT_CROSS_IMAGE, OUTPUT_DIST_IMAGE, OUTPUT_SPECIAL_IMAGE, contractOutputDims } from '../analysis/graph/reductions';
import { ModelLensError } from '../formats/errors';
import { CkaAccumulator, MIN_CKA_BATCH } from '../analysis/hsic';
import { RESIZE_DESCRIPTION, SYNTHETIC_WARNING, batchTensor, folderProbeSet, syntheticProbeSet, type ProbeImage, type ProbeSet } from '../analysis/probes';
import { ANALYSIS_SCHEMA, type AnalysisResult, type CkaBlock, type DeviceName } from '../analysis/resultSchema';
import type { AnalysisProgress, AnalysisRunParams } from '../protocol/workerProtocol';
import { createSession, createSessionOn, type DeviceOutcome } from './devices';
import type { PrepareFn, PreparedModel } from './preparedModel';
import { onnxruntime } from './ortRuntime';

/** Synthetic probes when the user gives no folder and no --limit. */
export const DEFAULT_SYNTHETIC_COUNT = 64;
export const DEFAULT_BATCH = 16;

export interface JobHooks {
  signal: AbortSignal;
  progress(p: AnalysisProgress): void;
  log(level: 'info' | 'warn', message: string): void;
}

/** Runs V8's GC when the process was started with --expose-gc (the worker is); big buffers die here. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** This process's peak resident set (VmHWM) in MiB, where /proc exposes it. */
function peakRssMb(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new ModelLensError('cancelled', '', 'analysis cancelled');
}

let abandonedRuns = 0;

/** Native work (runs, session creation) of cancelled jobs still executing; onnxruntime cannot interrupt it. */
export function abandonedRunsInFlight(): number {
  return abandonedRuns;
}

/**
 * Resolves with `work`, or rejects as soon as the job is cancelled. Abandoned native work is counted (the
 * host kills a worker that stays busy after a cancel) and `onLate` disposes of its result when it comes.
 */
async function cancellable<T>(work: Promise<T>, signal: AbortSignal, onLate?: (value: T) => void): Promise<T> {
  checkAbort(signal);
  let finished = false;
  const tracked = work.finally(() => {
    finished = true;
  });
  tracked.catch(() => undefined);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      if (!finished) {
        abandonedRuns++;
        tracked.then((v) => onLate?.(v), () => undefined).finally(() => abandonedRuns--);
      }
      reject(new ModelLensError('cancelled', '', 'analysis cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([tracked, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
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

interface ModelRun {
  model: PreparedModel;
  session: ort.InferenceSession;
  /** Created at the first batch when the head count is only known from the output shape (ONNX exports). */
  attention: AttentionAccumulator | undefined;
  /** Preallocated output tensors for the current batch size (reused batch after batch). */
  fetches?: { n: number; tensors: Record<string, ort.Tensor> } | undefined;
  /** Set when the provider refused preallocated outputs; runs then let onnxruntime allocate. */
  noPrealloc?: boolean;
}

/** Output buffers for a batch of n, once the head count is known. */
function fetchesFor(run: ModelRun, n: number): Record<string, ort.Tensor> | undefined {
  const { layers: l, heads: h } = run.model;
  if (run.noPrealloc || h <= 0) return undefined;
  if (run.fetches?.n !== n) {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, dims] of Object.entries(contractOutputDims(l, h, n))) {
      if (!run.session.outputNames.includes(name)) continue;
      tensors[name] = new (onnxruntime().Tensor)('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    }
    run.fetches = { n, tensors };
  }
  return run.fetches.tensors;
}

/** The graph's per-image outputs, when it has them. */
function perImageOutputs(out: ort.InferenceSession.ReturnType, file: string): PerImageOutputs | undefined {
  if (!out[OUTPUT_DIST_IMAGE] || !out[OUTPUT_CROSS_IMAGE] || !out[OUTPUT_SPECIAL_IMAGE]) return undefined;
  return { dist: outputData(out, OUTPUT_DIST_IMAGE, file), cross: outputData(out, OUTPUT_CROSS_IMAGE, file), special: outputData(out, OUTPUT_SPECIAL_IMAGE, file) };
}

function accumulatorFor(model: PreparedModel): AttentionAccumulator | undefined {
  return model.heads > 0 ? new AttentionAccumulator(model.layers, model.heads, model.patchTokens) : undefined;
}

function headsFromOutput(out: ort.InferenceSession.ReturnType, model: PreparedModel): number {
  const dims = out['kl_sum']?.dims;
  const h = dims && dims.length === 3 ? Number(dims[1]) : 0;
  if (!(h > 0)) throw new ModelLensError('corrupt', model.file, 'analysis graph output kl_sum has no head dimension');
  model.heads = h;
  model.summary = { ...model.summary, heads: h, headsSource: model.summary.headsSource === 'unknown' ? 'checkpoint-args' : model.summary.headsSource };
  return h;
}

function ckaBlock(cka: CkaAccumulator, model: number): CkaBlock {
  const ci = cka.matrixCi95(model);
  return { matrix: cka.matrix(model), batches: cka.batches, estimator: 'linear-minibatch-unbiased', ...(ci ? { ci95: { matrix: ci } } : {}) };
}

export interface JobOptions {
  /** Decode the next batch while the current one runs (default: only when not on CPU). */
  prefetch?: boolean;
}

export async function runAnalysis(params: AnalysisRunParams, hooks: JobHooks, prepareModel: PrepareFn, opts: JobOptions = {}): Promise<AnalysisResult> {
  const t0 = performance.now();
  // A job cancelled while it waited in the worker's queue does nothing.
  checkAbort(hooks.signal);
  const jobId = params.jobId ?? 'job';
  const warnings: string[] = [];
  let batchSize = Math.max(1, Math.floor(params.batchSize || DEFAULT_BATCH));
  const timing: AnalysisResult['timing'] = { totalMs: 0, inferenceMs: 0, loadMs: 0, sessionMs: 0, decodeMs: 0, preprocessMs: 0, reduceMs: 0 };

  // Model A gets its session (and drops its serialized graph) before model B is read, so a comparison of
  // two ViT-B holds at most one extra copy of the weights at a time.
  const runs: ModelRun[] = [];
  let device: DeviceOutcome = { requested: params.device, used: 'cpu' };
  const tLoad = performance.now();
  let sessionMs = 0;
  const open = async (file: string, variant: string | undefined, heads: number | undefined, first: boolean): Promise<PreparedModel> => {
    hooks.progress({ jobId, done: 0, total: 1, phase: 'load', message: file });
    const model = await prepareModel(file, { variant, heads, distanceConvention: params.distanceConvention, ckaTokens: params.ckaTokens }, hooks.signal);
    checkAbort(hooks.signal);
    // Weight arrays read for the graph are garbage now; free them before onnxruntime copies the initializers.
    collectGarbage();
    hooks.progress({ jobId, done: 0, total: 1, phase: 'session' });
    const t = performance.now();
    let session: ort.InferenceSession;
    // Creating a ViT-L session takes seconds; a cancel must not wait for it.
    if (first) {
      const created = await cancellable(createSession(model.onnx, params.device), hooks.signal, (late) => void late.session.release().catch(() => undefined));
      device = created.device;
      session = created.session;
    } else {
      session = await cancellable(createSessionOn(model.onnx, device.used as Exclude<DeviceName, 'auto'>), hooks.signal, (late) => void late.release().catch(() => undefined));
    }
    sessionMs += performance.now() - t;
    runs.push({ model, session, attention: accumulatorFor(model) });
    // The serialized graph holds a full copy of the weights; the session has its own now.
    model.onnx = new Uint8Array(0);
    collectGarbage();
    return model;
  };
  const releaseAll = async (): Promise<void> => {
    for (const r of runs) await r.session.release().catch(() => undefined);
  };
  let modelA: PreparedModel;
  let modelB: PreparedModel | undefined;
  try {
    modelA = await open(params.file, params.variant, params.heads, true);
    if (params.fileB !== undefined) modelB = await open(params.fileB, params.variantB, params.headsB, false);
  } catch (e) {
    await releaseAll();
    throw e;
  }
  timing['sessionMs'] = sessionMs;
  timing['loadMs'] = performance.now() - tLoad - sessionMs;
  if (device.fallbackReason && params.device !== 'auto') warnings.push(`Requested device ${params.device} was not available; ran on ${device.used}: ${device.fallbackReason}`);
  warnings.push(...modelA.warnings);
  if (modelB) warnings.push(...modelB.warnings.map((w) => `model B: ${w}`));

  let probes: ProbeSet;
  try {
    probes = params.images !== undefined
      ? folderProbeSet(params.images, params.limit)
      : syntheticProbeSet(params.limit !== undefined && params.limit > 0 ? params.limit : DEFAULT_SYNTHETIC_COUNT, modelA.inputSize);
  } catch (e) {
    await releaseAll();
    throw e;
  }
  if (probes.source === 'synthetic') warnings.push(SYNTHETIC_WARNING);
  if (modelB && (modelB.inputSize[0] !== modelA.inputSize[0] || modelB.inputSize[1] !== modelA.inputSize[1])) {
    warnings.push(`The models take different input sizes (${modelA.inputSize.join('×')} and ${modelB.inputSize.join('×')}); each gets the same probe images preprocessed to its own size${probes.source === 'synthetic' ? ` (synthetic probes are drawn at ${modelA.inputSize.join('×')} and resized for model B)` : ''}.`);
  }
  const fixed = modelA.fixedBatch ?? modelB?.fixedBatch;
  if (fixed !== undefined) {
    if (modelA.fixedBatch !== undefined && modelB?.fixedBatch !== undefined && modelA.fixedBatch !== modelB.fixedBatch) {
      await releaseAll();
      throw new ModelLensError('not-analyzable', params.fileB ?? params.file, `the two ONNX exports have different fixed batch sizes (${modelA.fixedBatch} and ${modelB.fixedBatch})`);
    }
    if (fixed !== batchSize) warnings.push(`The ONNX export has a fixed batch size of ${fixed}; batches of ${fixed} are used instead of ${batchSize}. Export with a dynamic batch axis to choose.`);
    batchSize = fixed;
  }

  const cka = new CkaAccumulator(runs.map((r) => r.model.layers));
  const skipped: string[] = [];
  let done = 0;
  let ckaDropped = 0;
  try {
    hooks.progress({ jobId, done: 0, total: probes.planned, phase: 'run', message: device.used });
    const batches = probes.batches(batchSize, (name, problem) => {
      skipped.push(name);
      hooks.log('warn', `skipped probe image ${name}: ${problem}`);
    });
    const decodeNext = (): IteratorResult<ProbeImage[]> => {
      const t = performance.now();
      const r = batches.next();
      timing['decodeMs'] = (timing['decodeMs'] ?? 0) + performance.now() - t;
      return r;
    };
    // On a GPU the CPU idles while a batch runs: decode the next batch meanwhile. On CPU the cores are
    // all busy with the run, and a decode competing with them slows the run down, so it waits.
    const prefetch = opts.prefetch ?? device.used !== 'cpu';
    checkAbort(hooks.signal);
    let next = decodeNext();
    while (!next.done) {
      checkAbort(hooks.signal);
      const batch = next.value;
      const n = batch.length;
      if (fixed !== undefined && n !== fixed) {
        warnings.push(`The last ${n} probe image(s) were not analyzed: the ONNX export only accepts batches of ${fixed}.`);
        break;
      }
      const grams: Float32Array[] = [];
      let fetched = false;
      for (const run of runs) {
        const tp = performance.now();
        const input = batchTensor(batch, run.model.inputSize, run.model.mean, run.model.std);
        timing['preprocessMs'] = (timing['preprocessMs'] ?? 0) + performance.now() - tp;
        const tInf = performance.now();
        const pending = runCancellable(run, { [run.model.inputName]: new (onnxruntime().Tensor)('float32', input, [n, 3, run.model.inputSize[0], run.model.inputSize[1]]) }, n, hooks.signal);
        let overlapped = 0;
        if (prefetch && run === runs[runs.length - 1]) {
          const td = performance.now();
          next = decodeNext();
          overlapped = performance.now() - td;
          fetched = true;
        }
        const out = await pending;
        timing.inferenceMs += performance.now() - tInf - overlapped;
        const tr = performance.now();
        run.attention ??= new AttentionAccumulator(run.model.layers, headsFromOutput(out, run.model), run.model.patchTokens);
        run.attention.add(outputData(out, 'attn_dist_sum', run.model.file), outputData(out, 'kl_sum', run.model.file), n, perImageOutputs(out, run.model.file));
        grams.push(outputData(out, 'gram', run.model.file));
        timing['reduceMs'] = (timing['reduceMs'] ?? 0) + performance.now() - tr;
      }
      const tr = performance.now();
      if (!cka.addBatch(grams, n)) ckaDropped += n;
      timing['reduceMs'] = (timing['reduceMs'] ?? 0) + performance.now() - tr;
      done += n;
      hooks.progress({ jobId, done, total: Math.max(probes.planned - skipped.length, done), phase: 'run' });
      if (!fetched) next = decodeNext();
    }
  } finally {
    await releaseAll();
  }
  if (done === 0) {
    throw new ModelLensError('not-found', params.images ?? params.file, skipped.length ? `none of the ${skipped.length} probe images could be decoded` : 'no probe images');
  }
  if (skipped.length) warnings.push(`${skipped.length} probe image(s) could not be read and were skipped: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  if (ckaDropped > 0) warnings.push(`The last batch had ${ckaDropped} image(s), fewer than ${MIN_CKA_BATCH}; it is left out of CKA (unbiased HSIC needs n ≥ ${MIN_CKA_BATCH}).`);
  if (cka.batches === 0) warnings.push(`CKA needs at least one batch of ${MIN_CKA_BATCH} or more images; CKA values are null.`);
  if (runs.some((r) => r.model.heads < 2)) warnings.push('Head diversity needs at least 2 heads; it is 0 for single-head models.');

  const [ra, rb] = runs as [ModelRun, ModelRun | undefined];
  const result: AnalysisResult = {
    schema: ANALYSIS_SCHEMA,
    model: ra.model.summary,
    probe: {
      source: probes.source,
      count: done,
      batchSize,
      preprocess: {
        size: ra.model.inputSize,
        mean: ra.model.mean,
        std: ra.model.std,
        resize: RESIZE_DESCRIPTION,
        ...(probes.folder !== undefined ? { folder: probes.folder } : {}),
        ...(skipped.length ? { skipped: skipped.length } : {}),
      },
      hash: probes.hash,
    },
    device,
    ...attentionBlocks(ra.attention as AttentionAccumulator),
    cka: ckaBlock(cka, 0),
    options: { distanceConvention: params.distanceConvention ?? 'renormalised', ckaTokens: params.ckaTokens ?? 'all', imageSize: ra.model.inputSize },
    timing,
    warnings,
  };
  if (rb) {
    result.compare = {
      model: rb.model.summary,
      ...attentionBlocks(rb.attention as AttentionAccumulator),
      cka: ckaBlock(cka, 1),
      crossCka: cka.matrix(0, 1),
    };
    const crossCi = cka.matrixCi95(0, 1);
    if (crossCi) result.compare.crossCkaCi95 = crossCi;
  }
  timing.totalMs = performance.now() - t0;
  // Not a time, but the one number that says whether the job fits the machine; timing allows extra keys.
  const peak = peakRssMb();
  if (peak !== undefined) timing['peakRssMb'] = peak;
  hooks.progress({ jobId, done, total: done, phase: 'done' });
  return result;
}
