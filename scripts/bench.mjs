// `npm run bench`: Model Lens vs a PyTorch eager reference on a random ViT-B/16 (86M params), 224 px,
// synthetic probes, batch 16, CPU. Both are timed the same way, from process start to result, by this
// script; runs alternate (ours, torch, ours, ...) so machine load hits both alike; medians are printed.
// The PyTorch reference must run on an optimised BLAS, as a researcher's pip/conda torch does: the script
// checks which BLAS torch actually loads, installs Debian's OpenBLAS when it finds the reference BLAS and
// may (root, apt), and prints no ratio against a reference-BLAS torch. It also measures this machine's
// GEMM rate (onnxruntime and torch, the model's MLP shape) so the inference rate can be read against it.
// Options: --runs N (3) --probes N (32) --batch B (16) --no-torch --torch-threads N (default: cores) --no-swin --no-zoo
//          --no-install (never apt-get) --profile (also print onnxruntime's per-operator profile of one batch)
// Then the attention view's latencies on the same model (bench/attentionRun.ts); --attention runs only those.
// --per-image: only the cost of the per-image outputs and intervals (with vs without, alternating).
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { existsSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.includes('--timeline') || argv.includes('--weights-diff')) {
  // The training-run benchmarks have their own driver.
  await import('./benchTimeline.mjs');
  process.exit(0);
}
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
  entryPoints: ['bench/benchRun.ts', 'bench/profileRun.ts', 'bench/attentionRun.ts'], outdir: 'out/bench', bundle: true, platform: 'node', format: 'cjs',
  target: 'es2022', external: ['onnxruntime-node'], logLevel: 'warning',
});
const attentionOnly = argv.includes('--attention');

// Same process settings as the forked worker (src/runtime/workerClient.ts WORKER_ENV / WORKER_EXEC_ARGV).
const workerEnv = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };

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

