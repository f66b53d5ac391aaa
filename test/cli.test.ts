// Runs the BUILT CLI (dist/cli.js) as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  assert.match(again.out, /cached result/);
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
