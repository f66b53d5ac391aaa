// The checkpoints of a training run and their order: a folder (or a list of files) → every checkpoint's
// header read without loading tensors → step/epoch keys, else the number in the file name, else mtime.
// Checkpoints that cannot be read, are unsafe, are not analyzable or are of another architecture than the
// run's are listed with the reason and left out; one bad file never stops the run.
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Checkpoint } from '../formats/checkpoint';
import { ModelLensError, isModelLensError } from '../formats/errors';
import { openCheckpoint } from '../formats/openCheckpoint';
import type { ModelSummary } from '../model/modelTypes';
import { recognize } from '../model/recognize';
import { attachSidecarConfig } from '../model/sidecarConfig';
import { hasCheckpointExtension } from './checkpointPaths';

export type RunOrderKey = 'step' | 'epoch' | 'name' | 'mtime';

/** One checkpoint of the run, in run order. */
export interface RunCheckpoint {
  file: string;
  step?: number;
  epoch?: number;
  /** The last number in the file (or folder) name, when there is one. */
  nameNumber?: number;
  mtimeMs: number;
  summary: ModelSummary;
}

export interface RunListing {
  /** The folder given, when the run is a folder. */
  folder?: string;
  orderedBy: RunOrderKey;
  checkpoints: RunCheckpoint[];
  skipped: Array<{ file: string; reason: string }>;
}

/** Keys a checkpoint records its position under; the first present wins (steps before epochs). */
const STEP_KEYS = ['global_step', 'step', 'iteration', 'iter'] as const;
const EPOCH_KEYS = ['epoch'] as const;
/** Shards of a sharded checkpoint are parts of one model, not checkpoints of a run. */
const SHARD = /-\d{3,5}-of-\d{3,5}\.(safetensors|bin)$/i;
/** A run folder with more checkpoints than this is refused rather than read for minutes. */
export const MAX_RUN_CHECKPOINTS = 1000;

/** Checkpoint files (and Hugging Face model folders) directly inside `dir`, by name. */
export async function runFolderEntries(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isFile() && hasCheckpointExtension(e.name) && !SHARD.test(e.name)) out.push(p);
    else if (e.isDirectory() && (await isModelFolder(p))) out.push(p);
  }
  return out.sort();
}

async function isModelFolder(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => /^(model|pytorch_model)\.(safetensors|bin)(\.index\.json)?$/.test(n));
}

/** The number a run's checkpoint file name carries (`epoch_12.pth` → 12, `checkpoint-500` → 500). */
export function nameNumber(file: string): number | undefined {
  const stem = basename(file).replace(/(\.safetensors|\.pth|\.pt|\.ckpt|\.bin|\.onnx)+$/i, '');
  const all = stem.match(/\d+/g);
  const last = all?.[all.length - 1];
  return last !== undefined ? Number(last) : undefined;
}

function numberUnder(ckpt: Checkpoint, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const raw = ckpt.extras.find((x) => x.key === k)?.value ?? ckpt.metadata[k];
    // Extras are inert renderings; only a plain decimal number is a step (tensor(5) etc. are not trusted).
    if (raw !== undefined && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw);
  }
  return undefined;
}

function archKey(s: ModelSummary): string {
  return [s.family, s.layers, s.heads, s.dim, s.patchSize?.join('x'), s.imageSize?.join('x'), s.specialTokens].join('|');
}

function archLabel(s: ModelSummary): string {
  return `${s.family}, ${s.layers ?? '?'} layers × ${s.heads ?? '?'} heads, dim ${s.dim ?? '?'}, ${s.imageSize?.join('×') ?? '?'} px`;
}

