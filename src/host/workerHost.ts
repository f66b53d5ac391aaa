// The analysis worker as the extension host sees it: forked with child_process.fork (so it runs on
// VS Code's own runtime), started on first use, logged to the "Model Lens" channel, and replaced by a
// fresh process on the next request after it dies (native crash, OOM, kill).
import { fork, type ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import { RpcEndpoint, type RpcMessage, type RpcTransport } from '../protocol/rpc';
import { WORKER_LOG, type WorkerLog } from '../protocol/workerProtocol';
import { WORKER_ENV, WORKER_EXEC_ARGV } from '../core/workerClient';
import type { WorkerService } from './services';

export class ForkedWorker implements WorkerService, vscode.Disposable {
  private proc: ChildProcess | undefined;
  private rpc: RpcEndpoint | undefined;
  private readonly noteHandlers = new Map<string, Set<(params: unknown) => void>>();
  private disposed = false;
  /** Set just before we kill the worker on purpose, so its exit is not reported as a crash. */
  private expectedExit: string | undefined;

  constructor(
    private readonly workerPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  request<T>(method: string, params: unknown, signal?: AbortSignal): Promise<T> {
    return this.endpoint().request<T>(method, params, signal);
  }

  onNotification(method: string, handler: (params: unknown) => void): vscode.Disposable {
    let set = this.noteHandlers.get(method);
    if (!set) {
      set = new Set();
      this.noteHandlers.set(method, set);
      if (this.rpc && !this.rpc.closed) this.forward(this.rpc, method);
    }
    set.add(handler);
    return new vscode.Disposable(() => set.delete(handler));
  }

  restart(reason: string): void {
    if (!this.proc) return;
    this.expectedExit = reason;
    this.log.info(`Stopping the worker (pid ${this.proc.pid}): ${reason}`);
    this.rpc?.close(reason);
    this.proc.kill('SIGKILL');
    this.proc = undefined;
    this.rpc = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.restart('extension deactivated');
  }

  private forward(rpc: RpcEndpoint, method: string): void {
    rpc.onNotification(method, (p) => {
      for (const h of this.noteHandlers.get(method) ?? []) {
        try {
          h(p);
        } catch (e) {
          this.log.error(`notification handler for ${method} failed: ${String(e)}`);
        }
      }
    });
  }

  private endpoint(): RpcEndpoint {
    if (this.disposed) throw new Error('Model Lens is shutting down');
    if (this.rpc && !this.rpc.closed) return this.rpc;
    const started = Date.now();
    const proc = fork(this.workerPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Typed arrays cross as typed arrays (DESIGN.md: no giant JSON number arrays).
      serialization: 'advanced',
      // Inside VS Code the runtime is Electron; this makes it behave as plain node.
      // WORKER_ENV/WORKER_EXEC_ARGV (helper E): glibc + GC settings that halve the worker's peak RSS.
      env: { ...WORKER_ENV, ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      execArgv: [...WORKER_EXEC_ARGV],
    });
    this.proc = proc;
    this.expectedExit = undefined;
    const closeHandlers: Array<(reason: string) => void> = [];
    const transport: RpcTransport = {
      send: (m: RpcMessage) => {
        if (proc.connected) proc.send(m);
      },
      onMessage: (h) => proc.on('message', (m) => h(m)),
      onClose: (h) => closeHandlers.push(h),
    };
    const rpc = new RpcEndpoint(transport);
    this.rpc = rpc;
    for (const method of this.noteHandlers.keys()) this.forward(rpc, method);
    rpc.onNotification(WORKER_LOG, (p) => this.logLine(p));
    const pipeLines = (stream: NodeJS.ReadableStream | null, level: 'info' | 'warn'): void => {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trimEnd();
          buf = buf.slice(i + 1);
          if (line.length > 0) this.log[level](`[worker] ${line}`);
        }
        if (buf.length > 64 * 1024) buf = buf.slice(-64 * 1024);
      });
    };
    pipeLines(proc.stdout, 'info');
    pipeLines(proc.stderr, 'warn');
    proc.on('spawn', () => this.log.info(`Worker started (pid ${proc.pid}) in ${Date.now() - started} ms: ${this.workerPath}`));
    proc.on('error', (e) => this.log.error(`Worker process error: ${e.message}`));
    proc.on('exit', (code, signal) => {
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      const reason = this.expectedExit ?? `the worker exited unexpectedly (${how})`;
      if (this.expectedExit === undefined) {
        this.log.error(`Worker (pid ${proc.pid}) exited unexpectedly (${how}); the next job starts a fresh worker.`);
      }
      for (const h of closeHandlers) h(reason);
      if (this.proc === proc) {
        this.proc = undefined;
        this.rpc = undefined;
      }
    });
    return rpc;
  }

  private logLine(p: unknown): void {
    const l = p as Partial<WorkerLog> | null;
    if (!l || typeof l.message !== 'string') return;
    const msg = `[worker] ${l.message.slice(0, 8192)}`;
    if (l.level === 'error') this.log.error(msg);
    else if (l.level === 'warn') this.log.warn(msg);
    else this.log.info(msg);
  }
}
