// `lens timeline` and N-way `lens compare`, run through the BUILT CLI (dist/cli.js) as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { AnalysisResult } from '../src/analysis/resultSchema';
import type { TimelineResult } from '../src/analysis/timelineSchema';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const run = join(root, 'test', 'fixtures', 'timeline', 'run');
const images = join(root, 'test', 'fixtures', 'probes', 'png32');
const tmp = mkdtempSync(join(tmpdir(), 'lens-cli-timeline-'));
const env = { ...process.env, MODEL_LENS_CACHE_DIR: join(tmp, 'cache') };
const lens = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('lens timeline DIR: ordered checkpoints equal to single analyses, skipped files with reasons, JSON and HTML', () => {
  const json = join(tmp, 'run.json');
  const html = join(tmp, 'run.html');
  const r = lens('timeline', run, '--images', images, '--batch', '4', '--device', 'cpu', '--json', json, '--html', html);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /ordered by step/);
  assert.match(r.out, /epoch_5_hostile\.pth: unsafe/);
  const t = JSON.parse(readFileSync(json, 'utf8')) as TimelineResult;
  assert.equal(t.schema, 'model-lens/timeline@1');
  assert.deepEqual(t.run, { folder: run, orderedBy: 'step' });
  assert.deepEqual(t.checkpoints.map((c) => [basename(c.file), c.step, c.epoch]), [['epoch_1.pth', 50, 1], ['epoch_2.pth', 100, 2], ['epoch_3.pth', 150, 3], ['epoch_10.pth', 500, 10]]);
  assert.deepEqual(t.skipped.map((s) => basename(s.file)).sort(), ['epoch_4_truncated.pth', 'epoch_5_hostile.pth', 'epoch_6_wider.pth', 'epoch_7_cnn.pth']);
  const single = lens('analyze', join(run, 'epoch_3.pth'), '--images', images, '--batch', '4', '--device', 'cpu', '--no-cache', '--json', '-');
  assert.equal(single.code, 0, single.err);
  const s = JSON.parse(single.out) as AnalysisResult;
  const c = t.checkpoints[2]!;
  c.attentionDistance.perLayer.forEach((v, l) => assert.ok(Math.abs(v - s.attentionDistance.perLayer[l]!) <= 1e-5 * Math.abs(v), `AD layer ${l + 1}`));
  c.headDiversity.perLayer.forEach((v, l) => assert.ok(Math.abs(v - s.headDiversity.perLayer[l]!) <= 1e-5 * Math.abs(v), `HD layer ${l + 1}`));
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<svg[^>]*aria-label="Attention distance per layer/);
  assert.match(page, /epoch_10\.pth/);
  assert.doesNotMatch(page, /<script/);
  // Reopened: every checkpoint from the cache.
  const again = lens('timeline', run, '--images', images, '--batch', '4', '--device', 'cpu');
  assert.equal(again.code, 0, again.err);
  assert.equal((again.out.match(/\(cached\)/g) ?? []).length, 4);
});

test('lens timeline with nothing analyzable: exit 2, one line', () => {
  const r = lens('timeline', join(run, 'epoch_7_cnn.pth'), '--device', 'cpu');
  assert.equal(r.code, 2);
  assert.equal(r.err.trimEnd().split('\n').length, 1);
  assert.match(r.err, /no checkpoint of the run can be analysed/);
});

test('lens compare with three checkpoints: A is the reference of cross-model CKA for B and C', () => {
  const [a, b, c] = ['epoch_1.pth', 'epoch_2.pth', 'epoch_10.pth'].map((f) => join(run, f));
  const r = lens('compare', a!, b!, c!, '--images', images, '--batch', '4', '--device', 'cpu', '--no-cache', '--json', '-');
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out) as AnalysisResult;
  assert.equal(res.compare?.model.file, b);
  assert.equal(res.compareMore?.length, 1);
  const more = res.compareMore![0]!;
  assert.equal(more.model.file, c);
  const pair = JSON.parse(lens('compare', a!, c!, '--images', images, '--batch', '4', '--device', 'cpu', '--no-cache', '--json', '-').out) as AnalysisResult;
  assert.deepEqual(more.crossCka, pair.compare!.crossCka, 'C against A is the same as a two-way compare of A and C');
  assert.deepEqual(more.attentionDistance, pair.compare!.attentionDistance);
  assert.ok(!existsSync('/tmp/model-lens-timeline-canary'));
});
