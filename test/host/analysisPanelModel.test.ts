import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analysisHtml, panelKey, panelTitle, restoredState, runParams, viewProgress } from '../../src/host/analysisPanelModel';
import type { ModelLensSettings } from '../../src/host/services';

const root = resolve(__dirname, '..', '..', '..');
const result = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'results', 'vitb16-mim.json'), 'utf8')) as unknown;

test('webview HTML: CSP default-src none, nonce-only script, no inline handlers, title escaped', () => {
  const html = analysisHtml('vscode-webview://abc', 'vscode-webview://abc/dist/webview/analysis.js', 'N0nce+/=', 'Analysis: <b>"x".pth');
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!.replace(/&#39;/g, "'");
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, /script-src 'nonce-N0nce\+\/='(;|$)/);
  assert.ok(!/unsafe-(inline|eval)/.test(csp));
  assert.match(html, /<script nonce="N0nce\+\/=" src="vscode-webview:\/\/abc\/dist\/webview\/analysis\.js"><\/script>/);
  assert.equal((html.match(/<script\b/g) ?? []).length, 1);
  assert.ok(!/\son[a-z]+=/i.test(html), 'no inline event handlers');
  assert.match(html, /<title>Analysis: &#60;b&#62;&#34;x&#34;\.pth<\/title>/);
});

test('panel identity and titles', () => {
  assert.equal(panelKey(['/a.pth']), '/a.pth');
  assert.equal(panelKey(['/a.pth', '/b.pth']), '/a.pth\u0000/b.pth');
  assert.notEqual(panelKey(['/a.pth', '/b.pth']), panelKey(['/b.pth', '/a.pth']));
  assert.equal(panelTitle(['/x/a.pth']), 'Analysis: a.pth');
  assert.equal(panelTitle(['/x/a.pth', '/y/b.safetensors']), 'Compare: a.pth ↔ b.safetensors');
  // A weight variant is part of the identity and the title; "no variant" in any spelling is the same panel.
  assert.notEqual(panelKey(['/a.pth'], ['ema']), panelKey(['/a.pth']));
  assert.equal(panelKey(['/a.pth'], [null]), panelKey(['/a.pth']));
  assert.equal(panelKey(['/a.pth', '/b.pth'], [undefined, null]), panelKey(['/a.pth', '/b.pth']));
  assert.notEqual(panelKey(['/a.pth', '/b.pth'], ['ema']), panelKey(['/a.pth', '/b.pth'], [undefined, 'ema']));
  assert.equal(panelTitle(['/x/a.pth'], ['ema']), 'Analysis: a.pth [ema]');
  assert.equal(panelTitle(['/x/a.pth', '/y/b.pth'], [null, 'ema']), 'Compare: a.pth ↔ b.pth [ema]');
});

test('restored state keeps the weight variants and refuses malformed ones', () => {
  const s = restoredState({ v: 1, view: { files: ['/a.pth'], variants: ['ema'], phase: 'done', result } });
  assert.deepEqual(s?.variants, ['ema']);
  assert.equal(s?.key, panelKey(['/a.pth'], ['ema']));
  assert.equal(s?.title, 'Analysis: a.pth [ema]');
  assert.equal(restoredState({ v: 1, view: { files: ['/a.pth'], variants: [null], phase: 'done', result } })?.variants, undefined);
  for (const variants of [['ema', 'x'], [3], [''], 'ema', ['x'.repeat(201)]]) {
    assert.equal(restoredState({ v: 1, view: { files: ['/a.pth'], variants, phase: 'done', result } }), undefined, JSON.stringify(variants));
  }
});

test('restored state: results come back; running becomes "interrupted"; garbage is refused', () => {
  const done = restoredState({ v: 1, view: { key: 'ignored', files: ['/a.pth'], title: '<script>', phase: 'done', result, cached: true } });
  assert.deepEqual(done, { key: '/a.pth', files: ['/a.pth'], title: 'Analysis: a.pth', phase: 'done', result, cached: true });
  const running = restoredState({ v: 1, view: { files: ['/a.pth', '/b.pth'], phase: 'running' } });
  assert.equal(running?.phase, 'error');
  assert.equal(running?.error?.code, 'interrupted');
  assert.equal(running?.key, '/a.pth\u0000/b.pth');
  const err = restoredState({ v: 1, view: { files: ['/a.pth'], phase: 'error', error: { code: 7, message: 'x'.repeat(10000) } } });
  assert.equal(err?.error?.code, 'error');
  assert.equal(err?.error?.message.length, 4000);
  // A "done" state whose result is malformed is not shown as a result.
  assert.equal(restoredState({ v: 1, view: { files: ['/a.pth'], phase: 'done', result: { schema: 'nope' } } })?.phase, 'cancelled');
  for (const bad of [undefined, null, 'x', { v: 2, view: {} }, { v: 1 }, { v: 1, view: { files: [] } }, { v: 1, view: { files: ['/a', '/b', '/c'] } }, { v: 1, view: { files: [3] } }, { v: 1, view: { files: [''] } }]) {
    assert.equal(restoredState(bad), undefined, JSON.stringify(bad));
  }
});

test('run parameters follow the settings', () => {
  const s: ModelLensSettings = { probeImagesFolder: undefined, probeCount: 64, batchSize: 16, device: 'auto', headsOverride: undefined, cacheSizeLimitMB: 256 };
  assert.deepEqual(runParams(['/a.pth'], s, 'j1'), { file: '/a.pth', batchSize: 16, device: 'auto', limit: 64, jobId: 'j1' });
  const t: ModelLensSettings = { ...s, probeImagesFolder: '/imgs', batchSize: 8, device: 'cuda', headsOverride: 6, probeCount: 32 };
  assert.deepEqual(runParams(['/a.pth', '/b.pth'], t, 'j2'), { file: '/a.pth', fileB: '/b.pth', batchSize: 8, device: 'cuda', limit: 32, jobId: 'j2', images: '/imgs', heads: 6, headsB: 6 });
  assert.equal(runParams(['/a.pth'], s, 'j3', ['ema']).variant, 'ema');
  const both = runParams(['/a.pth', '/b.pth'], s, 'j4', [null, 'ema']);
  assert.equal(both.variant, undefined);
  assert.equal(both.variantB, 'ema');
  // modelLens.imageSize reaches the worker (and the cache key) only when set; null leaves the params as they were.
  assert.equal(runParams(['/a.pth', '/b.pth'], { ...s, imageSize: 224 }, 'j5').imageSize, 224);
  assert.equal('imageSize' in runParams(['/a.pth'], { ...s, imageSize: undefined }, 'j6'), false);
});

test('worker progress maps to per-image progress while running, a stage label otherwise', () => {
  assert.deepEqual(viewProgress({ jobId: 'j', phase: 'run', done: 32, total: 64 }), { done: 32, total: 64, stage: 'Running probe images' });
  assert.deepEqual(viewProgress({ jobId: 'j', phase: 'session', done: 0, total: 1, message: 'CPU (WebGPU unavailable)' }), { done: 0, total: 0, stage: 'Starting the inference session · CPU (WebGPU unavailable)' });
  assert.equal(viewProgress({ jobId: 'j', phase: 'load', done: 0, total: 1 }).stage, 'Reading weights');
});
