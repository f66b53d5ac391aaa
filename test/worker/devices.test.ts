import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoCandidates, createSession, precheck } from '../../src/worker/devices';
import { randomVit } from '../../bench/vitB';
import { buildAnalysisGraph } from '../../src/analysis/graph/vitGraph';

test('auto candidates per platform, GPU first', () => {
  assert.deepEqual(autoCandidates('linux'), ['cuda', 'webgpu']);
  assert.deepEqual(autoCandidates('win32'), ['cuda', 'dml', 'webgpu']);
  assert.deepEqual(autoCandidates('darwin'), ['coreml', 'webgpu']);
  assert.match(precheck('dml', 'linux') ?? '', /only on Windows/);
  assert.match(precheck('coreml', 'win32') ?? '', /only on macOS/);
  assert.equal(precheck('cpu'), undefined);
});

test('fallback to CPU is instant and carries a one-line reason; an explicit GPU request falls back too', async () => {
  const vit = randomVit({ layers: 1, dim: 16, heads: 2, patch: 8, image: 16 });
  const { model } = await buildAnalysisGraph(vit.spec, vit.weights);
  for (const requested of ['auto', 'webgpu', 'cuda', 'dml', 'coreml'] as const) {
    const t0 = Date.now();
    const { session, device } = await createSession(model, requested);
    const ms = Date.now() - t0;
    assert.equal(device.requested, requested);
    if (device.used === 'cpu') {
      assert.match(device.fallbackReason ?? '', /\S/, `${requested}: a reason`);
      assert.doesNotMatch(device.fallbackReason ?? '', /\n/, 'one line');
      assert.ok(ms < 5000, `${requested}: fallback took ${ms} ms`);
    }
    await session.release();
  }
  const cpu = await createSession(model, 'cpu');
  assert.deepEqual(cpu.device, { requested: 'cpu', used: 'cpu' });
  await cpu.session.release();
});
