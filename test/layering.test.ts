// Enforces the layer boundaries of DESIGN.md: formats, model and analysis are pure, only the worker loads onnxruntime-node,
// only the host imports vscode, the webview imports only the protocol and itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

const root = resolve(__dirname, '..', '..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) out.push(...files(rel));
    else if (/\.(ts|mts|tsx)$/.test(name)) out.push(rel);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  return out;
}

function layerOf(file: string, spec: string): string {
  if (!spec.startsWith('.')) return `pkg:${spec}`;
  const target = relative(root, resolve(root, dirname(file), spec)).split(sep).join('/');
  return target;
}

// Which top-level folders each layer may import (relative imports). The pure layers (formats, model,
// analysis) form a strict stack; runtime (worker client, caches, path finding) is node-side plumbing
// shared by host and CLI; protocol may use pure types and constants from below; nothing below the
// processes imports worker, host, protocol or webview.
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  'src/formats': ['src/formats'],
  'src/model': ['src/formats', 'src/model'],
  'src/analysis': ['src/formats', 'src/model', 'src/analysis'],
  'src/protocol': ['src/formats', 'src/model', 'src/analysis', 'src/protocol'],
  'src/runtime': ['src/formats', 'src/model', 'src/analysis', 'src/protocol', 'src/runtime'],
  'src/worker': ['src/formats', 'src/model', 'src/analysis', 'src/protocol', 'src/runtime', 'src/worker'],
  'src/host': ['src/formats', 'src/model', 'src/analysis', 'src/protocol', 'src/runtime', 'src/host'],
  webview: ['src/protocol', 'webview'],
};
const PURE = ['src/formats', 'src/model', 'src/analysis'];
const PURE_PACKAGES = ['jpeg-js'];

function layerKey(path: string): string | undefined {
  return Object.keys(ALLOWED).find((k) => path === k || path.startsWith(`${k}/`));
}

/** Every import of `specs` (as written in `file`) that breaks the layer rules, as a message. */
function violations(file: string, specs: readonly string[]): string[] {
  const from = layerKey(file);
  const out: string[] = [];
  if (from === undefined) return out;
  for (const spec of specs) {
    const t = layerOf(file, spec);
    if (t.startsWith('pkg:')) {
      const pkg = t.slice(4);
      if (PURE.includes(from) && !pkg.startsWith('node:') && !PURE_PACKAGES.includes(pkg)) out.push(`${file} imports package ${spec}`);
      continue;
    }
    const to = layerKey(t) ?? t.split('/').slice(0, 2).join('/');
    if (!ALLOWED[from]!.includes(to)) out.push(`${file} imports ${spec} (${from} may not import ${to})`);
  }
  return out;
}

test('layer rules: formats < model < analysis stay pure; nothing imports upwards', () => {
  const found: string[] = [];
  for (const dir of ['src', 'webview']) for (const f of files(dir)) found.push(...violations(f, imports(f)));
  assert.deepEqual(found, []);
  assert.ok(!existsSync(join(root, 'src', 'core')), 'src/core is gone: its files live in formats/, model/, analysis/ and runtime/');
});

test('layer rules catch upward imports (negative check of the rule itself)', () => {
  assert.equal(violations('src/formats/zip.ts', ['../model/recognize']).length, 1);
  assert.equal(violations('src/model/recognize.ts', ['../analysis/metrics']).length, 1);
  assert.equal(violations('src/analysis/metrics.ts', ['../protocol/rpc']).length, 1);
  assert.equal(violations('src/analysis/metrics.ts', ['../worker/ortRuntime']).length, 1);
  assert.equal(violations('src/analysis/metrics.ts', ['vscode']).length, 1);
  assert.equal(violations('src/formats/zip.ts', ['onnxruntime-node']).length, 1);
  assert.equal(violations('src/runtime/cache.ts', ['../host/extension']).length, 1);
  assert.equal(violations('src/host/extension.ts', ['../worker/analysisJob']).length, 1);
  assert.equal(violations('webview/analysisMain.ts', ['../src/analysis/metrics']).length, 1);
  assert.deepEqual(violations('src/analysis/metrics.ts', ['../model/modelTypes', '../formats/errors', 'node:path']), []);
});

test('only src/worker loads onnxruntime-node', () => {
  for (const dir of ['src', 'webview']) {
    for (const f of files(dir)) {
      if (f.startsWith(`src${sep}worker`) || f.startsWith('src/worker')) continue;
      for (const spec of imports(f)) assert.ok(!spec.startsWith('onnxruntime'), `${f} imports ${spec}`);
    }
  }
});

test('only src/host imports vscode', () => {
  for (const dir of ['src', 'webview']) {
    for (const f of files(dir)) {
      if (f.split(sep).join('/').startsWith('src/host/')) continue;
      for (const spec of imports(f)) assert.notEqual(spec, 'vscode', `${f} imports vscode`);
    }
  }
});

test('webview imports only src/protocol, its own code and browser packages', () => {
  const allowedPkgs = ['chart.js', 'chartjs-chart-matrix', '@vscode-elements/elements'];
  for (const f of files('webview')) {
    for (const spec of imports(f)) {
      const t = layerOf(f, spec);
      if (t.startsWith('pkg:')) {
        assert.ok(allowedPkgs.some((p) => spec === p || spec.startsWith(`${p}/`)), `${f} imports package ${spec}`);
      } else {
        assert.ok(t.startsWith('webview/') || t.startsWith('src/protocol/'), `${f} imports ${spec}`);
      }
    }
  }
});

test('no default exports anywhere in src or webview', () => {
  for (const dir of ['src', 'webview']) {
    for (const f of files(dir)) {
      assert.ok(!/^\s*export\s+default\b/m.test(readFileSync(join(root, f), 'utf8')), `${f} has a default export`);
    }
  }
});

test('inside src/worker only ortRuntime.ts loads onnxruntime-node (others import its types only)', () => {
  for (const f of files('src/worker')) {
    if (f.split(sep).join('/') === 'src/worker/ortRuntime.ts') continue;
    const text = readFileSync(join(root, f), 'utf8');
    const valueImport = /^\s*import\s+(?!type\b)[^'"]*from\s*['"]onnxruntime-node['"]|require\(\s*['"]onnxruntime-node['"]\s*\)|import\(\s*['"]onnxruntime-node['"]\s*\)/m;
    assert.ok(!valueImport.test(text), `${f} loads onnxruntime-node; use onnxruntime() from ortRuntime.ts`);
  }
});