// `--per-image`: the cost of the per-image outputs and bootstrap intervals: ViT-B/16 with them and without
// them (the graph as it was before), alternating in this one run so machine load hits both alike.
if (argv.includes('--per-image')) {
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const withPi = [];
  const without = [];
  console.log(`ViT-B/16, ${probes} synthetic probes, batch ${batch}, CPU (${cores} cores): per-image outputs + intervals vs without, ${runs} run(s) each, alternating`);
  console.log(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  for (let i = 0; i < runs; i++) {
    for (const [list, extra, name] of [[without, ['--no-per-image'], 'without'], [withPi, [], 'with   ']]) {
      const r = await timed(process.execPath, ['--expose-gc', 'out/bench/benchRun.js', '--probes', String(probes), '--batch', String(batch), ...extra], workerEnv);
      list.push(r);
      console.log(`  ${name} run ${i + 1}: ${r.wallS.toFixed(1)} s wall, ${r.cpuS.toFixed(1)} s CPU, inference ${(r.timing.inferenceMs / 1000).toFixed(1)} s, reduce ${(r.timing.reduceMs / 1000).toFixed(3)} s, intervals ${r.intervals}`);
    }
  }
  const w = median(withPi.map((r) => r.wallS));
  const wo = median(without.map((r) => r.wallS));
  const c = median(withPi.map((r) => r.cpuS));
  const co = median(without.map((r) => r.cpuS));
  console.log(`median wall: with ${w.toFixed(1)} s, without ${wo.toFixed(1)} s, ratio ${(w / wo).toFixed(3)} (target ≤ 1.10)`);
  console.log(`median CPU:  with ${c.toFixed(1)} s, without ${co.toFixed(1)} s, ratio ${(c / co).toFixed(3)}`);
  console.log(`load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  process.exit(0);
}

const python = '/usr/bin/python3';
let haveTorch = !attentionOnly && !argv.includes('--no-torch') && existsSync(python) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** Which BLAS the reference torch loads (read from its /proc/self/maps) and its GEMM rate on the MLP shape. */
function torchBlas() {
  const r = spawnSync(python, ['bench/torchReference.py', '--blas-only', '--threads', String(torchThreads)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`torch BLAS probe failed: ${r.stderr.slice(-1000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

let blas;
if (haveTorch) {
  blas = torchBlas();
  if (blas.blasKind === 'reference' && !argv.includes('--no-install') && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('torch runs on the reference BLAS (netlib libblas3); installing Debian\'s OpenBLAS (libopenblas0-pthread) as a researcher\'s torch would have an optimised BLAS');
    const inst = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'libopenblas0-pthread'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (inst.status !== 0) console.log('apt-get install libopenblas0-pthread failed; run `apt-get update` first');
    blas = torchBlas();
  }
  console.log(`PyTorch BLAS: ${blas.blasKind} (${blas.blas.join(', ') || 'none mapped'}), ${blas.threads} threads, GEMM ${blas.gemmGflops.toFixed(0)} GFLOP/s on the MLP shape`);
}
const fairTorch = haveTorch && blas.blasKind !== 'reference';
const gemmOrt = () => new Promise((resolve, reject) => {
  const p = spawn(process.execPath, ['out/bench/benchRun.js', '--gemm', '--batch', String(batch)], { env: { ...process.env, ...workerEnv }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()).gemmGflops) : reject(new Error(`gemm probe exited ${code}`))));
});
const gemmBefore = attentionOnly ? 0 : await gemmOrt();
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
  console.log(`  model-lens run ${i + 1}: ${r.wallS.toFixed(1)} s wall, ${r.cpuS.toFixed(1)} s CPU, ${r.imagesPerSecond.toFixed(2)} img/s, ${r.gflopPerSecond.toFixed(1)} GFLOP/s (inference), peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  if (haveTorch) {
    const t = await timed(python, ['bench/torchReference.py', '--probes', String(probes), '--batch', String(batch), '--threads', String(torchThreads)], {});
    ref.push(t);
    console.log(`  pytorch    run ${i + 1}: ${t.wallS.toFixed(1)} s wall (${t.threads} threads, ${t.blasKind} BLAS), peak RSS ${t.peakRssMb.toFixed(0)} MB; pair ratio ${(t.wallS / r.wallS).toFixed(2)}×`);
  }
}
const oWall = median(ours.map((r) => r.wallS));
const gemmAfter = await gemmOrt();
const gemm = Math.max(gemmBefore, gemmAfter);
console.log('');
console.log(`GEMM        onnxruntime ${gemmBefore.toFixed(0)} / ${gemmAfter.toFixed(0)} GFLOP/s (before / after the runs) on ${batch * 197}×768×3072`);
console.log(`Model Lens  median ${oWall.toFixed(1)} s process start → result; ${median(ours.map((r) => r.imagesPerSecond)).toFixed(2)} img/s and ` +
  `${median(ours.map((r) => r.gflopPerSecond)).toFixed(1)} GFLOP/s during inference (${(100 * median(ours.map((r) => r.gflopPerSecond)) / gemm).toFixed(0)}% of the GEMM rate, target ≥ 110 GFLOP/s); ` +
  `${(probes / oWall).toFixed(2)} img/s end to end; peak RSS ${median(ours.map((r) => r.peakRssMb)).toFixed(0)} MB`);
if (haveTorch) {
  const tWall = median(ref.map((r) => r.wallS));
  console.log(`PyTorch     median ${tWall.toFixed(1)} s process start → result (${ref[0].threads} threads, ${ref[0].blasKind} BLAS); peak RSS ${median(ref.map((r) => r.peakRssMb)).toFixed(0)} MB`);
  if (fairTorch) {
    const pairs = ref.map((t, i) => t.wallS / ours[i].wallS);
    console.log(`Speed-up    ${(tWall / oWall).toFixed(2)}× of medians, median of pair ratios ${median(pairs).toFixed(2)}× (target ≥ 2.5×); RSS ratio ${(median(ours.map((r) => r.peakRssMb)) / median(ref.map((r) => r.peakRssMb))).toFixed(2)} (target ≤ 1)`);
  } else {
    console.log('Speed-up    not printed: torch ran on the reference BLAS, which no researcher uses (install libopenblas0-pthread)');
  }
} else {
  console.log('PyTorch reference skipped (no /usr/bin/python3 with torch, or --no-torch).');
}
if (!argv.includes('--no-zoo')) {
  // CLIP ViT-B/16 and DINOv2 ViT-B/14 (random weights, 224 px) through the same job loop, alternating with
  // timm ViT-B/16 runs of their own (timm, CLIP, DINOv2, timm, ...): wall time against ViT-B/16's (target:
  // within 15%), and time per GFLOP, since B/14 at 224 px has 257 tokens against B/16's 197.
  console.log('');
  console.log(`Model zoo: timm ViT-B/16, CLIP ViT-B/16, DINOv2 ViT-B/14, alternating, ${runs} run(s) each`);
  const zoo = { 'vit-b16': [], 'clip-b16': [], 'dinov2-b14': [] };
  for (let i = 0; i < runs; i++) {
    for (const name of Object.keys(zoo)) {
      const r = await timed(process.execPath, ['--expose-gc', 'out/bench/benchRun.js', '--model', name, '--probes', String(probes), '--batch', String(batch)], workerEnv);
      zoo[name].push(r);
      console.log(`  ${name.padEnd(10)} run ${i + 1}: ${r.wallS.toFixed(1)} s wall, ${r.cpuS.toFixed(1)} s CPU, ${r.gflopPerImage.toFixed(2)} GFLOP/image, ${r.gflopPerSecond.toFixed(1)} GFLOP/s (inference), peak RSS ${r.peakRssMb.toFixed(0)} MB`);
    }
  }
  const base = zoo['vit-b16'];
  const vWall = median(base.map((r) => r.wallS));
  const vCpu = median(base.map((r) => r.cpuS));
  const vRate = median(base.map((r) => r.gflopPerSecond));
  for (const [name, rs] of Object.entries(zoo)) {
    if (name === 'vit-b16') continue;
    const w = median(rs.map((r) => r.wallS));
    const c = median(rs.map((r) => r.cpuS));
    const rate = median(rs.map((r) => r.gflopPerSecond));
    console.log(`${name.padEnd(11)} median ${w.toFixed(1)} s (${(w / vWall).toFixed(2)}× ViT-B/16's ${vWall.toFixed(1)} s; CPU ${(c / vCpu).toFixed(2)}×; target ≤ 1.15×); ` +
      `${rs[0].gflopPerImage.toFixed(2)} GFLOP/image vs ${base[0].gflopPerImage.toFixed(2)}; time per GFLOP ${(vRate / rate).toFixed(2)}× ViT-B/16's; peak RSS ${median(rs.map((r) => r.peakRssMb)).toFixed(0)} MB`);
  }
}

if (!argv.includes('--no-swin')) {
  // Swin-T (random weights, window 7, 224 px) through the same job loop: inference time per GFLOP against ViT-B's.
  const swin = [];
  for (let i = 0; i < runs; i++) {
    const r = await timed(process.execPath, ['--expose-gc', 'out/bench/benchRun.js', '--model', 'swin-t', '--probes', String(probes), '--batch', String(batch)], workerEnv);
    swin.push(r);
    console.log(`  swin-t     run ${i + 1}: ${r.wallS.toFixed(1)} s wall, ${r.cpuS.toFixed(1)} s CPU, ${r.imagesPerSecond.toFixed(2)} img/s, ${r.gflopPerSecond.toFixed(1)} GFLOP/s (inference), peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  }
  const sRate = median(swin.map((r) => r.gflopPerSecond));
  const vRate = median(ours.map((r) => r.gflopPerSecond));
  console.log(`Swin-T      median ${median(swin.map((r) => r.wallS)).toFixed(1)} s process start → result; ${swin[0].gflopPerImage.toFixed(2)} GFLOP/image (ViT-B/16: ${ours[0].gflopPerImage.toFixed(2)}); ` +
    `${sRate.toFixed(1)} GFLOP/s during inference vs ViT-B ${vRate.toFixed(1)}: ${(vRate / sRate).toFixed(2)}× ViT-B's time per GFLOP (target ≤ 1.5×); peak RSS ${median(swin.map((r) => r.peakRssMb)).toFixed(0)} MB`);
}
console.log(`load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
if (argv.includes('--profile')) {
  const r = spawnSync(process.execPath, ['out/bench/profileRun.js', '--batch', String(batch)], { env: { ...process.env, ...workerEnv }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`profile run failed: ${r.stderr.slice(-2000)}`);
  const p = JSON.parse(r.stdout.trim().split('\n').pop());
  console.log('');
  console.log(`Per-operator profile, one batch of ${p.batch} (after a warm-up run of ${(p.firstRunMs / 1000).toFixed(1)} s): ${(p.runMs / 1000).toFixed(2)} s, kernels ${(p.kernelMs / 1000).toFixed(2)} s; GEMM ${p.gemmPeakGflops.toFixed(0)} GFLOP/s`);
  console.log('| operator | nodes | ms | share | GFLOP/s |');
  console.log('|---|---|---|---|---|');
  for (const o of p.ops) if (o.share >= 0.001) console.log(`| ${o.op} | ${o.nodes} | ${o.ms.toFixed(1)} | ${(100 * o.share).toFixed(1)}% | ${o.gflops ? o.gflops.toFixed(0) : ''} |`);
}
}

// The attention view on the same ViT-B/16: warm-session first map of a new image, cached switches.
const att = await timed(process.execPath, ['--expose-gc', 'out/bench/attentionRun.js'], workerEnv);
console.log('');
console.log(`Attention view (ViT-B/16, CPU): session build ${(att.sessionMs / 1000).toFixed(1)} s; first map of a new image on the warm session ` +
  `median ${att.firstMapWarmMs.toFixed(0)} ms wall (max ${att.firstMapWarmMaxMs.toFixed(0)} ms, target < 2000), ${att.firstMapCpuMs.toFixed(0)} ms CPU on ${att.cores} cores (load ${att.load.toFixed(1)}); head/layer/query switch of a fetched image ` +
  `median ${att.cachedSwitchMs.toFixed(1)} ms (max ${att.cachedSwitchMaxMs.toFixed(1)} ms, target < 100); rollout through 12 layers ${att.rollout12Ms.toFixed(0)} ms`);
