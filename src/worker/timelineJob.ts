// A training run as one job over N checkpoints, built on the analysis steps: the run is listed and ordered
// (runtime/runOrder.ts), probe images are decoded and preprocessed once for the whole run, one onnxruntime
// session serves every checkpoint of the architecture (its graph takes the weights as inputs; each
// checkpoint feeds its own), and every finished checkpoint is cached at once, so a reopened run is instant
// and an interrupted one resumes. Each checkpoint's numbers are those of a single analysis of it.
import { createHash } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import { CkaAccumulator, MIN_CKA_BATCH } from '../analysis/hsic';
import type { AnalysisResult, DeviceName } from '../analysis/resultSchema';
import { TIMELINE_SCHEMA, ckaMatrixSummary, meanOf, type TimelineCheckpoint, type TimelineResult } from '../analysis/timelineSchema';
import { ModelLensError } from '../formats/errors';
import type { TimelineCheckpointNote, TimelineRunParams } from '../protocol/workerProtocol';
import { listRun, type RunCheckpoint } from '../runtime/runOrder';
import { TimelineCache, type GramBatch, type RunSummary, type TimelineEntry } from '../runtime/timelineCache';
import { JobAccumulator, batchWarnings, finishResult, planProbes, runBatch, type ProbePlan } from './analysisJob';
import { createSession, createSessionOn, type DeviceOutcome } from './devices';
import { cancellable, checkAbort, collectGarbage, newTiming, peakRssMb, type JobHooks } from './jobControl';
import { BatchInputs, type ModelRun } from './modelSessions';
import { onnxruntime } from './ortRuntime';
import type { PrepareFn, PreparedModel } from './preparedModel';

/** The run's probe batches, decoded once. */
interface DecodedProbes {
  plan: ProbePlan;
  batches: BatchInputs[];
  skipped: string[];
  planWarnings: string[];
}

/** The session kept across checkpoints, with the structure hash of the graph it runs. */
interface SharedSession {
  key: string;
  session: ort.InferenceSession;
}

interface TimelineState {
  params: TimelineRunParams;
  hooks: JobHooks;
  prepare: PrepareFn;
  jobId: string;
  device?: DeviceOutcome;
  shared?: SharedSession;
  /** Sessions created so far (one per architecture in the run, plus one per user .onnx file). */
  sessionsCreated: number;
  probes?: DecodedProbes;
}

function decodeProbes(params: TimelineRunParams, model: PreparedModel, hooks: JobHooks): DecodedProbes {
  const planWarnings: string[] = [];
  const plan = planProbes({ file: model.file, batchSize: params.batchSize, device: params.device, ...(params.images !== undefined ? { images: params.images } : {}), ...(params.limit !== undefined ? { limit: params.limit } : {}) }, [model], planWarnings);
  const skipped: string[] = [];
  const batches = [...plan.probes.batches(plan.batchSize, (name, problem) => {
    skipped.push(name);
    hooks.log('warn', `skipped probe image ${name}: ${problem}`);
  })].map((b) => new BatchInputs(b));
  return { plan, batches, skipped, planWarnings };
}

/** The session for `model`: the shared one when the graph structure is the same, else a new one. */
async function sessionFor(st: TimelineState, model: PreparedModel): Promise<ModelRun> {
  const key = createHash('sha256').update(model.onnx).digest('hex');
  const { signal } = st.hooks;
  if (!model.weightFeeds || st.shared?.key !== key) {
    if (st.shared) await st.shared.session.release().catch(() => undefined);
    st.shared = undefined;
    let session: ort.InferenceSession;
    if (!st.device) {
      const created = await cancellable(createSession(model.onnx, st.params.device), signal, (late) => void late.session.release().catch(() => undefined));
      st.device = created.device;
      session = created.session;
    } else {
      session = await cancellable(createSessionOn(model.onnx, st.device.used as Exclude<DeviceName, 'auto'>), signal, (late) => void late.release().catch(() => undefined));
    }
    st.sessionsCreated++;
    // Graphs without weight inputs (a user's .onnx) hold their weights: their session is the checkpoint's alone.
    st.shared = { key: model.weightFeeds ? key : `once:${model.file}`, session };
  }
  model.onnx = new Uint8Array(0);
  const run: ModelRun = { model, session: st.shared.session };
  if (model.weightFeeds) run.weights = Object.fromEntries(model.weightFeeds.map((w) => [w.name, new (onnxruntime().Tensor)('float32', w.data, w.dims)]));
  return run;
}

