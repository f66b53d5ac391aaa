// Ordering and skipping of a training run's checkpoints (src/runtime/runOrder.ts) on the run fixtures of
// test/fixtures/timeline/makeRun.py and on copies renamed and re-dated to isolate each ordering rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { listRun, nameNumber, orderRule } from '../../src/runtime/runOrder';

const fixtures = join(__dirname, '..', '..', '..', 'test', 'fixtures');
const run = join(fixtures, 'timeline', 'run');
const tmp = mkdtempSync(join(tmpdir(), 'lens-run-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('a run folder is ordered by the checkpoints\' own step keys, not by file name', async () => {
  const r = await listRun([run]);
  assert.equal(r.orderedBy, 'step');
  assert.equal(r.folder, run);
  assert.deepEqual(r.checkpoints.map((c) => basename(c.file)), ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth', 'epoch_10.pth']);
  assert.deepEqual(r.checkpoints.map((c) => [c.step, c.epoch]), [[50, 1], [100, 2], [150, 3], [500, 10]]);
});

test('corrupt, hostile, non-ViT and other-architecture checkpoints are skipped with their reasons', async () => {
  const r = await listRun([run]);
  const reason = (name: string): string => r.skipped.find((s) => basename(s.file) === name)?.reason ?? '(not skipped)';
  assert.equal(r.skipped.length, 4);
  assert.match(reason('epoch_4_truncated.pth'), /truncated|end-of-central-directory/);
  assert.match(reason('epoch_5_hostile.pth'), /^unsafe: .*system/);
  assert.match(reason('epoch_7_cnn.pth'), /^not analyzable/);
  assert.match(reason('epoch_6_wider.pth'), /another architecture \(.*dim 24.*\) than the run's \(.*dim 16/);
  assert.ok(!existsSync('/tmp/model-lens-timeline-canary'), 'the hostile pickle was never executed');
});

test('without step or epoch keys the number in the file name orders the run (10 after 9, not after 1)', async () => {
  const dir = join(tmp, 'names');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  // Copies of the diff fixture's safetensors file carry no step keys.
  for (const n of [10, 9, 1]) copyFileSync(join(fixtures, 'timeline', 'diff', 'b.safetensors'), join(dir, `ckpt-${n}.safetensors`));
  const r = await listRun([dir]);
  assert.equal(r.orderedBy, 'name');
  assert.deepEqual(r.checkpoints.map((c) => basename(c.file)), ['ckpt-1.safetensors', 'ckpt-9.safetensors', 'ckpt-10.safetensors']);
});

test('without keys or numbers in names, modification time orders the run', async () => {
  const dir = join(tmp, 'mtime');
  mkdirSync(dir, { recursive: true });
  const names = ['final.safetensors', 'best.safetensors', 'warmup.safetensors'];
  names.forEach((n, i) => {
    const p = join(dir, n);
    copyFileSync(join(fixtures, 'timeline', 'diff', 'b.safetensors'), p);
    const t = new Date(Date.UTC(2024, 0, 10 - 3 * i));
    utimesSync(p, t, t);
  });
  const r = await listRun(names.map((n) => join(dir, n)));
  assert.equal(r.orderedBy, 'mtime');
  assert.equal(r.folder, undefined, 'a list of files is not a folder run');
  assert.deepEqual(r.checkpoints.map((c) => basename(c.file)), ['warmup.safetensors', 'best.safetensors', 'final.safetensors']);
});

test('epoch keys order the run when not every checkpoint has a step; one rule for the whole run', () => {
  const c = (o: { step?: number; epoch?: number; nameNumber?: number }): Parameters<typeof orderRule>[0][number] => ({ file: 'f', mtimeMs: 0, summary: {} as never, ...o });
  assert.equal(orderRule([c({ step: 1, epoch: 1 }), c({ epoch: 2 })]), 'epoch');
  assert.equal(orderRule([c({ step: 1 }), c({ nameNumber: 2 })]), 'mtime');
  assert.equal(orderRule([c({ nameNumber: 1 }), c({ step: 5, nameNumber: 2 })]), 'name');
  assert.equal(nameNumber('/x/run3/checkpoint-1500'), 1500);
  assert.equal(nameNumber('epoch_012.pth'), 12);
  assert.equal(nameNumber('best.pth'), undefined);
});

test('a missing path is a typed error naming it', async () => {
  await assert.rejects(listRun([join(tmp, 'nope')]), (e: Error) => /nope: no such file or folder/.test(e.message));
});
