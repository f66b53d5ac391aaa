// `npm run test:e2e`: code-server (cached) + the packaged VSIX + headless Chromium, offline.
//   1. scripts/e2e/installCodeServer.sh   (cached in .e2e-cache/, stamp file)
//   2. scripts/package.mjs                (production build, VSIX for this platform)
//   3. esbuild test/e2e/*.e2e.ts -> out/e2e/, test/vscode/suite -> out/vscode-tests/index.js
//   4. node --test: packaging, extension-host suite (trusted + Restricted Mode), UI journeys
//   5. ends every process the run started (code-server groups, Chromium), even after a crash
// Options: --only packaging|extensionHost|journeys|attention (repeatable), --no-package (reuse the last VSIX).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const only = args.flatMap((a, i) => (a === '--only' && args[i + 1] ? [args[i + 1]] : []));
const runId = `r${Date.now().toString(36)}`;
const timings = [];
const stage = (name, fn) => {
  const t0 = Date.now();
  const r = fn();
  timings.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
};

function fail(msg) {
  console.error(`test:e2e: ${msg}`);
  process.exit(1);
}

// 1. code-server
const entry = stage('code-server install', () => {
  const r = spawnSync('bash', [join(root, 'scripts/e2e/installCodeServer.sh')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) fail('installing code-server failed');
  return r.stdout.trim().split('\n').pop();
});

// 2. VSIX
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const target = `${process.platform}-${process.arch}`;
const vsix = join(root, 'out', `${pkg.name}-${target}-${pkg.version}.vsix`);
if (!(args.includes('--no-package') && existsSync(vsix))) {
  stage('package', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts/package.mjs'), '--out', vsix], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) fail('npm run package failed');
  });
}

// 3. bundle the e2e tests and the extension-host suite
await stage('bundle tests', async () => {
  rmSync(join(root, 'out', 'e2e'), { recursive: true, force: true });
  const e2eDir = join(root, 'test', 'e2e');
  const entries = readdirSync(e2eDir).filter((f) => f.endsWith('.e2e.ts')).map((f) => join(e2eDir, f));
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'es2022', sourcemap: 'inline', logLevel: 'warning' };
  await Promise.all([
    build({ ...common, entryPoints: entries, outdir: join(root, 'out', 'e2e'), external: ['playwright-core', 'esbuild'] }),
    build({ ...common, entryPoints: [join(root, 'test/vscode/suite/index.ts')], outfile: join(root, 'out/vscode-tests/index.js'), external: ['vscode'] }),
  ]);
});

// 4. run them, one file at a time, each with its own code-server and Chromium (start from an empty
//    screenshot folder: pictures of an earlier run would mislead)
rmSync(join(root, 'test-results', 'e2e'), { recursive: true, force: true });
const order = ['packaging', 'extensionHost', 'journeys', 'attention', 'firstHour', 'timeline'];
const files = order.filter((n) => only.length === 0 || only.includes(n)).map((n) => join(root, 'out', 'e2e', `${n}.e2e.js`)).filter((f) => existsSync(f));
const env = { ...process.env, MODEL_LENS_E2E_CODE_SERVER: entry, MODEL_LENS_E2E_VSIX: vsix, MODEL_LENS_E2E_RUN_ID: runId };
const t0 = Date.now();
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { cwd: root, env, stdio: 'inherit' });
timings.push(`tests ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// 5. nothing the run started may outlive it: match our run id in /proc/*/cmdline (our scratch paths)
const leftovers = [];
for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
  if (Number(pid) === process.pid) continue;
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    continue;
  }
  if (cmd.includes(`mle2e-${runId}-`)) {
    leftovers.push(pid);
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
if (leftovers.length > 0) console.error(`test:e2e: killed ${leftovers.length} leftover process(es) of this run: ${leftovers.join(' ')}`);
// ...and no scratch folder (a test that crashed skipped its own cleanup), unless asked to keep them.
if (process.env.MODEL_LENS_E2E_KEEP !== '1') {
  for (const d of readdirSync(tmpdir()).filter((n) => n.startsWith(`mle2e-${runId}-`))) rmSync(join(tmpdir(), d), { recursive: true, force: true });
}
console.log(`test:e2e stages: ${timings.join(', ')}; screenshots in test-results/e2e/`);
process.exit(r.status ?? 1);
