// The host's worker client against the real built worker (dist/worker.js): requests, worker logs,
// a worker killed mid-life is replaced on the next request, pending requests fail with peer-exited.
import './fakeVscode';
import { ForkedWorker } from '../../src/host/workerHost';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { RpcError } from '../../src/protocol/rpc';
import { INSPECT_HEADER, TENSOR_STATS, WORKER_PING, type WorkerPong } from '../../src/protocol/workerProtocol';

const root = resolve(__dirname, '..', '..', '..');
const workerJs = resolve(root, 'dist', 'worker.js');
const fixture = resolve(root, 'test', 'fixtures', 'models', 'vit_tiny_patch8_32.pth');

function fakeLog(): { lines: string[]; info(m: string): void; warn(m: string): void; error(m: string): void } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

test('worker: ping, tensor stats, restart after a kill', { skip: existsSync(workerJs) ? false : 'dist/worker.js not built (npm run build)' }, async () => {
  const log = fakeLog();
  const w = new ForkedWorker(workerJs, log as never);
  try {
    const pong1 = await w.request<WorkerPong>(WORKER_PING, {});
    assert.ok(pong1.pid > 0);
    const stats = await w.request<{ count: number; min: number; max: number }>(TENSOR_STATS, { file: fixture, tensor: 'blocks.0.attn.qkv.weight' });
    assert.equal(stats.count, 144 * 48);
    assert.ok(stats.min < stats.max);
    await assert.rejects(w.request(TENSOR_STATS, { file: fixture, tensor: 'nope' }), (e: RpcError) => e.code === 'not-found');
    await w.request(INSPECT_HEADER, { file: fixture });
    // Header reads and tensor statistics (all Restricted Mode does) never load onnxruntime.
    assert.equal((await w.request<WorkerPong>(WORKER_PING, {})).ortLoaded, false);

    // Kill it from outside (as an OOM or native crash would): the pending request fails, the next one works.
    const pending = w.request(TENSOR_STATS, { file: fixture, tensor: 'pos_embed' });
    process.kill(pong1.pid, 'SIGKILL');
    await pending.then(
      () => undefined,
      (e: RpcError) => assert.equal(e.code, 'peer-exited'),
    );
    await new Promise((r) => setTimeout(r, 50));
    const pong2 = await w.request<WorkerPong>(WORKER_PING, {});
    assert.notEqual(pong2.pid, pong1.pid);
    assert.ok(log.lines.some((l) => /exited unexpectedly/.test(l)), log.lines.join('\n'));
    assert.equal(log.lines.filter((l) => /^info Worker started \(pid \d+\)/.test(l)).length, 2, log.lines.join('\n'));

    // A restart on purpose is logged as such, not as a crash; the next request gets a fresh worker.
    w.restart('test restart');
    const pong3 = await w.request<WorkerPong>(WORKER_PING, {});
    assert.notEqual(pong3.pid, pong2.pid);
    assert.ok(log.lines.some((l) => l === `info Stopping the worker (pid ${pong2.pid}): test restart`), log.lines.join('\n'));
    assert.equal(log.lines.filter((l) => /exited unexpectedly/.test(l)).length, 1);
  } finally {
    w.dispose();
  }
});
