// `npm run bench`: Model Lens vs a PyTorch eager reference on a random ViT-B/16 (86M params), 224 px,
// synthetic probes, batch 16, CPU. Both are timed the same way, from process start to result, by this
// script; runs alternate (ours, torch, ours, ...) so machine load hits both alike; medians are printed.
// Options: --runs N (3) --probes N (32) --batch B (16) --no-torch --torch-threads N (default: cores)
// Then the attention view's latencies on the same model (bench/attentionRun.ts); --attention runs only those.
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { existsSync } from 'node:fs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const runs = Number(opt('--runs', '3'));
const probes = Number(opt('--probes', '32'));
const batch = Number(opt('--batch', '16'));
const cores = availableParallelism();
const torchThreads = Number(opt('--torch-threads', String(cores)));

await build({
  entryPoints: ['bench/benchRun.ts', 'bench/attentionRun.ts'], outdir: 'out/bench', bundle: true, platform: 'node', format: 'cjs',
  target: 'es2022', external: ['onnxruntime-node'], logLevel: 'warning',
});
const attentionOnly = argv.includes('--attention');

// Same process settings as the forked worker (src/runtime/workerClient.ts WORKER_ENV / WORKER_EXEC_ARGV).
const workerEnv = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' };

function timed(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      const line = out.trim().split('\n').pop();
      resolve({ wallS, ...JSON.parse(line) });
    });
  });
}

const python = '/usr/bin/python3';
const haveTorch = !argv.includes('--no-torch') && existsSync(python) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (!attentionOnly) {
console.log(`ViT-B/16 random weights, ${probes} synthetic probes at 224 px, batch ${batch}, CPU (${cores} cores), ${runs} run(s) each`);
console.log(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const ours = [];
const ref = [];
for (let i = 0; i < runs; i++) {
  const r = await timed(process.execPath, ['--expose-gc', 'out/bench/benchRun.js', '--probes', String(probes), '--batch', String(batch)], workerEnv);
  ours.push(r);
  console.log(`  model-lens run ${i + 1}: ${r.wallS.toFixed(1)} s wall, ${r.imagesPerSecond.toFixed(2)} img/s, ${r.gflopPerSecond.toFixed(1)} GFLOP/s (inference), peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  if (haveTorch) {
    const t = await timed(python, ['bench/torchReference.py', '--probes', String(probes), '--batch', String(batch), '--threads', String(torchThreads)], {});
    ref.push(t);
    console.log(`  pytorch    run ${i + 1}: ${t.wallS.toFixed(1)} s wall (${t.threads} threads), peak RSS ${t.peakRssMb.toFixed(0)} MB`);
  }
}
const oWall = median(ours.map((r) => r.wallS));
console.log('');
console.log(`Model Lens  median ${oWall.toFixed(1)} s process start → result; ${median(ours.map((r) => r.imagesPerSecond)).toFixed(2)} img/s and ` +
  `${median(ours.map((r) => r.gflopPerSecond)).toFixed(1)} GFLOP/s during inference; ${(probes / oWall).toFixed(2)} img/s end to end; peak RSS ${median(ours.map((r) => r.peakRssMb)).toFixed(0)} MB`);
if (haveTorch) {
  const tWall = median(ref.map((r) => r.wallS));
  console.log(`PyTorch     median ${tWall.toFixed(1)} s process start → result (${ref[0].threads} threads); peak RSS ${median(ref.map((r) => r.peakRssMb)).toFixed(0)} MB`);
  console.log(`Speed-up    ${(tWall / oWall).toFixed(2)}× (target ≥ 2×); RSS ratio ${(median(ours.map((r) => r.peakRssMb)) / median(ref.map((r) => r.peakRssMb))).toFixed(2)} (target ≤ 1)`);
} else {
  console.log('PyTorch reference skipped (no /usr/bin/python3 with torch, or --no-torch).');
}
console.log(`load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
}

// The attention view on the same ViT-B/16: warm-session first map of a new image, cached switches.
const att = await timed(process.execPath, ['--expose-gc', 'out/bench/attentionRun.js'], workerEnv);
console.log('');
console.log(`Attention view (ViT-B/16, CPU): session build ${(att.sessionMs / 1000).toFixed(1)} s; first map of a new image on the warm session ` +
  `median ${att.firstMapWarmMs.toFixed(0)} ms (max ${att.firstMapWarmMaxMs.toFixed(0)} ms, target < 2000); head/layer/query switch of a fetched image ` +
  `median ${att.cachedSwitchMs.toFixed(1)} ms (max ${att.cachedSwitchMaxMs.toFixed(1)} ms, target < 100); rollout through 12 layers ${att.rollout12Ms.toFixed(0)} ms`);
