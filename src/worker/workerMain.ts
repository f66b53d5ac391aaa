// Entry of dist/worker.js: the analysis worker forked by the extension host (child_process.fork). It is
// the only process that loads onnxruntime-node, so a native crash or OOM ends it and not the editor.
import { RpcEndpoint, type RpcMessage, type RpcTransport } from '../protocol/rpc';
import { WORKER_LOG } from '../protocol/workerProtocol';
import { registerWorkerHandlers } from './handlers';

function ipcTransport(): RpcTransport {
  const closers: Array<(reason: string) => void> = [];
  process.on('disconnect', () => {
    for (const c of closers) c('host disconnected');
    // Nothing is left to answer to; a half-finished native run must not keep the process alive.
    process.exit(0);
  });
  return {
    send: (m: RpcMessage) => {
      if (process.connected) process.send?.(m);
    },
    onMessage: (h) => process.on('message', (m) => h(m)),
    onClose: (h) => closers.push(h),
  };
}

if (typeof process.send !== 'function') {
  process.stderr.write('dist/worker.js is the Model Lens analysis worker; it is started by the extension or the CLI, not run directly.\n');
  process.exit(2);
}
const rpc = new RpcEndpoint(ipcTransport());
registerWorkerHandlers(rpc);
process.on('uncaughtException', (e) => {
  rpc.notify(WORKER_LOG, { level: 'error', message: `uncaught: ${e instanceof Error ? e.stack ?? e.message : String(e)}` });
  // State may be broken; exit so the host starts a fresh worker on the next job.
  setTimeout(() => process.exit(1), 100);
});
