// An analysis job as small named steps over N models (N = 1 analyse, N = 2 compare, N > 2 a comparison
// against a reference): open models → plan probe batches → run one batch through every model → accumulate
// → finish the result. Memory is bounded by one batch of decoded images plus the sessions; attention maps
// and token features never leave the graph. A training-run timeline (timelineJob.ts) reuses the steps.
import { AttentionAccumulator, attentionBlocks, type PerImageOutputs } from '../analysis/accumulator';
import { OUTPUT_CROSS_IMAGE, OUTPUT_DIST_IMAGE, OUTPUT_SPECIAL_IMAGE } from '../analysis/graph/reductions';
import { ModelLensError } from '../formats/errors';
import { CkaAccumulator, MIN_CKA_BATCH } from '../analysis/hsic';
import { RESIZE_DESCRIPTION, SYNTHETIC_WARNING, selectProbeSet, type ProbeImage, type ProbeSet } from '../analysis/probes';
import { ANALYSIS_SCHEMA, type AnalysisResult, type CkaBlock } from '../analysis/resultSchema';
import type { AnalysisRunParams } from '../protocol/workerProtocol';
import type { DeviceOutcome } from './devices';
import { addTime, checkAbort, newTiming, peakRssMb, type JobHooks, type JobTiming } from './jobControl';
import { BatchInputs, openModels, releaseModels, runModelBatch, type ModelBatchOutput, type ModelRequest, type ModelRun } from './modelSessions';
import type { PrepareFn, PreparedModel } from './preparedModel';

export { abandonedRunsInFlight, type JobHooks } from './jobControl';

export { DEFAULT_SYNTHETIC_COUNT } from '../analysis/probes';
export const DEFAULT_BATCH = 16;

export interface JobOptions {
  /** Decode the next batch while the current one runs (default: only when not on CPU). */
  prefetch?: boolean;
}

/** How results and warnings name model m (0-based): A, B, C, ... */
export function modelLetter(m: number): string {
  return m < 26 ? String.fromCharCode(65 + m) : String(m + 1);
}

/** The models of `analysis/run`: `file`, then `fileB`, then `more` (an N-way comparison). */
export function modelRequests(params: AnalysisRunParams): ModelRequest[] {
  const opts = { distanceConvention: params.distanceConvention, ckaTokens: params.ckaTokens, ...(params.imageSize !== undefined ? { imageSize: params.imageSize } : {}) };
  const force = params.headsForce === true ? { headsForce: true } : {};
  const reqs: ModelRequest[] = [{ file: params.file, variant: params.variant, heads: params.heads, ...opts, ...force }];
  if (params.fileB !== undefined) reqs.push({ file: params.fileB, variant: params.variantB, heads: params.headsB, ...opts, ...force });
  for (const file of params.more ?? []) reqs.push({ file, ...opts });
  return reqs;
}

/** The probe set and batch size every model of the job sees. */
export interface ProbePlan {
  probes: ProbeSet;
  batchSize: number;
  /** ONNX exports without a dynamic batch axis: only full batches of this size run. */
  fixed?: number;
}

