// The worker's request handlers, shared by the forked worker (workerMain.ts) and the CLI, which runs the
// same code in-process. Parameters come from another process, so they are checked before use.
import { recognize } from '../model/recognize';
import { attachSidecarConfig } from '../model/sidecarConfig';
import { ModelLensError } from '../formats/errors';
import { openCheckpoint } from '../formats/openCheckpoint';
import type { DeviceName } from '../analysis/resultSchema';
import { tensorStats } from '../formats/tensorData';
import { CKA_TOKEN_MODES, DISTANCE_CONVENTIONS } from '../analysis/graph/reductions';
import type { RpcEndpoint } from '../protocol/rpc';
import {
  ANALYSIS_PROGRESS, ANALYSIS_RUN, INSPECT_HEADER, ONNX_HEADS, TIMELINE_CHECKPOINT, TIMELINE_RUN, WEIGHTS_DIFF, type TimelineRunParams, type WeightsDiffParams, TENSOR_STATS, WORKER_LOG, WORKER_PING,
  type AnalysisRunParams, type InspectHeaderParams, type InspectHeaderResult, type TensorStatsParams, type WorkerLog, type WorkerPingParams, type WorkerPong,
} from '../protocol/workerProtocol';
import { DEFAULT_BATCH, abandonedRunsInFlight, runAnalysis } from './analysisJob';
import { registerAttentionHandlers } from './attentionHandlers';
import { listBackends } from './devices';
import { prepareModel } from './modelPrep';
import { onnxruntimeLoaded } from './ortRuntime';
import { instrumentOnnxFile } from '../analysis/graph/instrument';
import { runTimeline } from './timelineJob';
import { weightsDiff } from '../analysis/weightsDiff';
import { MAX_IMAGE_SIZE } from '../model/imageSize';

const DEVICES: readonly DeviceName[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

function bad(problem: string): never {
  throw new ModelLensError('corrupt', '(request)', problem);
}
const str = (v: unknown, what: string): string => (typeof v === 'string' && v.length > 0 ? v : bad(`${what} must be a non-empty string`));
const optStr = (v: unknown, what: string): string | undefined => (v === undefined || v === null ? undefined : str(v, what));
const optInt = (v: unknown, what: string, min: number): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(`${what} must be an integer >= ${min}`);
  return v;
};

function optChoice<T extends string>(v: unknown, what: string, choices: readonly T[]): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) bad(`${what} must be one of ${choices.join('|')}`);
  return v as T;
}

