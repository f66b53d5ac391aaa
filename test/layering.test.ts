// Enforces the layer boundaries of DESIGN.md: core is pure, only the worker loads onnxruntime-node,
// only the host imports vscode, the webview imports only the protocol and itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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

test('src/core imports neither vscode, onnxruntime-node nor other layers', () => {
  for (const f of files('src/core')) {
    for (const spec of imports(f)) {
      const t = layerOf(f, spec);
      assert.ok(t !== 'pkg:vscode' && !t.startsWith('pkg:onnxruntime'), `${f} imports ${spec}`);
      if (!t.startsWith('pkg:')) assert.ok(t.startsWith('src/core/') || t.startsWith('src/protocol/'), `${f} imports ${spec} outside core`);
    }
  }
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

test('protocol imports nothing but protocol and core types', () => {
  for (const f of files('src/protocol')) {
    for (const spec of imports(f)) {
      const t = layerOf(f, spec);
      assert.ok(t.startsWith('src/protocol/') || t.startsWith('src/core/'), `${f} imports ${spec}`);
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

test('src/host imports no webview code; src/core imports neither src/host nor webview', () => {
  for (const [dir, banned] of [['src/host', ['webview/']], ['src/core', ['webview/', 'src/host/']]] as const) {
    for (const f of files(dir)) {
      for (const spec of imports(f)) {
        const t = layerOf(f, spec);
        for (const b of banned) assert.ok(!t.startsWith(b), `${f} imports ${spec}`);
      }
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