/** Step "plan probe batches": the probe set, the batch size (an ONNX export may fix it) and their warnings. */
export function planProbes(params: AnalysisRunParams, models: readonly PreparedModel[], warnings: string[]): ProbePlan {
  const first = models[0] as PreparedModel;
  let batchSize = Math.max(1, Math.floor(params.batchSize || DEFAULT_BATCH));
  const probes = selectProbeSet(params.images, params.limit, first.inputSize);
  if (probes.source === 'synthetic') warnings.push(SYNTHETIC_WARNING);
  const sizes = (m: PreparedModel): string => m.inputSize.join('×');
  models.forEach((m, i) => {
    if (i === 0 || (m.inputSize[0] === first.inputSize[0] && m.inputSize[1] === first.inputSize[1])) return;
    warnings.push(`The models take different input sizes (${sizes(first)} and ${sizes(m)}); each gets the same probe images preprocessed to its own size${probes.source === 'synthetic' ? ` (synthetic probes are drawn at ${sizes(first)} and resized for model ${modelLetter(i)})` : ''}.`);
  });
  const fixedModel = models.find((m) => m.fixedBatch !== undefined);
  const fixed = fixedModel?.fixedBatch;
  if (fixed === undefined) return { probes, batchSize };
  const other = models.find((m) => m.fixedBatch !== undefined && m.fixedBatch !== fixed);
  if (other) throw new ModelLensError('not-analyzable', other.file, `the two ONNX exports have different fixed batch sizes (${fixed} and ${other.fixedBatch})`);
  if (fixed !== batchSize) warnings.push(`The ONNX export has a fixed batch size of ${fixed}; batches of ${fixed} are used instead of ${batchSize}. Export with a dynamic batch axis to choose.`);
  batchSize = fixed;
  return { probes, batchSize, fixed };
}

/**
 * Step "run one batch through every model", in model order. `duringLastRun` runs while the last model's
 * batch executes (the next batch is decoded then).
 */
export async function runBatch(runs: readonly ModelRun[], batch: BatchInputs, signal: AbortSignal, timing: JobTiming, duringLastRun?: () => void): Promise<ModelBatchOutput[]> {
  const outputs: ModelBatchOutput[] = [];
  for (const [i, run] of runs.entries()) {
    outputs.push(await runModelBatch(run, batch, signal, timing, i === runs.length - 1 ? duringLastRun : undefined));
  }
  return outputs;
}

/** The graph's per-image outputs, when it has them. */
function perImageOutputs(o: ModelBatchOutput): PerImageOutputs | undefined {
  const [d, c, s] = [o.outputs[OUTPUT_DIST_IMAGE], o.outputs[OUTPUT_CROSS_IMAGE], o.outputs[OUTPUT_SPECIAL_IMAGE]];
  if (!(d?.data instanceof Float32Array && c?.data instanceof Float32Array && s?.data instanceof Float32Array)) return undefined;
  return { dist: d.data, cross: c.data, special: s.data };
}

/** Step "accumulate": float64 sums of every model's reductions, and CKA across all of them. */
export class JobAccumulator {
  /** Per model; created at its first batch, when an ONNX export's head count is known. */
  readonly attention: Array<AttentionAccumulator | undefined>;
  readonly cka: CkaAccumulator;
  /** Images that went through every model. */
  done = 0;
  /** Images of a final batch too small for CKA. */
  ckaDropped = 0;
  ckaDroppedBatches = 0;

  constructor(private readonly models: readonly PreparedModel[]) {
    this.attention = models.map(() => undefined);
    this.cka = new CkaAccumulator(models.map((m) => m.layers));
  }

  /** Adds one batch of n images; `outputs[m]` is model m's (its buffers may be reused by the next run). */
  add(outputs: readonly ModelBatchOutput[], n: number, timing: JobTiming): void {
    const t = performance.now();
    outputs.forEach((o, m) => {
      const model = this.models[m] as PreparedModel;
      const acc = (this.attention[m] ??= new AttentionAccumulator(model.layers, model.heads, model.patchTokens, model.ragged));
      acc.add(o.dist, o.kl, n, perImageOutputs(o));
    });
    if (!this.cka.addBatch(outputs.map((o) => o.gram), n)) {
      this.ckaDropped += n;
      this.ckaDroppedBatches++;
    }
    addTime(timing, 'reduceMs', t);
    this.done += n;
  }

  /** Attention metrics of model m, with special mass, entropy and bootstrap intervals when the graph gives per-image values. */
  metrics(m: number): Pick<AnalysisResult, 'attentionDistance' | 'headDiversity' | 'specialMass' | 'attentionEntropy'> {
    return attentionBlocks(this.attention[m] as AttentionAccumulator);
  }

