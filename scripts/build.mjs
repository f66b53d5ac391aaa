// Builds every bundle with esbuild: extension host, worker, CLI, webview, and each test file.
// Tests are bundled too so `node --test out/test` runs them with no TypeScript loader.
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', target: 'es2022' };
const nodeExternal = ['vscode', 'onnxruntime-node'];

function findTests(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === 'fixtures' || name === 'e2e-workspace') continue;
      out.push(...findTests(p));
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const jobs = [
  { entryPoints: ['src/host/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: nodeExternal },
  { entryPoints: ['src/worker/workerMain.ts'], outfile: 'dist/worker.js', platform: 'node', format: 'cjs', external: nodeExternal },
  { entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', external: nodeExternal, banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['webview/inspectorMain.ts'], outfile: 'dist/webview/inspector.js', platform: 'browser', format: 'iife' },
  { entryPoints: ['webview/analysisMain.ts'], outfile: 'dist/webview/analysis.js', platform: 'browser', format: 'iife' },
  { entryPoints: ['webview/timelineMain.ts'], outfile: 'dist/webview/timeline.js', platform: 'browser', format: 'iife' },
  { entryPoints: ['webview/attentionMain.ts'], outfile: 'dist/webview/attention.js', platform: 'browser', format: 'iife' },
];
const tests = findTests('test');
if (tests.length > 0) {
  jobs.push({ entryPoints: tests, outdir: 'out/test', outbase: 'test', platform: 'node', format: 'cjs', external: nodeExternal });
}
const present = jobs.filter((j) => j.entryPoints.every((e) => existsSync(e)));
await Promise.all(present.map((j) => build({ ...common, ...j })));
if (watch) console.log('watch mode is not implemented; re-run npm run build');
