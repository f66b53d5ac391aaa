// Builds and runs only the named test files: `node scripts/testOne.mjs test/formats/zip.test.ts ...`.
// Lets one area iterate without building the whole tree.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/testOne.mjs test/path/a.test.ts [...]');
  process.exit(2);
}
await build({ entryPoints: files, outdir: 'out/test', outbase: 'test', bundle: true, platform: 'node', format: 'cjs', sourcemap: true, target: 'es2022', external: ['vscode', 'onnxruntime-node'], logLevel: 'warning' });
const outs = files.map((f) => f.replace(/^test\//, 'out/test/').replace(/\.ts$/, '.js'));
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', ...outs], { stdio: 'inherit' });
process.exit(r.status ?? 1);
