// Host side of the analysis worker for Node hosts (CLI, tests, scripts): forks dist/worker.js, speaks the
// RPC over IPC, starts a fresh worker on the next request after one died, and kills a worker that is still
// burning CPU on a cancelled job after a grace period. Imports no onnxruntime (the worker alone loads it).
import { fork, type ChildProcess } from 'node:child_process';
import { RpcEndpoint, RpcError, type RpcMessage, type RpcTransport } from '../protocol/rpc';
import {
  ANALYSIS_PROGRESS, ANALYSIS_RUN, TIMELINE_CHECKPOINT, TIMELINE_RUN, WORKER_LOG, WORKER_PING,
  type AnalysisProgress, type AnalysisResult, type AnalysisRunParams, type TimelineCheckpointNote, type TimelineRunParams, type WorkerLog, type WorkerPong,
} from '../protocol/workerProtocol';
import type { TimelineResult } from '../analysis/timelineSchema';

/**
 * Environment and flags for the worker process. glibc's dynamic mmap threshold otherwise grows to 32 MB
 * and attention-sized buffers (tens of MB) are then recycled on the heap instead of returned to the OS,
 * which raised the worker's peak RSS on ViT-B/16 by ~0.6 GB per batch size. Returning every large buffer
 * to the OS makes each fresh one page-fault in again; `glibc.malloc.hugetlb=1` (glibc ≥ 2.35, ignored by
 * older ones and by other platforms) asks for transparent huge pages on those mappings, which halved the
 * job's system time on ViT-B/16 (4.9 → 2.5 s CPU) at the same peak RSS. --expose-gc lets the job free the
 * weight copies before onnxruntime makes its own.
 */
export const WORKER_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };
export const WORKER_EXEC_ARGV: readonly string[] = ['--expose-gc'];

export interface WorkerClientOptions {
  /** Path of the built worker (dist/worker.js). */
  workerPath: string;
  /** After a cancel, how long the worker may keep running native code before it is killed (default 1500 ms). */
  cancelGraceMs?: number;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  onLog?: (log: WorkerLog) => void;
  /** Called when a worker process ends, with why (expected or not). */
  onExit?: (reason: string, expected: boolean) => void;
  /** Where the worker's stdout/stderr go (default: ignored; with `onOutput`, piped to it line by line). */
  stdio?: 'ignore' | 'inherit';
  /** Receives the worker's stdout/stderr lines (the stream is then piped, whatever `stdio` says). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Called once a worker process has started, with its pid and how long the fork took. */
  onStart?: (pid: number | undefined, ms: number) => void;
}

export class WorkerClient {
  private proc: ChildProcess | undefined;
  private rpc: RpcEndpoint | undefined;
  /** Why we killed a process on purpose: per process, since a fresh worker may start before the old one's exit event. */
  private readonly expectedExits = new WeakMap<ChildProcess, string>();
  /** Workers killed because a cancelled job's native work outlived the grace period. */
  private readonly killedAfterCancel = new WeakSet<ChildProcess>();
  private readonly noteHandlers = new Map<string, Set<(params: unknown) => void>>();
  private disposed = false;
  /** Set while a cancelled job's worker is checked for leftover native work. */
  private draining: Promise<void> | undefined;

  constructor(private readonly opts: WorkerClientOptions) {}