export function parseRunParams(raw: unknown): AnalysisRunParams {
  if (typeof raw !== 'object' || raw === null) bad('analysis/run needs an object');
  const p = raw as Record<string, unknown>;
  const device = (p['device'] ?? 'auto') as DeviceName;
  if (!DEVICES.includes(device)) bad(`device must be one of ${DEVICES.join('|')}`);
  const out: AnalysisRunParams = { file: str(p['file'], 'file'), batchSize: optInt(p['batchSize'], 'batchSize', 1) ?? DEFAULT_BATCH, device };
  const set = <K extends keyof AnalysisRunParams>(k: K, v: AnalysisRunParams[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('fileB', optStr(p['fileB'], 'fileB'));
  if (p['more'] !== undefined && p['more'] !== null) {
    if (!Array.isArray(p['more']) || out.fileB === undefined) bad('more must be an array of file names after fileB');
    set('more', (p['more'] as unknown[]).map((f, i) => str(f, `more[${i}]`)));
  }
  set('images', optStr(p['images'], 'images'));
  set('limit', optInt(p['limit'], 'limit', 1));
  set('heads', optInt(p['heads'], 'heads', 1));
  set('headsB', optInt(p['headsB'], 'headsB', 1));
  if (p['headsForce'] !== undefined && p['headsForce'] !== null) {
    if (typeof p['headsForce'] !== 'boolean') bad('headsForce must be a boolean');
    if (p['headsForce']) out.headsForce = true;
  }
  set('variant', optStr(p['variant'], 'variant'));
  set('variantB', optStr(p['variantB'], 'variantB'));
  set('distanceConvention', optChoice(p['distanceConvention'], 'distanceConvention', DISTANCE_CONVENTIONS));
  set('ckaTokens', optChoice(p['ckaTokens'], 'ckaTokens', CKA_TOKEN_MODES));
  const size = optInt(p['imageSize'], 'imageSize', 1);
  if (size !== undefined && size > MAX_IMAGE_SIZE) bad(`imageSize must be at most ${MAX_IMAGE_SIZE}`);
  set('imageSize', size);
  set('jobId', optStr(p['jobId'], 'jobId'));
  return out;
}

export function parseTimelineParams(raw: unknown): TimelineRunParams {
  if (typeof raw !== 'object' || raw === null) bad('timeline/run needs an object');
  const p = raw as Record<string, unknown>;
  const inputs = p['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0) bad('inputs must be a non-empty array of paths');
  const base = parseRunParams({ ...p, file: inputs[0], fileB: undefined, more: undefined });
  const out: TimelineRunParams = { inputs: inputs.map((f, i) => str(f, `inputs[${i}]`)), batchSize: base.batchSize, device: base.device };
  if (base.images !== undefined) out.images = base.images;
  if (base.limit !== undefined) out.limit = base.limit;
  if (base.imageSize !== undefined) out.imageSize = base.imageSize;
  if (base.jobId !== undefined) out.jobId = base.jobId;
  const cacheDir = optStr(p['cacheDir'], 'cacheDir');
  if (cacheDir !== undefined) out.cacheDir = cacheDir;
  return out;
}

/** Registers every worker method on `rpc`. Analysis jobs run one at a time (each uses every core). */
export function registerWorkerHandlers(rpc: RpcEndpoint): void {
  let queue: Promise<unknown> = Promise.resolve();
  const log = (level: WorkerLog['level'], message: string): void => rpc.notify(WORKER_LOG, { level, message } satisfies WorkerLog);

  rpc.handle(ANALYSIS_RUN, (raw, ctx) => {
    const params = parseRunParams(raw);
    params.jobId ??= String(ctx.id);
    const job = queue.then(() =>
      runAnalysis(params, {
        signal: ctx.signal,
        progress: (p) => rpc.notify(ANALYSIS_PROGRESS, p),
        log: (level, message) => log(level, message),
      }, prepareModel),
    );
    queue = job.catch(() => undefined);
    return job;
  });

  rpc.handle(TIMELINE_RUN, (raw, ctx) => {
    const params = parseTimelineParams(raw);
    params.jobId ??= String(ctx.id);
    const job = queue.then(() =>
      runTimeline(params, {
        signal: ctx.signal,
        progress: (p) => rpc.notify(ANALYSIS_PROGRESS, p),
        log: (level, message) => log(level, message),
      }, prepareModel, (note) => rpc.notify(TIMELINE_CHECKPOINT, note)),
    );
    queue = job.catch(() => undefined);
    return job;
  });

  rpc.handle(WEIGHTS_DIFF, (raw, ctx) => {
    const p = (raw ?? {}) as Partial<WeightsDiffParams>;
    const fileA = str(p.fileA, 'fileA');
    const fileB = str(p.fileB, 'fileB');
    const variantA = optStr(p.variantA, 'variantA');
    const variantB = optStr(p.variantB, 'variantB');
    return weightsDiff(fileA, fileB, { signal: ctx.signal, ...(variantA !== undefined ? { variantA } : {}), ...(variantB !== undefined ? { variantB } : {}) });
  });

  rpc.handle(TENSOR_STATS, async (raw) => {
    const p = (raw ?? {}) as Partial<TensorStatsParams>;
    const file = str(p.file, 'file');
    const name = str(p.tensor, 'tensor');
    const variant = optStr(p.variant, 'variant');
    const ckpt = await openCheckpoint(file, variant !== undefined ? { variant } : undefined);
    const t = ckpt.tensors.find((x) => x.name === name);
    if (!t) throw new ModelLensError('not-found', file, `no tensor named "${name}"`);
    return tensorStats(t);
  });

  rpc.handle(INSPECT_HEADER, async (raw): Promise<InspectHeaderResult> => {
    const p = (raw ?? {}) as Partial<InspectHeaderParams>;
    const file = str(p.file, 'file');
    const variant = optStr(p.variant, 'variant');
    const heads = optInt(p.heads, 'heads', 1);
    const checkpoint = await attachSidecarConfig(await openCheckpoint(file, variant !== undefined ? { variant } : undefined));
    const { summary } = recognize(checkpoint, heads !== undefined ? { headsOverride: heads } : undefined);
    return { checkpoint, model: summary };
  });

  // The inspector shows the heads the analysis will use: the same graph search the analysis does (no
  // inference). A graph the analysis cannot use answers null; the inspector then says why elsewhere.
  rpc.handle(ONNX_HEADS, async (raw): Promise<{ heads: number | null }> => {
    const file = str((raw as { file?: unknown } | null)?.file, 'file');
    try {
      return { heads: (await instrumentOnnxFile(file)).heads };
    } catch {
      return { heads: null };
    }
  });

  registerAttentionHandlers(rpc);

  rpc.handle(WORKER_PING, (raw): WorkerPong => {
    const wantBackends = typeof raw === 'object' && raw !== null && (raw as WorkerPingParams).backends === true;
    const backends = wantBackends ? listBackends() : undefined;
    return { pid: process.pid, ortLoaded: onnxruntimeLoaded(), busy: abandonedRunsInFlight(), ...(backends ? { backends } : {}) };
  });
}
