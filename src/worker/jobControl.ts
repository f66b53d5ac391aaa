// What every analysis job shares: its hooks to the caller, cancellation of native work that onnxruntime
// cannot interrupt, timing, and the memory housekeeping that keeps peak RSS at one copy of the weights.
import { readFileSync } from 'node:fs';
import { ModelLensError } from '../formats/errors';
import type { AnalysisResult } from '../analysis/resultSchema';
import type { AnalysisProgress } from '../protocol/workerProtocol';

export interface JobHooks {
  signal: AbortSignal;
  progress(p: AnalysisProgress): void;
  log(level: 'info' | 'warn', message: string): void;
}

/** Milliseconds per phase; `timing` of the result. */
export type JobTiming = AnalysisResult['timing'];

export function newTiming(): JobTiming {
  return { totalMs: 0, inferenceMs: 0, loadMs: 0, sessionMs: 0, decodeMs: 0, preprocessMs: 0, reduceMs: 0 };
}

/** Adds the time since `since` to `timing[key]`. */
export function addTime(timing: JobTiming, key: string, since: number): void {
  timing[key] = (timing[key] ?? 0) + performance.now() - since;
}

/** Runs V8's GC when the process was started with --expose-gc (the worker is); big buffers die here. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** This process's peak resident set (VmHWM) in MiB, where /proc exposes it. */
export function peakRssMb(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function checkAbort(signal: AbortSignal): void {
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
export async function cancellable<T>(work: Promise<T>, signal: AbortSignal, onLate?: (value: T) => void): Promise<T> {
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