  ckaBlock(m: number): CkaBlock {
    const ci = this.cka.matrixCi95(m);
    return { matrix: this.cka.matrix(m), batches: this.cka.batches, estimator: 'linear-minibatch-unbiased', ...(ci ? { ci95: { matrix: ci } } : {}) };
  }

  /** CKA of model A's layers against model m's, with its interval over minibatches when there are enough. */
  crossCka(m: number): { crossCka: number[][]; crossCkaCi95?: Array<Array<[number, number]>> } {
    const ci = this.cka.matrixCi95(0, m);
    return { crossCka: this.cka.matrix(0, m), ...(ci ? { crossCkaCi95: ci } : {}) };
  }
}

/**
 * Runs every batch of the plan through every model into `acc`; decodes ahead on devices that leave the CPU
 * idle. Returns the names of probe images that could not be decoded.
 */
async function runAllBatches(runs: readonly ModelRun[], plan: ProbePlan, acc: JobAccumulator, job: { hooks: JobHooks; jobId: string; timing: JobTiming; prefetch: boolean; warnings: string[] }): Promise<{ skipped: string[] }> {
  const { hooks, jobId, timing } = job;
  const skipped: string[] = [];
  const batches = plan.probes.batches(plan.batchSize, (name, problem) => {
    skipped.push(name);
    hooks.log('warn', `skipped probe image ${name}: ${problem}`);
  });
  const decodeNext = (): IteratorResult<ProbeImage[]> => {
    const t = performance.now();
    const r = batches.next();
    addTime(timing, 'decodeMs', t);
    return r;
  };
  checkAbort(hooks.signal);
  let next = decodeNext();
  while (!next.done) {
    checkAbort(hooks.signal);
    const batch = next.value;
    const n = batch.length;
    if (plan.fixed !== undefined && n !== plan.fixed) {
      job.warnings.push(`The last ${n} probe image(s) were not analyzed: the ONNX export only accepts batches of ${plan.fixed}.`);
      break;
    }
    let fetched = false;
    const outputs = await runBatch(runs, new BatchInputs(batch), hooks.signal, timing, job.prefetch ? () => {
      next = decodeNext();
      fetched = true;
    } : undefined);
    acc.add(outputs, n, timing);
    hooks.progress({ jobId, done: acc.done, total: Math.max(plan.probes.planned - skipped.length, acc.done), phase: 'run' });
    if (!fetched) next = decodeNext();
  }
  return { skipped };
}