/** One checkpoint through the analysis steps; its result equals `runAnalysis` on it alone. */
async function analyzeCheckpoint(st: TimelineState, file: string): Promise<TimelineEntry> {
  const { hooks, params } = st;
  const timing = newTiming();
  const t0 = performance.now();
  const model = await st.prepare(file, { weightsAsInputs: true, ...(params.imageSize !== undefined ? { imageSize: params.imageSize } : {}) }, hooks.signal);
  checkAbort(hooks.signal);
  const tSession = performance.now();
  const run = await sessionFor(st, model);
  timing['sessionMs'] = performance.now() - tSession;
  timing['loadMs'] = tSession - t0;
  const device = st.device as DeviceOutcome;
  const probes = (st.probes ??= decodeProbes(params, model, hooks));
  const warnings: string[] = [];
  if (device.fallbackReason && params.device !== 'auto') warnings.push(`Requested device ${params.device} was not available; ran on ${device.used}: ${device.fallbackReason}`);
  warnings.push(...model.warnings, ...probes.planWarnings);
  const acc = new JobAccumulator([model]);
  const grams: GramBatch[] = [];
  for (const batch of probes.batches) {
    checkAbort(hooks.signal);
    if (probes.plan.fixed !== undefined && batch.n !== probes.plan.fixed) {
      warnings.push(`The last ${batch.n} probe image(s) were not analyzed: the ONNX export only accepts batches of ${probes.plan.fixed}.`);
      break;
    }
    const [out] = await runBatch([run], batch, hooks.signal, timing);
    if (!out) continue;
    // Kept for CKA against the run's final checkpoint (the output buffers are reused by the next batch).
    if (batch.n >= MIN_CKA_BATCH) grams.push({ n: batch.n, data: out.gram.slice() });
    acc.add([out], batch.n, timing);
  }
  if (acc.done === 0) throw new ModelLensError('not-found', params.images ?? file, 'no probe images could be decoded');
  warnings.push(...batchWarnings(acc, probes.skipped, [model]));
  const result = finishResult([model], probes.plan, acc, probes.skipped, device, timing, warnings);
  timing.totalMs = performance.now() - t0;
  run.weights = undefined;
  collectGarbage();
  return { result, grams };
}

/** Per layer l: CKA between layer l of `a` and layer l of `b` over the batches both saw. */
export function layerwiseCka(a: readonly GramBatch[], b: readonly GramBatch[], layers: number): Array<number | null> {
  const acc = new CkaAccumulator([layers, layers]);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const ga = a[i] as GramBatch;
    const gb = b[i] as GramBatch;
    if (ga.n === gb.n) acc.addBatch([ga.data, gb.data], ga.n);
  }
  const m = acc.matrix(0, 1);
  return Array.from({ length: layers }, (_, l) => {
    const v = m[l]?.[l];
    return v !== undefined && Number.isFinite(v) ? v : null;
  });
}

function timelineCheckpoint(c: RunCheckpoint, r: AnalysisResult, toFinal: Array<number | null>, cached: boolean): TimelineCheckpoint {
  return {
    file: c.file,
    ...(c.step !== undefined ? { step: c.step } : {}),
    ...(c.epoch !== undefined ? { epoch: c.epoch } : {}),
    model: r.model,
    attentionDistance: r.attentionDistance,
    headDiversity: r.headDiversity,
    cka: r.cka,
    ...ckaSpecialMass(r),
    ckaSummary: { ...ckaMatrixSummary(r.cka.matrix), toFinal, toFinalMean: meanOf(toFinal) },
    warnings: r.warnings,
    cached,
  };
}

/** Special-token mass, when the analysis reports it. */
function ckaSpecialMass(r: AnalysisResult): Pick<TimelineCheckpoint, 'specialMass'> {
  const sm = (r as { specialMass?: TimelineCheckpoint['specialMass'] }).specialMass;
  return sm ? { specialMass: sm } : {};
}

