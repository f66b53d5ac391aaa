// The analysis worker as the extension host sees it: runtime's WorkerClient (fork on first use, RPC over IPC,
// a fresh worker on the next request after one died, idle check after a cancel) with the host-only parts:
// worker logs and output on the "Model Lens" channel, and vscode.Disposable subscriptions.
import * as vscode from 'vscode';
import { WorkerClient } from '../runtime/workerClient';
import type { WorkerService } from './services';

/** How long a cancelled job may keep the worker busy before the worker is killed (ms). */
export const CANCEL_GRACE_MS = 1000;

export class ForkedWorker implements WorkerService, vscode.Disposable {
  private readonly client: WorkerClient;

  constructor(
    private readonly workerPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.client = new WorkerClient({
      workerPath,
      cancelGraceMs: CANCEL_GRACE_MS,
      onLog: (l) => {
        const msg = `[worker] ${l.message.slice(0, 8192)}`;
        if (l.level === 'error') this.log.error(msg);
        else if (l.level === 'warn') this.log.warn(msg);
        else this.log.info(msg);
      },
      onOutput: (line, stream) => (stream === 'stderr' ? this.log.warn(`[worker] ${line}`) : this.log.info(`[worker] ${line}`)),
      onStart: (pid, ms) => this.log.info(`Worker started (pid ${pid}) in ${ms} ms: ${this.workerPath}`),
      onExit: (reason, expected) => {
        if (!expected) this.log.error(`Worker: ${reason}.`);
      },
    });
  }

  request<T>(method: string, params: unknown, signal?: AbortSignal): Promise<T> {
    return this.client.request<T>(method, params, signal);
  }

  onNotification(method: string, handler: (params: unknown) => void): vscode.Disposable {
    return new vscode.Disposable(this.client.onNotification(method, handler));
  }

  restart(reason: string): void {
    const pid = this.client.pid;
    if (pid === undefined) return;
    this.log.info(`Stopping the worker (pid ${pid}): ${reason}`);
    this.client.kill(reason);
  }

  dispose(): void {
    this.client.dispose();
  }
}
