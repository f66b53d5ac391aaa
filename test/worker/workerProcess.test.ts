// Spawns the BUILT worker (dist/worker.js, made by `npm run build`) and speaks the protocol to it through
// WorkerClient: a job, a kill in the middle of a job, a cancel, and jobs on fresh workers after both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerClient } from '../../src/runtime/workerClient';
import type { AnalysisProgress, InspectHeaderResult, WorkerPong } from '../../src/protocol/workerProtocol';

const root = join(__dirname, '..', '..', '..');
const workerPath = join(root, 'dist', 'worker.js');
const fixtures = join(root, 'test', 'fixtures');
const vit = join(fixtures, 'models', 'vit_tiny_patch8_32.pth');

function firstRunProgress(client: WorkerClient, jobId: string): Promise<AnalysisProgress> {
  return new Promise((resolve) => {
    const off = client.onNotification('analysis/progress', (p) => {
      const pr = p as AnalysisProgress;
      if (pr.jobId === jobId && pr.phase === 'run' && pr.done > 0) {
        off();
        resolve(pr);
      }
    });
  });
}

test('the built worker exists (run `npm run build` first)', () => {
  assert.ok(existsSync(workerPath), `${workerPath} is missing`);
});

test('worker: job, kill mid-job, cancel, then jobs on fresh workers', { timeout: 120_000 }, async () => {
  const exits: string[] = [];
  const client = new WorkerClient({ workerPath, cancelGraceMs: 300, onExit: (r) => exits.push(r) });
  try {
    const pong0 = await client.request<WorkerPong>('worker/ping', {});
    assert.equal(pong0.ortLoaded, false, 'a fresh worker has not loaded onnxruntime');
    assert.equal(pong0.backends, undefined);
    const pong = await client.request<WorkerPong>('worker/ping', { backends: true });
    assert.equal(pong.ortLoaded, true, 'listing backends loads it');
    assert.equal(typeof pong.pid, 'number');
    assert.ok((pong.backends ?? []).some((b) => b.name === 'cpu'));

    const progress: AnalysisProgress[] = [];
    const res = await client.runAnalysis({ file: vit, images: join(fixtures, 'probes', 'png32'), batchSize: 4, device: 'cpu' }, { onProgress: (p) => progress.push(p) });
    assert.equal(res.probe.count, 10);
    assert.deepEqual(progress.filter((p) => p.phase === 'run' && p.done > 0).map((p) => p.done), [4, 8, 10]);
    assert.equal(progress.at(-1)?.phase, 'done');
    const firstPid = client.pid;

    // Kill the worker in the middle of a long job: the pending request fails with a clear message.
    const long = client.runAnalysis({ file: vit, images: 'synthetic', limit: 100000, batchSize: 4, device: 'cpu', jobId: 'long' });
    await firstRunProgress(client, 'long');
    process.kill(client.pid as number, 'SIGKILL');
    await assert.rejects(long, (e: unknown) => (e as { code?: string }).code === 'peer-exited' && /exited unexpectedly \(signal SIGKILL\)/.test((e as Error).message));
    assert.equal(client.pid, undefined);

    // Next job starts a fresh worker; then cancel it mid-way: rejected with 'cancelled' within a second.
    const ac = new AbortController();
    const cancelled = client.runAnalysis({ file: vit, images: 'synthetic', limit: 100000, batchSize: 4, device: 'cpu', jobId: 'cancel-me' }, { signal: ac.signal });
    await firstRunProgress(client, 'cancel-me');
    assert.notEqual(client.pid, firstPid);
    const t0 = Date.now();
    ac.abort();
    await assert.rejects(cancelled, (e: unknown) => (e as { code?: string }).code === 'cancelled');
    assert.ok(Date.now() - t0 < 1000, 'cancel is prompt');

    // After both, a job works (on whichever worker is alive now) and header inspection too.
    const again = await client.runAnalysis({ file: vit, images: join(fixtures, 'probes', 'png32'), batchSize: 4, device: 'cpu' });
    assert.deepEqual(again.attentionDistance, res.attentionDistance);
    const header = await client.request<InspectHeaderResult>('inspect/header', { file: vit });
    assert.equal(header.model.family, 'timm-vit');
    assert.ok(header.checkpoint.tensors.length > 0);
    const stats = await client.request<{ count: number; min: number; max: number }>('tensor/stats', { file: vit, tensor: 'pos_embed' });
    assert.equal(stats.count, 17 * 48);
    assert.ok(stats.min < stats.max);
    await assert.rejects(client.request('tensor/stats', { file: vit, tensor: 'nope' }), /no tensor named "nope"/);

    // Bad input crosses the process boundary as a typed error naming the file.
    await assert.rejects(client.runAnalysis({ file: join(fixtures, 'missing.pth'), batchSize: 4, device: 'cpu' }), (e: unknown) => /missing\.pth/.test((e as Error).message));
    await assert.rejects(client.request('analysis/run', { file: 42 }), (e: unknown) => (e as { code?: string }).code === 'corrupt' && /file must be/.test((e as Error).message));
    assert.ok(exits.some((r) => /SIGKILL/.test(r)));
  } finally {
    client.dispose();
  }
});

test('worker still running a cancelled native run is killed after the grace period', { timeout: 120_000 }, async () => {
  const exits: string[] = [];
  const client = new WorkerClient({ workerPath, cancelGraceMs: 0, onExit: (r) => exits.push(r) });
  try {
    const ac = new AbortController();
    // Big batches: each native run takes long enough to be caught in flight right after the cancel.
    const job = client.runAnalysis({ file: vit, images: 'synthetic', limit: 1_000_000, batchSize: 4096, device: 'cpu', jobId: 'big' }, { signal: ac.signal });
    await firstRunProgress(client, 'big');
    const pid = client.pid;
    ac.abort();
    await assert.rejects(job, (e: unknown) => (e as { code?: string }).code === 'cancelled');
    for (let i = 0; i < 100 && exits.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(exits, ['killed after cancel: the worker was still running the cancelled job']);
    assert.equal(client.pid, undefined);
    const pong = await client.request<WorkerPong>('worker/ping', {});
    assert.notEqual(pong.pid, pid, 'a fresh worker answers');
    assert.equal(pong.busy, 0);
  } finally {
    client.dispose();
  }
});

test('a job queued behind a cancelled one survives the kill: it reruns once on a fresh worker', { timeout: 120_000 }, async () => {
  const exits: string[] = [];
  const client = new WorkerClient({ workerPath, cancelGraceMs: 0, onExit: (r) => exits.push(r) });
  try {
    const ac = new AbortController();
    const big = client.runAnalysis({ file: vit, images: 'synthetic', limit: 1_000_000, batchSize: 4096, device: 'cpu', jobId: 'big' }, { signal: ac.signal });
    await firstRunProgress(client, 'big');
    // Another panel's job, sent to the same worker while the big one runs, never cancelled.
    const other = client.runAnalysis({ file: vit, limit: 4, batchSize: 4, device: 'cpu', jobId: 'other' });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await assert.rejects(big, (e: unknown) => (e as { code?: string }).code === 'cancelled');
    const r = await other;
    assert.equal(r.probe.count, 4);
    assert.deepEqual(exits, ['killed after cancel: the worker was still running the cancelled job']);
  } finally {
    client.dispose();
  }
});