/** `timeline/run`: every checkpoint of the run, cached ones read back, the others analysed in run order. */
export async function runTimeline(params: TimelineRunParams, hooks: JobHooks, prepare: PrepareFn, onCheckpoint?: (note: TimelineCheckpointNote) => void): Promise<TimelineResult> {
  const t0 = performance.now();
  checkAbort(hooks.signal);
  const jobId = params.jobId ?? 'timeline';
  const listing = await listRun(params.inputs);
  const total = listing.checkpoints.length;
  if (total === 0) {
    const first = listing.skipped[0];
    throw new ModelLensError('not-analyzable', listing.folder ?? params.inputs[0] ?? '', `no checkpoint of the run can be analysed${first ? ` (${listing.skipped.length} skipped; first: ${first.file}: ${first.reason})` : ''}`);
  }
  const cache = params.cacheDir !== undefined ? new TimelineCache(params.cacheDir) : undefined;
  const st: TimelineState = { params, hooks, prepare, jobId, sessionsCreated: 0 };
  const keyOf = (file: string): Parameters<TimelineCache['get']>[0] => ({ file, batchSize: params.batchSize, device: params.device, images: params.images, limit: params.limit, imageSize: params.imageSize });
  const entries: Array<{ c: RunCheckpoint; entry: TimelineEntry; cached: boolean }> = [];
  const skipped = [...listing.skipped];
  try {
    for (const [index, c] of listing.checkpoints.entries()) {
      checkAbort(hooks.signal);
      hooks.progress({ jobId, done: index, total, phase: 'run', message: c.file });
      let entry = await cache?.get(keyOf(c.file));
      const cached = entry !== undefined;
      if (!entry) {
        try {
          entry = await analyzeCheckpoint(st, c.file);
        } catch (e) {
          // A checkpoint that fails to load (truncated tensor data, a missing weight) is skipped; the run goes on.
          if (!(e instanceof ModelLensError) || e.code === 'cancelled') throw e;
          skipped.push({ file: c.file, reason: e.problem });
          continue;
        }
        await cache?.put(keyOf(c.file), entry).catch((e: unknown) => hooks.log('warn', `could not cache ${c.file}: ${String(e)}`));
      }
      entries.push({ c, entry, cached });
      onCheckpoint?.({ jobId, index, total, file: c.file, cached });
    }
  } finally {
    await st.shared?.session.release().catch(() => undefined);
  }
  const result = finishTimeline(listing, entries, skipped, st, t0);
  if (cache && result.run.folder !== undefined) await cache.putRun(runSummary(result)).catch((e: unknown) => hooks.log('warn', `could not record the run for the hover: ${String(e)}`));
  return result;
}

function runSummary(t: TimelineResult): RunSummary {
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    folder: t.run.folder as string,
    orderedBy: t.run.orderedBy,
    savedAt: Date.now(),
    model: (t.checkpoints[t.checkpoints.length - 1] as TimelineCheckpoint).model,
    checkpoints: t.checkpoints.map((c) => ({
      file: c.file,
      ...(c.step !== undefined ? { step: c.step } : {}),
      ...(c.epoch !== undefined ? { epoch: c.epoch } : {}),
      attentionDistance: mean(c.attentionDistance.perLayer),
      headDiversity: mean(c.headDiversity.perLayer),
      ckaMeanOffDiagonal: c.ckaSummary.meanOffDiagonal,
      ckaToFinal: c.ckaSummary.toFinalMean,
    })),
  };
}

function finishTimeline(listing: Awaited<ReturnType<typeof listRun>>, entries: ReadonlyArray<{ c: RunCheckpoint; entry: TimelineEntry; cached: boolean }>, skipped: TimelineResult['skipped'], st: TimelineState, t0: number): TimelineResult {
  const last = entries[entries.length - 1];
  const first = entries[0];
  if (!last || !first) throw new ModelLensError('not-analyzable', listing.folder ?? '', `no checkpoint of the run could be analysed (${skipped.length} skipped)`);
  const layers = last.entry.result.cka.matrix.length;
  const checkpoints = entries.map(({ c, entry, cached }) => timelineCheckpoint(c, entry.result, layerwiseCka(entry.grams, last.entry.grams, layers), cached));
  const timing: NonNullable<TimelineResult['timing']> = { totalMs: performance.now() - t0, sessionsCreated: st.sessionsCreated };
  // Phase sums over the checkpoints analysed now (cached ones cost nothing), so the bench can say where a run's time goes.
  for (const { entry, cached } of entries) {
    if (cached) continue;
    for (const [k, v] of Object.entries(entry.result.timing)) if (k !== 'totalMs' && k !== 'peakRssMb') timing[k] = (timing[k] ?? 0) + v;
  }
  const peak = peakRssMb();
  if (peak !== undefined) timing['peakRssMb'] = peak;
  st.hooks.progress({ jobId: st.jobId, done: entries.length, total: entries.length, phase: 'done' });
  return {
    schema: TIMELINE_SCHEMA,
    run: { ...(listing.folder !== undefined ? { folder: listing.folder } : {}), orderedBy: listing.orderedBy },
    probe: first.entry.result.probe,
    device: st.device ?? first.entry.result.device,
    checkpoints,
    skipped,
    timing,
  };
}
