// The timeline job in-process: every checkpoint's numbers equal a single analysis of it, CKA to the final
// checkpoint against a direct cross-model comparison, the per-checkpoint cache (reopen instant, resume after
// a cancel), and a run that goes on past bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runAnalysis } from '../../src/worker/analysisJob';
import { prepareModel } from '../../src/worker/modelPrep';
import { runTimeline } from '../../src/worker/timelineJob';
import { TimelineCache } from '../../src/runtime/timelineCache';
import type { PrepareFn } from '../../src/worker/preparedModel';
import type { TimelineRunParams } from '../../src/protocol/workerProtocol';

const fixtures = join(__dirname, '..', '..', '..', 'test', 'fixtures');
const run = join(fixtures, 'timeline', 'run');
const images = join(fixtures, 'probes', 'png32');
const tmp = mkdtempSync(join(tmpdir(), 'lens-timeline-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const hooks = (signal = new AbortController().signal): { signal: AbortSignal; progress: () => void; log: () => void } => ({ signal, progress: () => undefined, log: () => undefined });
const params = (cacheDir?: string): TimelineRunParams => ({ inputs: [run], images, batchSize: 4, device: 'cpu', ...(cacheDir ? { cacheDir } : {}) });

function close(got: number[][] | number[], want: number[][] | number[], rel: number, what: string): void {
  const g = got.flat();
  const w = want.flat();
  assert.equal(g.length, w.length, what);
  g.forEach((v, i) => assert.ok(Math.abs(v - w[i]!) <= rel * Math.abs(w[i]!) + 1e-7, `${what}[${i}]: timeline ${v}, single analysis ${w[i]}`));
}

test('each checkpoint of the run has the numbers of a single analysis of it; CKA to final matches a compare', async () => {
  const t = await runTimeline(params(), hooks(), prepareModel);
  assert.equal(t.schema, 'model-lens/timeline@1');
  assert.deepEqual(t.checkpoints.map((c) => basename(c.file)), ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth', 'epoch_10.pth']);
  assert.equal(t.skipped.length, 4);
  assert.equal(t.probe.count, 10);
  const final = join(run, 'epoch_10.pth');
  for (const c of t.checkpoints) {
    const single = await runAnalysis({ file: c.file, fileB: final, images, batchSize: 4, device: 'cpu' }, hooks(), prepareModel);
    // The timeline's session takes the weights as inputs (not prepacked), so float32 sums differ in the last bits.
    close(c.attentionDistance.perHead, single.attentionDistance.perHead, 1e-5, `${basename(c.file)} AD`);
    close(c.headDiversity.perHead, single.headDiversity.perHead, 1e-5, `${basename(c.file)} HD`);
    close(c.cka.matrix, single.cka.matrix, 1e-5, `${basename(c.file)} CKA`);
    assert.deepEqual(c.warnings, single.warnings.filter((w) => !/^model B:/.test(w)));
    const diag = single.compare!.crossCka.map((row, l) => row[l]!);
    close(c.ckaSummary.toFinal as number[], diag, 1e-5, `${basename(c.file)} CKA to final`);
  }
  assert.ok(Math.abs(t.checkpoints[3]!.ckaSummary.toFinalMean! - 1) < 1e-6, 'the final checkpoint against itself is 1');
});

test('one session serves the run: the graph is built per checkpoint, the session once', async () => {
  const prepared: string[] = [];
  const prepare: PrepareFn = async (file, opts, signal) => {
    const m = await prepareModel(file, opts, signal);
    assert.ok(m.weightFeeds && m.weightFeeds.length > 0, 'weights come as feeds');
    prepared.push(file);
    return m;
  };
  const t = await runTimeline(params(), hooks(), prepare);
  assert.equal(prepared.length, 4);
  assert.equal(t.timing?.['sessionsCreated'], 1);
});

test('the per-checkpoint cache: a reopened run is read back whole; a cancelled run resumes', async () => {
  const cacheDir = join(tmp, 'cache');
  const ac = new AbortController();
  let seen = 0;
  // Cancel as soon as the second checkpoint is done.
  await assert.rejects(runTimeline(params(cacheDir), hooks(ac.signal), prepareModel, () => {
    if (++seen === 2) ac.abort();
  }), /cancelled/);
  let prepared = 0;
  const counting: PrepareFn = (file, opts, signal) => {
    prepared++;
    return prepareModel(file, opts, signal);
  };
  const resumed = await runTimeline(params(cacheDir), hooks(), counting);
  assert.deepEqual(resumed.checkpoints.map((c) => c.cached), [true, true, false, false]);
  assert.equal(prepared, 2, 'only the two checkpoints not done before the cancel are analysed');
  prepared = 0;
  const reopened = await runTimeline(params(cacheDir), hooks(), counting);
  assert.equal(prepared, 0);
  assert.deepEqual(reopened.checkpoints.map((c) => c.cached), [true, true, true, true]);
  const summary = await new TimelineCache(cacheDir).runOf(join(run, 'epoch_2.pth'));
  assert.deepEqual(summary?.checkpoints.map((c) => c.step), [50, 100, 150, 500], 'the run is recorded for the hover');
  reopened.checkpoints.forEach((c, i) => {
    close(c.attentionDistance.perLayer, resumed.checkpoints[i]!.attentionDistance.perLayer, 0, 'cached AD');
    close(c.ckaSummary.toFinal as number[], resumed.checkpoints[i]!.ckaSummary.toFinal as number[], 1e-12, 'cached CKA to final');
  });
});

test('a run with no analyzable checkpoint is a typed error naming the first reason', async () => {
  await assert.rejects(
    runTimeline({ inputs: [join(run, 'epoch_7_cnn.pth'), join(run, 'epoch_4_truncated.pth')], images, batchSize: 4, device: 'cpu' }, hooks(), prepareModel),
    (e: Error & { code?: string }) => e.code === 'not-analyzable' && /no checkpoint of the run can be analysed \(2 skipped/.test(e.message),
  );
});
