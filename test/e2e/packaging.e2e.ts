// The VSIX that `npm run package` built (scripts/e2e/run.mjs passes it in): its entries are exactly
// what a user needs on this platform, and what ships actually runs (bundles + onnxruntime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupScratch, e2eInputs, scratchDir } from './harness';
import { repoRoot } from './workspace';
import { extractZip, listZip } from './zipFile';

const { vsix } = e2eInputs();
const names = listZip(vsix).map((e) => e.name);
const platform = `${process.platform}/${process.arch}`;

test(`VSIX size and entry count (${vsix})`, () => {
  const mb = statSync(vsix).size / 1048576;
  console.log(`# VSIX ${vsix}: ${mb.toFixed(1)} MB, ${names.length} entries`);
  // One platform's onnxruntime is ~17 MB compressed; all six would be ~100 MB.
  assert.ok(mb < 40, `VSIX is ${mb.toFixed(1)} MB: other platforms' binaries or node_modules leaked in`);
});

test('VSIX holds the bundles, the manifest, README, LICENSE and media', () => {
  for (const f of ['extension/package.json', 'extension/readme.md', 'extension/LICENSE.txt', 'extension/dist/extension.js', 'extension/dist/worker.js', 'extension/dist/cli.js', 'extension/dist/webview/inspector.js', 'extension/dist/webview/analysis.js']) {
    assert.ok(names.includes(f), `${f} missing from the VSIX`);
  }
  const media = existsSync(join(repoRoot, 'media')) ? readdirSync(join(repoRoot, 'media'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()) : [];
  for (const e of media) {
    const rel = join(e.parentPath, e.name).slice(join(repoRoot, 'media').length + 1).split('\\').join('/');
    assert.ok(names.includes(`extension/media/${rel}`), `media/${rel} missing from the VSIX`);
  }
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { main: string };
  assert.ok(names.includes(`extension/${pkg.main.replace(/^\.\//, '')}`), `main ${pkg.main} missing`);
});

test(`VSIX carries onnxruntime for ${platform} only`, () => {
  assert.ok(names.includes(`extension/node_modules/onnxruntime-node/bin/napi-v6/${platform}/onnxruntime_binding.node`), 'this platform\'s onnxruntime binding is missing');
  assert.ok(names.includes('extension/node_modules/onnxruntime-node/dist/index.js'), 'onnxruntime-node JS is missing');
  assert.ok(names.includes('extension/node_modules/onnxruntime-common/dist/cjs/index.js'), 'onnxruntime-common is missing');
  const foreign = names.filter((n) => n.includes('/bin/napi-v6/') && !n.includes(`/bin/napi-v6/${platform}/`));
  assert.deepEqual(foreign, [], 'other platforms\' binaries shipped');
  for (const other of ['win32', 'darwin', 'linux/arm64', 'linux/x64'].filter((p) => p !== platform)) {
    assert.ok(!names.some((n) => n.includes(`/napi-v6/${other}/`)), `${other} binaries shipped`);
  }
});

test('VSIX holds no sources, tests, fixtures, maps or stray node_modules', () => {
  const bad = names.filter((n) =>
    /^extension\/(src|test|webview|scripts|out|demo|\.ci|\.e2e-cache|test-results)\//.test(n) ||
    /\.(ts|map|py|pth|pt|ckpt|safetensors|onnx)$/.test(n) && !n.endsWith('.d.ts') ||
    /\.d\.ts$/.test(n) ||
    /^extension\/node_modules\//.test(n) && !/^extension\/node_modules\/onnxruntime-(node|common)\//.test(n) ||
    /(^|\/)(tsconfig\.json|package-lock\.json|\.gitignore|\.vscodeignore)$/.test(n));
  assert.deepEqual(bad, []);
});

test('what ships runs: the VSIX\'s CLI inspects a fixture and its onnxruntime loads', () => {
  const dir = scratchDir('vsix');
  try {
    extractZip(vsix, dir);
    const ext = join(dir, 'extension');
    const ort = spawnSync(process.execPath, ['-e', `const ort = require(${JSON.stringify(join(ext, 'node_modules/onnxruntime-node'))}); if (typeof ort.InferenceSession?.create !== 'function') process.exit(3); console.log('onnxruntime-node', require(${JSON.stringify(join(ext, 'node_modules/onnxruntime-node/package.json'))}).version)`], { encoding: 'utf8', cwd: dir });
    assert.equal(ort.status, 0, `onnxruntime-node from the VSIX did not load:\n${ort.stderr}`);
    const fixture = join(repoRoot, 'test/fixtures/models/vit_tiny_patch8_32.pth');
    const cli = spawnSync(process.execPath, [join(ext, 'dist/cli.js'), 'inspect', fixture, '--json'], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
    assert.equal(cli.status, 0, `dist/cli.js inspect from the VSIX failed:\n${cli.stderr}`);
    const out = JSON.parse(cli.stdout) as { schema?: string; model?: { family?: string; layers?: number } };
    assert.equal(out.schema, 'model-lens/inspect@1');
    assert.equal(out.model?.layers, 3);
  } finally {
    cleanupScratch(dir);
  }
});
