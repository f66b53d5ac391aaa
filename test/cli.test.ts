// Runs the BUILT CLI (dist/cli.js) as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const models = join(root, 'test', 'fixtures', 'models');
const tmp = mkdtempSync(join(tmpdir(), 'lens-cli-'));
const env = { ...process.env, MODEL_LENS_CACHE_DIR: join(tmp, 'cache') };
const lens = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const lensWith = (extra: Record<string, string>, ...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...env, ...extra }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('--help names the cache folder', () => {
  const r = lens('--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /Result cache: .*cache/);
});

test('bad input: exit code 2 and exactly one line naming the file', () => {
  for (const [args, re] of [
    [['analyze', join(models, 'nope.pth')], /nope\.pth: file not found/],
    [['analyze', join(models, 'tiny_cnn.pth')], /tiny_cnn\.pth: /],
    [['inspect', join(root, 'test', 'fixtures', 'bad', 'binunicode-4gb.pth')], /binunicode-4gb\.pth @ offset \d+: /],
    [['analyze', join(models, 'vit_tiny_patch8_32.pth'), '--device', 'tpu'], /--device must be one of/],
    [['compare', join(models, 'vit_tiny_patch8_32.pth')], /compare needs two/],
    [['analyze', join(models, 'vit_tiny_patch8_32.pth'), '--distance-convention', 'raw'], /--distance-convention must be one of renormalised\|vit/],
    [['analyze', join(models, 'vit_tiny_patch8_32.pth'), '--cka-tokens', 'spatial'], /--cka-tokens must be one of all\|patch\|cls\|mean/],
  ] as Array<[string[], RegExp]>) {
    const r = lens(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.err.trimEnd().split('\n').length, 1, `one line: ${r.err}`);
    assert.match(r.err, re);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  }
});

test('analyze --json writes model-lens/analysis@1 with plain nested arrays; second run is cached', () => {
  const out = join(tmp, 'a.json');
  const args = ['analyze', join(models, 'vit_tiny_patch8_32.pth'), '--images', join(root, 'test', 'fixtures', 'probes', 'png32'), '--batch', '4', '--json', out];
  const r = lens(...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /attn dist px/);
  const res = JSON.parse(readFileSync(out, 'utf8')) as Record<string, any>;
  assert.equal(res['schema'], 'model-lens/analysis@1');
  for (const k of ['model', 'probe', 'device', 'attentionDistance', 'headDiversity', 'cka', 'timing', 'warnings']) assert.ok(k in res, k);
  assert.equal(typeof res['attentionDistance'].perHead[2][1], 'number');
  assert.equal(typeof res['cka'].matrix[0][2], 'number');
  const again = lens(...args);
  assert.match(again.out, /served from the result cache/);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), res);
});

test('--distance-convention and --cka-tokens are recorded in the result, with intervals, mass and entropy', () => {
  const r = lens('analyze', join(models, 'vit_tiny_patch8_32.pth'), '--images', join(root, 'test', 'fixtures', 'probes', 'png32'), '--batch', '4',
    '--distance-convention', 'vit', '--cka-tokens', 'patch', '--json', '-', '--no-cache');
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out) as Record<string, any>;
  assert.deepEqual(res['options'], { distanceConvention: 'vit', ckaTokens: 'patch', imageSize: [32, 32] });
  for (const k of ['attentionDistance', 'headDiversity', 'specialMass', 'attentionEntropy']) {
    assert.equal(res[k].ci95.perHead.length, 3, k);
    const [lo, hi] = res[k].ci95.perLayer[0] as [number, number];
    assert.ok(lo <= res[k].perLayer[0] && res[k].perLayer[0] <= hi, `${k}: ${lo} ≤ ${res[k].perLayer[0]} ≤ ${hi}`);
  }
  assert.equal(res['specialMass'].unit, 'fraction');
  // Two CKA batches: too few for an interval over minibatches.
  assert.equal(res['cka'].ci95, undefined);
});

test('compare --json - prints the compare block with crossCka[layerA][layerB]', () => {
  const r = lens('compare', join(models, 'vit_tiny_patch8_32.pth'), join(models, 'mae_pretrain_vit_tiny_patch8.pth'), '--limit', '8', '--batch', '4', '--json', '-', '--no-cache');
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out) as { compare: { crossCka: number[][] } };
  assert.equal(res.compare.crossCka.length, 3);
  assert.equal(res.compare.crossCka[0]!.length, 2);
});

test('inspect --json prints model-lens/inspect@1', () => {
  const r = lens('inspect', join(models, 'vit_tiny_patch8_32.pth'), '--json');
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { schema: string; model: { family: string; layers: number }; tensors: Array<{ name: string; shape: number[] }> };
  assert.equal(doc.schema, 'model-lens/inspect@1');
  assert.equal(doc.model.family, 'timm-vit');
  assert.equal(doc.model.layers, 3);
  assert.ok(doc.tensors.some((t) => t.name === 'cls_token'));
});

