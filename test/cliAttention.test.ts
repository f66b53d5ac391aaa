// `model-lens attention` run as a user would (dist/cli.js): the JSON is model-lens/attention-map@1 with the
// reference numbers, the PNG decodes to the view's picture, and bad input exits 2 with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePng } from '../src/analysis/imageDecode';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const fix = join(root, 'test', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'lens-attn-'));
const lens = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, MODEL_LENS_CACHE_DIR: join(tmp, 'cache') }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
test.after(() => rmSync(tmp, { recursive: true, force: true }));

interface RefCase { name: string; file: string; image: string; grid: [number, number]; query: [number, number]; perLayer: Array<{ cls: number[][] | null; query: number[][]; rollout: number[]; querySpecialMass: number[] }> }
const refs = (JSON.parse(readFileSync(join(fix, 'attention', 'refs.json'), 'utf8')) as { cases: RefCase[] }).cases;
const timm = refs.find((c) => c.name === 'timm-vit')!;
const nocls = refs.find((c) => c.name === 'timm-vit-no-cls')!;

function near(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, what);
  want.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) <= 1e-5, `${what}[${i}]: ${got[i]} vs PyTorch ${v}`));
}

test('attention --json: model-lens/attention-map@1 equal to the PyTorch reference (query row, one head)', () => {
  const out = join(tmp, 'q.json');
  const r = lens('attention', join(fix, timm.file), '--image', join(fix, timm.image), '--layer', '2', '--head', '3', '--query', timm.query.join(','), '--json', out);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown> & { rows: number[][]; specialMass: number[] };
  assert.equal(doc['schema'], 'model-lens/attention-map@1');
  assert.equal(doc['kind'], 'query');
  assert.equal(doc['layer'], 2);
  assert.deepEqual(doc['query'], timm.query);
  assert.deepEqual(doc['heads'], [3]);
  assert.deepEqual(doc['grid'], [4, 4]);
  assert.deepEqual(doc['patchSize'], [8, 8]);
  near(doc.rows[0]!, timm.perLayer[1]!.query[2]!, 'row');
  near(doc.specialMass, [timm.perLayer[1]!.querySpecialMass[2]!], 'special mass');
});

test('attention --image-size 48 on a 32 px model: the map of the resampled model, equal to the PyTorch reference', () => {
  const at48 = refs.find((c) => c.name === 'timm-vit-at48')!;
  const out = join(tmp, 'q48.json');
  const r = lens('attention', join(fix, at48.file), '--image', join(fix, at48.image), '--image-size', '48', '--layer', '3', '--query', at48.query.join(','), '--json', out);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown> & { rows: number[][]; specialMass: number[] };
  assert.deepEqual(doc['grid'], [6, 6]);
  assert.deepEqual(doc['heads'], [1, 2, 3]);
  doc.rows.forEach((row, h) => near(row, at48.perLayer[2]!.query[h]!, `head ${h + 1} row`));
  near(doc.specialMass, at48.perLayer[2]!.querySpecialMass, 'special mass');
  // A size the patch does not divide, and an ONNX graph at another size: one line, exit 2.
  const bad = lens('attention', join(fix, at48.file), '--image', join(fix, at48.image), '--image-size', '50');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /image size 50 px is not a multiple of the patch size 8 px/);
  const onnx = lens('attention', join(fix, 'models', 'vit_onnx_eager.onnx'), '--image', join(fix, at48.image), '--image-size', '48');
  assert.equal(onnx.code, 2);
  assert.match(onnx.err, /an ONNX graph is exported for one input size \(32×32 px here\)/);
});

test('attention without --cls on a model without class token: rollout (mean patch row) by default', () => {
  const r = lens('attention', join(fix, nocls.file), '--image', join(fix, nocls.image), '--json', '-');
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { kind: string; layer: number; rows: number[][] };
  assert.equal(doc.kind, 'rollout');
  assert.equal(doc.layer, 2);
  near(doc.rows[0]!, nocls.perLayer[1]!.rollout, 'rollout');
});

test('attention --png: the picture decodes, has one tile per head with the heat map', () => {
  const out = join(tmp, 'cls.png');
  const r = lens('attention', join(fix, timm.file), '--image', join(fix, timm.image), '--cls', '--png', out, '--opacity', '1');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /L3 CLS row/);
  const img = decodePng(readFileSync(out), out);
  // Three 160-px tiles side by side (32 px input scaled ×5) plus margins and the labels.
  assert.ok(img.width >= 3 * 160 && img.height >= 160, `${img.width}×${img.height}`);
  // With opacity 1 the patch holding head 1's largest weight is viridis yellow (253,231,37).
  const row = timm.perLayer[2]!.cls![0]!;
  const best = row.indexOf(Math.max(...row));
  const x = 6 + (best % 4) * 40 + 20;
  const y = 6 + 16 + Math.floor(best / 4) * 40 + 20;
  const px = Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
  assert.deepEqual(px, [253, 231, 37]);
});

test('attention bad input: exit 2 with one line', () => {
  const ckpt = join(fix, timm.file);
  const image = join(fix, timm.image);
  for (const [args, re] of [
    [['attention', ckpt, '--image', join(fix, 'probes', 'mixed', 'zz_corrupt.png')], /zz_corrupt\.png/],
    [['attention', ckpt, '--image', image, '--layer', '4'], /--layer 4 is out of range: the model has 3 layers/],
    [['attention', ckpt, '--image', image, '--head', '9'], /--head 9 is out of range: the model has 3 heads/],
    [['attention', ckpt, '--image', image, '--query', '4,0'], /query patch 4,0 is outside the 4×4 patch grid/],
    [['attention', ckpt, '--image', image, '--query', 'x'], /--query must be ROW,COL/],
    [['attention', ckpt, '--image', image, '--cls', '--rollout'], /at most one of/],
    [['attention', ckpt], /needs --image/],
    [['attention', join(fix, nocls.file), '--image', image, '--cls'], /--cls: the model has no class token/],
  ] as Array<[string[], RegExp]>) {
    const r = lens(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.err.trimEnd().split('\n').length, 1, `one line: ${r.err}`);
    assert.match(r.err, re);
  }
});
