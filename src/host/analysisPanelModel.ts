// The vscode-free parts of the analysis panel: identity and title, the webview HTML shell with its CSP,
// the check of a restored panel's persisted state, the worker parameters and progress mapping of a job.
// Node tests import this file directly.
import { basename } from 'node:path';
import type { AnalysisViewState, AnalysisProgress as ViewProgress } from '../protocol/analysisViewProtocol';
import type { AnalysisProgress as WorkerProgress, AnalysisRunParams } from '../protocol/workerProtocol';
import { isAnalysisResult } from '../protocol/analysisResultCheck';
import type { ModelSummary } from '../model/modelTypes';
import type { ModelLensSettings } from './services';
import { chartPageCsp, webviewPage } from './webviewHtml';

/** Weight variant chosen per file (index as in `files`); undefined/null: the file's default set. */
export type Variants = ReadonlyArray<string | null | undefined>;

/** Panel identity of one checkpoint or an ordered pair, each with its weight variant. */
export function panelKey(files: readonly string[], variants: Variants = []): string {
  return files.map((f, i) => (variants[i] ? `${f}\u0001${variants[i]}` : f)).join('\u0000');
}

/** Panel title: "Analysis: a.pth", "Analysis: a.pth [ema]" or "Compare: a.pth ↔ b.pth". */
export function panelTitle(files: readonly string[], variants: Variants = []): string {
  const name = (i: number): string => `${basename(files[i] ?? '')}${variants[i] ? ` [${variants[i]}]` : ''}`;
  return files.length === 2 ? `Compare: ${name(0)} ↔ ${name(1)}` : `Analysis: ${name(0)}`;
}

/** The variants as the view state stores them: absent when every file uses its default set. */
export function storedVariants(files: readonly string[], variants: Variants): Array<string | null> | undefined {
  return files.some((_, i) => variants[i]) ? files.map((_, i) => variants[i] ?? null) : undefined;
}

/** The webview HTML shell: CSP default-src 'none', one nonce'd script, nothing inline. */
export function analysisHtml(cspSource: string, scriptUri: string, nonce: string, title: string): string {
  const csp = chartPageCsp(cspSource, nonce);
  return webviewPage({ csp, nonce, scriptUri, title, main: '<main id="model-lens-root"></main>' });
}

/** A restored panel's persisted state, checked before use (it comes from the webview). */
export function restoredState(raw: unknown): AnalysisViewState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as { v?: unknown; view?: unknown };
  if (o.v !== 1 || typeof o.view !== 'object' || o.view === null) return undefined;
  const s = o.view as Record<string, unknown>;
  const files = s['files'];
  if (!Array.isArray(files) || files.length < 1 || files.length > 2 || !files.every((f) => typeof f === 'string' && f.length > 0 && f.length < 4096)) return undefined;
  const fs = files as string[];
  const rawVariants = s['variants'];
  let variants: Array<string | null> | undefined;
  if (rawVariants !== undefined) {
    if (!Array.isArray(rawVariants) || rawVariants.length !== fs.length || !rawVariants.every((v) => v === null || (typeof v === 'string' && v.length > 0 && v.length <= 200))) return undefined;
    variants = storedVariants(fs, rawVariants as Array<string | null>);
  }
  const state: AnalysisViewState = { key: panelKey(fs, variants), files: fs, title: panelTitle(fs, variants), phase: 'cancelled' };
  if (variants) state.variants = variants;
  const phase = s['phase'];
  if (phase === 'done' && isAnalysisResult(s['result'])) {
    state.phase = 'done';
    state.result = s['result'];
    if (s['cached'] === true) state.cached = true;
  } else if (phase === 'running') {
    state.phase = 'error';
    state.error = { code: 'interrupted', message: 'The analysis was interrupted when the window reloaded. Run it again.' };
  } else if (phase === 'error') {
    const e = s['error'] as { code?: unknown; message?: unknown; file?: unknown; offset?: unknown } | undefined;
    state.phase = 'error';
    state.error = { code: typeof e?.code === 'string' ? e.code.slice(0, 100) : 'error', message: typeof e?.message === 'string' ? e.message.slice(0, 4000) : 'The analysis failed.' };
    if (typeof e?.file === 'string' && e.file.length < 4096) state.error.file = e.file;
    if (typeof e?.offset === 'number' && Number.isSafeInteger(e.offset) && e.offset >= 0) state.error.offset = e.offset;
  }
  return state;
}


/** A checkpoint whose own head count the `modelLens.headsOverride` setting contradicts. */
export interface HeadsConflict {
  /** Index in the job's files. */
  index: number;
  file: string;
  recorded: number;
  /** Where the checkpoint records it (config, checkpoint args, weights). */
  source: string;
}

/** The conflict recognition found (it records `details.headsRecorded` when an override contradicts the file). */
export function headsConflict(index: number, file: string, summary: ModelSummary, override: number): HeadsConflict | undefined {
  const r = summary.details?.['headsRecorded'] as { heads?: unknown; source?: unknown } | undefined;
  if (typeof r?.heads !== 'number' || r.heads === override) return undefined;
  return { index, file, recorded: r.heads, source: typeof r.source === 'string' ? r.source : 'the checkpoint' };
}

/** The user's answer to a heads conflict: analyse with the override anyway, or keep the recorded counts. */
export type HeadsDecision = { force: true } | { recordedFor: readonly number[] } | Record<string, never>;

/** The worker parameters for a request under the current settings. */
export function runParams(files: readonly string[], s: ModelLensSettings, jobId: string, variants: Variants = [], heads: HeadsDecision = {}): AnalysisRunParams {
  const p: AnalysisRunParams = { file: files[0]!, batchSize: s.batchSize, device: s.device, limit: s.probeCount, jobId };
  if (files[1] !== undefined) p.fileB = files[1];
  if (variants[0]) p.variant = variants[0];
  if (files[1] !== undefined && variants[1]) p.variantB = variants[1];
  if (s.probeImagesFolder !== undefined) p.images = s.probeImagesFolder;
  // The defaults are left out, so results and cache keys of default runs stay as they were.
  if (s.distanceConvention && s.distanceConvention !== 'renormalised') p.distanceConvention = s.distanceConvention;
  if (s.ckaTokens && s.ckaTokens !== 'all') p.ckaTokens = s.ckaTokens;
  if (s.imageSize !== undefined) p.imageSize = s.imageSize;
  if (s.headsOverride !== undefined) {
    // Files that keep their recorded count get no override; the others (no count recorded) still need it.
    const keep = 'recordedFor' in heads ? heads.recordedFor : [];
    if (!keep.includes(0)) p.heads = s.headsOverride;
    if (files[1] !== undefined && !keep.includes(1)) p.headsB = s.headsOverride;
    if ('force' in heads) p.headsForce = true;
  }
  return p;
}

const PHASE_LABEL: Record<WorkerProgress['phase'], string> = {
  load: 'Reading weights',
  build: 'Building the analysis graph',
  session: 'Starting the inference session',
  run: 'Running probe images',
  done: 'Finishing',
};

/** Progress as the view shows it, from a worker notification. */
export function viewProgress(p: WorkerProgress): ViewProgress {
  const label = PHASE_LABEL[p.phase] ?? 'Working';
  const stage = p.message ? `${label} · ${p.message}` : label;
  return p.phase === 'run' ? { done: p.done, total: p.total, stage } : { done: 0, total: 0, stage };
}