test('without --images an analysis uses the bundled photographs; --images synthetic is explicit and warns', () => {
  const ckpt = join(models, 'vit_tiny_patch8_32.pth');
  const bundled = lens('analyze', ckpt, '--device', 'cpu', '--no-cache', '--limit', '8', '--batch', '4', '--json', '-');
  assert.equal(bundled.code, 0, bundled.err);
  const r = JSON.parse(bundled.out) as { probe: { source: string; bundled?: boolean; count: number; preprocess: { folder?: string } }; warnings: string[] };
  assert.equal(r.probe.source, 'folder');
  assert.equal(r.probe.bundled, true);
  assert.equal(r.probe.preprocess.folder, join(root, 'media', 'probes'));
  assert.equal(r.probe.count, 8);
  assert.ok(!r.warnings.some((w) => /synthetic/.test(w)));
  const synthetic = lens('analyze', ckpt, '--device', 'cpu', '--no-cache', '--limit', '8', '--batch', '4', '--images', 'synthetic');
  assert.equal(synthetic.code, 0, synthetic.err);
  assert.match(synthetic.out, /Probes\s+8 images \(synthetic\)/);
  assert.match(synthetic.out, /built-in synthetic set/);
});

test('--version prints the package version; COMMAND --help prints that command only', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const v = lens('--version');
  assert.equal(v.code, 0);
  assert.equal(v.out.trim(), `model-lens ${pkg.version}`);
  const h = lens('inspect', '--help');
  assert.equal(h.code, 0);
  assert.match(h.out, /model-lens inspect FILE/);
  assert.doesNotMatch(h.out, /model-lens analyze/);
  assert.doesNotMatch(h.out, /--json OUT/, 'inspect --json takes no path');
  assert.doesNotMatch(h.out, /--images/);
  const a = lens('analyze', '--help');
  assert.match(a.out, /model-lens analyze CKPT/);
  assert.match(a.out, /--images DIR/);
  assert.match(a.out, /--json OUT/);
});

test('inspect rejects analysis-only flags; single-dash typos are unknown options', () => {
  const ckpt = join(models, 'vit_tiny_patch8_32.pth');
  for (const [args, re] of [
    [['inspect', ckpt, '--images', 'x'], /--images does not apply to inspect/],
    [['inspect', ckpt, '--device', 'cpu'], /--device does not apply to inspect/],
    [['inspect', ckpt, '--html', 'x.html'], /--html does not apply to inspect/],
    [['analyze', ckpt, '-images', 'x'], /unknown option -images \(did you mean --images\?\)/],
    [['analyze', ckpt, '-x'], /unknown option -x/],
  ] as Array<[string[], RegExp]>) {
    const r = lens(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, re);
  }
});

test('--json/--html OUT say where they wrote; --batch below 4 warns; a cached result says it is cached', () => {
  const ckpt = join(models, 'vit_tiny_patch8_32.pth');
  const json = join(tmp, 'w.json');
  const html = join(tmp, 'w.html');
  const args = ['analyze', ckpt, '--images', join(root, 'test', 'fixtures', 'probes', 'png32'), '--batch', '4', '--device', 'cpu'];
  const first = lens(...args, '--json', json, '--html', html);
  assert.equal(first.code, 0, first.err);
  assert.match(first.err, new RegExp(`wrote ${json.replace(/[.\\/]/g, '\\$&')}`));
  assert.match(first.err, /wrote .*w\.html/);
  assert.match(first.out, /Time {7}[\d.]+ s total/);
  const again = lens(...args);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /Time {7}served from the result cache/);
  assert.doesNotMatch(again.out, /s inference/);
  const small = lens('analyze', ckpt, '--images', 'synthetic', '--limit', '4', '--batch', '2', '--device', 'cpu', '--no-cache');
  assert.equal(small.code, 0, small.err);
  assert.match(small.err, /--batch 2: CKA needs batches of at least 4 images/);
});

test('progress: without a terminal, one line per phase on stderr', () => {
  const r = lensWith({ MODEL_LENS_PROGRESS_AFTER_MS: '0' }, 'analyze', join(models, 'vit_tiny_patch8_32.pth'), '--images', 'synthetic', '--limit', '4', '--batch', '4', '--device', 'cpu', '--no-cache');
  assert.equal(r.code, 0, r.err);
  const lines = r.err.trim().split('\n');
  assert.ok(lines.includes('running 4 images…'), r.err);
  assert.equal(new Set(lines).size, lines.length, 'each phase once');
  assert.doesNotMatch(r.err, /\r|\x1b\[/, 'no terminal control codes in a pipe');
});

test('npm run lens before a build says how to build, not MODULE_NOT_FOUND', () => {
  const fresh = join(tmp, 'unbuilt');
  mkdirSync(join(fresh, 'scripts'), { recursive: true });
  copyFileSync(join(root, 'scripts', 'lens.mjs'), join(fresh, 'scripts', 'lens.mjs'));
  const r = spawnSync(process.execPath, [join(fresh, 'scripts', 'lens.mjs'), '--help'], { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /not built yet .*npm run build/);
  assert.doesNotMatch(r.stderr, /MODULE_NOT_FOUND|\n\s+at /);
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'lens.mjs'), '--version'], { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(built.status, 0, built.stderr);
  assert.match(built.stdout, /^model-lens \d+\.\d+\.\d+/);
});