/** Warnings about what the batches left out, in the order the result has always listed them. */
export function batchWarnings(acc: JobAccumulator, skipped: readonly string[], models: readonly PreparedModel[]): string[] {
  const out: string[] = [];
  if (skipped.length) out.push(`${skipped.length} probe image(s) could not be read and were skipped: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  if (acc.ckaDroppedBatches > 1) out.push(`CKA needs batches of at least ${MIN_CKA_BATCH} images (unbiased HSIC): ${acc.ckaDroppedBatches} batches (${acc.ckaDropped} images) were smaller and left out of CKA; use a batch size of ${MIN_CKA_BATCH} or more.`);
  else if (acc.ckaDropped > 0) out.push(`The last batch had ${acc.ckaDropped} image(s), fewer than ${MIN_CKA_BATCH}; it is left out of CKA (unbiased HSIC needs n ≥ ${MIN_CKA_BATCH}).`);
  if (acc.cka.batches === 0) out.push(`CKA needs at least one batch of ${MIN_CKA_BATCH} or more images; CKA values are null.`);
  if (models.some((m) => m.heads < 2)) out.push('Head diversity needs at least 2 heads; it is 0 for single-head models.');
  return out;
}

/** Step "finish the result": `model-lens/analysis@1` of model 0, with the others as `compare` (B) and `compareMore` (C, ...). */
export function finishResult(models: readonly PreparedModel[], plan: ProbePlan, acc: JobAccumulator, skipped: readonly string[], device: DeviceOutcome, timing: JobTiming, warnings: string[], options: Pick<AnalysisRunParams, 'distanceConvention' | 'ckaTokens'> = {}): AnalysisResult {
  const a = models[0] as PreparedModel;
  const result: AnalysisResult = {
    schema: ANALYSIS_SCHEMA,
    model: a.summary,
    probe: {
      source: plan.probes.source,
      ...(plan.probes.bundled ? { bundled: true } : {}),
      count: acc.done,
      batchSize: plan.batchSize,
      preprocess: {
        size: a.inputSize,
        mean: a.mean,
        std: a.std,
        resize: RESIZE_DESCRIPTION,
        ...(plan.probes.folder !== undefined ? { folder: plan.probes.folder } : {}),
        ...(skipped.length ? { skipped: skipped.length } : {}),
      },
      hash: plan.probes.hash,
    },
    device,
    ...acc.metrics(0),
    cka: acc.ckaBlock(0),
    options: { distanceConvention: options.distanceConvention ?? 'renormalised', ckaTokens: options.ckaTokens ?? 'all', imageSize: a.inputSize },
    timing,
    warnings,
  };
  const others = models.slice(1).map((m, i) => ({ model: m.summary, ...acc.metrics(i + 1), cka: acc.ckaBlock(i + 1), ...acc.crossCka(i + 1) }));
  if (others[0]) result.compare = others[0];
  if (others.length > 1) result.compareMore = others.slice(1);
  return result;
}

/** `analysis/run`: the steps above over the job's models. */
export async function runAnalysis(params: AnalysisRunParams, hooks: JobHooks, prepareModel: PrepareFn, opts: JobOptions = {}): Promise<AnalysisResult> {
  const t0 = performance.now();
  // A job cancelled while it waited in the worker's queue does nothing.
  checkAbort(hooks.signal);
  const jobId = params.jobId ?? 'job';
  const warnings: string[] = [];
  const timing = newTiming();
  const { runs, device } = await openModels(modelRequests(params), params.device, { hooks, jobId, prepare: prepareModel, timing });
  const models = runs.map((r) => r.model);
  let acc: JobAccumulator;
  let plan: ProbePlan;
  let skipped: string[];
  try {
    if (device.fallbackReason && params.device !== 'auto') warnings.push(`Requested device ${params.device} was not available; ran on ${device.used}: ${device.fallbackReason}`);
    models.forEach((m, i) => warnings.push(...(i === 0 ? m.warnings : m.warnings.map((w) => `model ${modelLetter(i)}: ${w}`))));
    plan = planProbes(params, models, warnings);
    acc = new JobAccumulator(models);
    hooks.progress({ jobId, done: 0, total: plan.probes.planned, phase: 'run', message: device.used });
    // On a GPU the CPU idles while a batch runs: decode the next batch meanwhile. On CPU the cores are
    // all busy with the run, and a decode competing with them slows the run down, so it waits.
    const prefetch = opts.prefetch ?? device.used !== 'cpu';
    ({ skipped } = await runAllBatches(runs, plan, acc, { hooks, jobId, timing, prefetch, warnings }));
  } finally {
    await releaseModels(runs);
  }
  if (acc.done === 0) {
    throw new ModelLensError('not-found', params.images ?? params.file, skipped.length ? `none of the ${skipped.length} probe images could be decoded` : 'no probe images');
  }
  warnings.push(...batchWarnings(acc, skipped, models));
  const result = finishResult(models, plan, acc, skipped, device, timing, warnings, params);
  timing.totalMs = performance.now() - t0;
  // Not a time, but the one number that says whether the job fits the machine; timing allows extra keys.
  const peak = peakRssMb();
  if (peak !== undefined) timing['peakRssMb'] = peak;
  hooks.progress({ jobId, done: acc.done, total: acc.done, phase: 'done' });
  return result;
}