/** Reads one candidate's header; a reason string when it cannot be part of the run. */
async function readCandidate(file: string): Promise<RunCheckpoint | string> {
  try {
    const ckpt = await attachSidecarConfig(await openCheckpoint(file));
    const danger = ckpt.findings.find((f) => f.severity === 'danger');
    if (danger) return `unsafe: ${danger.message}`;
    const { summary, spec } = recognize(ckpt);
    if (!spec) return `not analyzable: ${summary.notAnalyzable ?? `not a recognized ViT (family ${summary.family})`}`;
    const st = await stat(file);
    const c: RunCheckpoint = { file, mtimeMs: st.mtimeMs, summary };
    const step = numberUnder(ckpt, STEP_KEYS);
    const epoch = numberUnder(ckpt, EPOCH_KEYS);
    const n = nameNumber(file);
    if (step !== undefined) c.step = step;
    if (epoch !== undefined) c.epoch = epoch;
    if (n !== undefined) c.nameNumber = n;
    return c;
  } catch (e) {
    if (isModelLensError(e)) return `${e.problem.split('\n')[0] as string}${e.offset !== undefined ? ` (at offset ${e.offset})` : ''}`;
    throw e;
  }
}

/** The order rule every checkpoint supports, first of step → epoch → name → mtime. */
export function orderRule(cs: readonly RunCheckpoint[]): RunOrderKey {
  if (cs.length > 0 && cs.every((c) => c.step !== undefined)) return 'step';
  if (cs.length > 0 && cs.every((c) => c.epoch !== undefined)) return 'epoch';
  if (cs.length > 0 && cs.every((c) => c.nameNumber !== undefined)) return 'name';
  return 'mtime';
}

export function sortRun(cs: RunCheckpoint[], by: RunOrderKey): RunCheckpoint[] {
  const key = (c: RunCheckpoint): number => (by === 'step' ? c.step : by === 'epoch' ? c.epoch : by === 'name' ? c.nameNumber : c.mtimeMs) ?? 0;
  return cs.sort((a, b) => key(a) - key(b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * Lists and orders a run: `inputs` is one folder, or checkpoint files (folders among them are expanded).
 * The run's architecture is the one most checkpoints share (ties: the first in run order).
 */
export async function listRun(inputs: readonly string[]): Promise<RunListing> {
  const files: string[] = [];
  let folder: string | undefined;
  for (const input of inputs) {
    const st = await stat(input).catch(() => {
      throw new ModelLensError('not-found', input, 'no such file or folder');
    });
    if (st.isDirectory() && !(await isModelFolder(input))) {
      if (inputs.length === 1) folder = resolve(input);
      files.push(...(await runFolderEntries(input)));
    } else {
      files.push(input);
    }
  }
  if (files.length > MAX_RUN_CHECKPOINTS) throw new ModelLensError('too-large', folder ?? inputs[0] ?? '', `the run has ${files.length} checkpoints; at most ${MAX_RUN_CHECKPOINTS} are analysed at once`);
  const skipped: RunListing['skipped'] = [];
  const ok: RunCheckpoint[] = [];
  for (const f of files) {
    const c = await readCandidate(f);
    if (typeof c === 'string') skipped.push({ file: f, reason: c });
    else ok.push(c);
  }
  const orderedBy = orderRule(ok);
  sortRun(ok, orderedBy);
  const counts = new Map<string, number>();
  for (const c of ok) counts.set(archKey(c.summary), (counts.get(archKey(c.summary)) ?? 0) + 1);
  let runArch: string | undefined;
  for (const c of ok) if (runArch === undefined || (counts.get(archKey(c.summary)) ?? 0) > (counts.get(runArch) ?? 0)) runArch = archKey(c.summary);
  const reference = ok.find((c) => archKey(c.summary) === runArch);
  const checkpoints = ok.filter((c) => {
    if (archKey(c.summary) === runArch) return true;
    skipped.push({ file: c.file, reason: `another architecture (${archLabel(c.summary)}) than the run's (${reference ? archLabel(reference.summary) : '?'})` });
    return false;
  });
  return { ...(folder !== undefined ? { folder } : {}), orderedBy, checkpoints, skipped };
}