  /** Pid of the running worker, if one is running. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /**
   * Sends a request, starting a worker if none is running; rejects with code 'peer-exited' if it dies.
   * After a cancel, new requests wait until the worker is known idle (or has been replaced).
   */
  async request<T>(method: string, params: unknown, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      while (this.draining) await this.draining;
      const rpc = this.endpoint();
      const proc = this.proc;
      if (signal && attempt === 0) {
        signal.addEventListener('abort', () => this.afterCancel(this.proc), { once: true });
      }
      try {
        return await rpc.request<T>(method, params, signal);
      } catch (e) {
        // A worker we killed for another request's abandoned work did not fail this request: send it once
        // more to a fresh worker instead of failing a job the user never cancelled.
        const bystander = proc !== undefined && this.killedAfterCancel.has(proc) && !signal?.aborted;
        if (attempt === 0 && bystander && e instanceof RpcError && e.code === 'peer-exited') continue;
        throw e;
      }
    }
  }

  /** Runs an analysis; `onProgress` gets this job's progress notifications. */
  async runAnalysis(params: AnalysisRunParams, opts: { signal?: AbortSignal; onProgress?: (p: AnalysisProgress) => void } = {}): Promise<AnalysisResult> {
    const jobId = params.jobId ?? `job-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const off = this.onNotification(ANALYSIS_PROGRESS, (p) => {
      const pr = p as AnalysisProgress;
      if (pr && pr.jobId === jobId) opts.onProgress?.(pr);
    });
    try {
      return await this.request<AnalysisResult>(ANALYSIS_RUN, { ...params, jobId }, opts.signal);
    } finally {
      off();
    }
  }

  /** Runs a training-run timeline; `onProgress` and `onCheckpoint` get this job's notifications. */
  async runTimeline(params: TimelineRunParams, opts: { signal?: AbortSignal; onProgress?: (p: AnalysisProgress) => void; onCheckpoint?: (n: TimelineCheckpointNote) => void } = {}): Promise<TimelineResult> {
    const jobId = params.jobId ?? `timeline-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const offProgress = this.onNotification(ANALYSIS_PROGRESS, (p) => {
      if ((p as AnalysisProgress)?.jobId === jobId) opts.onProgress?.(p as AnalysisProgress);
    });
    const offCheckpoint = this.onNotification(TIMELINE_CHECKPOINT, (n) => {
      if ((n as TimelineCheckpointNote)?.jobId === jobId) opts.onCheckpoint?.(n as TimelineCheckpointNote);
    });
    try {
      return await this.request<TimelineResult>(TIMELINE_RUN, { ...params, jobId }, opts.signal);
    } finally {
      offProgress();
      offCheckpoint();
    }
  }

  onNotification(method: string, handler: (params: unknown) => void): () => void {
    let set = this.noteHandlers.get(method);
    if (!set) {
      set = new Set();
      this.noteHandlers.set(method, set);
      if (this.rpc && !this.rpc.closed) this.forward(this.rpc, method);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  private forward(rpc: RpcEndpoint, method: string): void {
    rpc.onNotification(method, (p) => {
      for (const h of this.noteHandlers.get(method) ?? []) {
        // One failing subscriber must not keep the others (or the endpoint) from seeing the message.
        try {
          h(p);
        } catch (e) {
          this.opts.onLog?.({ level: 'error', message: `notification handler for ${method} failed: ${String(e)}` });
        }
      }
    });
  }

  /** Kills the worker now; pending requests reject with code 'peer-exited' and `reason`. */
  kill(reason: string): void {
    const proc = this.proc;
    if (!proc) return;
    this.expectedExits.set(proc, reason);
    this.rpc?.close(reason);
    proc.kill('SIGKILL');
    this.proc = undefined;
    this.rpc = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.kill('worker client disposed');
  }

  /**
   * A cancelled job answers at once, but native work it abandoned keeps the cores busy until it ends.
   * Poll the worker until it reports idle; past the grace period (or if it stops answering), kill it.
   */
  private afterCancel(proc: ChildProcess | undefined): void {
    if (!proc || this.draining) return;
    const deadline = Date.now() + (this.opts.cancelGraceMs ?? 1500);
    const drain = async (): Promise<void> => {
      // Let the endpoint send `$/cancel` first: IPC is ordered, so the ping then sees the abandoned work.
      await new Promise((res) => setImmediate(res));
      for (;;) {
        const rpc = this.rpc;
        if (proc !== this.proc || !rpc || rpc.closed) return;
        const pong = await Promise.race([
          rpc.request<WorkerPong>(WORKER_PING, {}).catch(() => undefined),
          new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 500).unref()),
        ]);
        if (pong !== 'timeout' && pong !== undefined && (pong.busy ?? 0) === 0) return;
        if (pong === 'timeout' || Date.now() >= deadline) {
          this.killIf(proc, 'killed after cancel: the worker was still running the cancelled job');
          return;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    this.draining = drain().finally(() => {
      this.draining = undefined;
    });
  }

  private killIf(proc: ChildProcess, reason: string): void {
    if (this.proc !== proc) return;
    this.killedAfterCancel.add(proc);
    this.kill(reason);
  }

  private endpoint(): RpcEndpoint {
    if (this.disposed) throw new RpcError({ code: 'peer-exited', message: 'worker client disposed' });
    if (this.rpc && !this.rpc.closed) return this.rpc;
    const started = Date.now();
    const out = this.opts.onOutput ? 'pipe' : (this.opts.stdio ?? 'ignore');
    const proc = fork(this.opts.workerPath, [], {
      stdio: ['ignore', out, out, 'ipc'],
      // Typed arrays cross as typed arrays (DESIGN.md: no giant JSON number arrays).
      serialization: 'advanced',
      // Inside VS Code the runtime is Electron; ELECTRON_RUN_AS_NODE makes it behave as plain node.
      env: { ...WORKER_ENV, ...(this.opts.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' },
      execArgv: this.opts.execArgv ?? [...WORKER_EXEC_ARGV],
    });
    this.proc = proc;
    const closers: Array<(reason: string) => void> = [];
    const transport: RpcTransport = {
      send: (m: RpcMessage) => {
        if (proc.connected) proc.send(m);
      },
      onMessage: (h) => proc.on('message', (m) => h(m)),
      onClose: (h) => closers.push(h),
    };
    const rpc = new RpcEndpoint(transport);
    this.rpc = rpc;
    for (const method of this.noteHandlers.keys()) this.forward(rpc, method);
    rpc.onNotification(WORKER_LOG, (p) => {
      const l = p as Partial<WorkerLog> | null;
      if (l && typeof l.message === 'string') this.opts.onLog?.(l as WorkerLog);
    });
    const onOutput = this.opts.onOutput;
    if (onOutput) {
      pipeLines(proc.stdout, (line) => onOutput(line, 'stdout'));
      pipeLines(proc.stderr, (line) => onOutput(line, 'stderr'));
    }
    proc.on('spawn', () => this.opts.onStart?.(proc.pid, Date.now() - started));
    let gone = false;
    const onGone = (how: string): void => {
      if (gone) return;
      gone = true;
      const expectedReason = this.expectedExits.get(proc);
      const expected = expectedReason !== undefined;
      const reason = expectedReason ?? `the analysis worker exited unexpectedly (${how}); the next job starts a fresh worker`;
      for (const c of closers) c(reason);
      if (this.proc === proc) {
        this.proc = undefined;
        this.rpc = undefined;
      }
      this.opts.onExit?.(reason, expected);
    };
    proc.on('exit', (code, sig) => onGone(sig ? `signal ${sig}` : `exit code ${code}`));
    proc.on('error', (e) => onGone(`could not start: ${e.message}`));
    return rpc;
  }
}

/** Splits a child's output stream into non-empty lines; a runaway line without newline is cut at 64 KiB. */
function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trimEnd();
      buf = buf.slice(i + 1);
      if (line.length > 0) onLine(line);
    }
    if (buf.length > 64 * 1024) buf = buf.slice(-64 * 1024);
  });
}
