// `npm run bench -- --timeline` and `npm run bench -- --weights-diff` (see bench/README.md):
// - timeline: N random ViT-S/16 checkpoints of one run (default 10), P synthetic probes at 224 px (default 32),
//   batch 16, CPU: `lens timeline DIR` against N separate `lens analyze` runs, wall time from process start
//   and the worker's peak RSS (VmHWM, reported in the results' timing).
// - weights diff: two random ViT-L/16 checkpoints (1.2 GB each, written here, deleted after): wall time and
//   peak RSS of `lens weights-diff A B`.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};

await build({
  entryPoints: ['bench/writeCheckpoints.ts'], outfile: 'out/bench/writeCheckpoints.js', bundle: true, platform: 'node', format: 'cjs',
  target: 'es2022', external: ['onnxruntime-node'], logLevel: 'warning',
});

/** Runs a command; wall seconds from spawn to exit, and its own peak RSS (VmHWM, polled). */
function timed(args, env = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch { /* exited */ }
    }, 25);
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.stdout.on('data', () => undefined);
    p.on('exit', (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      resolve({ wallS: Number(process.hrtime.bigint() - t0) / 1e9, peakRssMb: peak });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'lens-bench-'));
const cacheEnv = { MODEL_LENS_CACHE_DIR: join(work, 'cache') };
console.log(`CPU (${availableParallelism()} cores), load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
try {
  if (argv.includes('--timeline')) {
    const n = Number(opt('--checkpoints', '10'));
    const probes = opt('--probes', '32');
    const run = join(work, 'run');
    await timed(['out/bench/writeCheckpoints.js', run, String(n), '--dim', '384', '--layers', '12', '--heads', '6']);
    const common = ['--limit', probes, '--batch', '16', '--device', 'cpu', '--no-cache'];
    const timeline = await timed(['dist/cli.js', 'timeline', run, ...common, '--json', join(work, 'timeline.json')], cacheEnv);
    const t = JSON.parse(readFileSync(join(work, 'timeline.json'), 'utf8'));
    let separate = 0;
    let separatePeak = 0;
    // Where each side's time goes (seconds summed over the checkpoints): the worker's own phase timings.
    const phases = ['loadMs', 'sessionMs', 'firstRunMs', 'inferenceMs'];
    const sepPhases = Object.fromEntries(phases.map((k) => [k, 0]));
    for (let k = 1; k <= n; k++) {
      const out = join(work, `single${k}.json`);
      const r = await timed(['dist/cli.js', 'analyze', join(run, `step_${k * 1000}.safetensors`), ...common, '--json', out], cacheEnv);
      separate += r.wallS;
      const timing = JSON.parse(readFileSync(out, 'utf8')).timing;
      separatePeak = Math.max(separatePeak, timing.peakRssMb ?? 0);
      for (const p of phases) sepPhases[p] += timing[p] ?? 0;
    }
    const fmtPhases = (x, wall) => `${phases.map((p) => `${p.replace('Ms', '')} ${((x[p] ?? 0) / 1000).toFixed(1)} s`).join(', ')}, rest (process start, probes, reductions) ${(wall - phases.filter((p) => p !== 'firstRunMs').reduce((a, p) => a + (x[p] ?? 0), 0) / 1000).toFixed(1)} s`;
    const weightsMb = statSync(join(run, 'step_1000.safetensors')).size / 2 ** 20;
    console.log(`Timeline    ${n} ViT-S/16 checkpoints, ${probes} synthetic probes at 224 px, batch 16`);
    console.log(`  lens timeline: ${timeline.wallS.toFixed(1)} s (${t.timing.sessionsCreated} session(s)); worker peak RSS ${t.timing.peakRssMb.toFixed(0)} MB`);
    console.log(`  ${n} × lens analyze: ${separate.toFixed(1)} s; worker peak RSS ${separatePeak.toFixed(0)} MB; one copy of the weights ${weightsMb.toFixed(0)} MB`);
    console.log(`  ratio ${(timeline.wallS / separate).toFixed(2)} (target ≤ 0.5); RSS ${t.timing.peakRssMb.toFixed(0)} vs ${(separatePeak + weightsMb).toFixed(0)} MB allowed`);
    console.log(`  timeline phases: ${fmtPhases(t.timing, timeline.wallS)} (first run is part of inference)`);
    console.log(`  analyze phases:  ${fmtPhases(sepPhases, separate)}`);
    console.log(`  floor: the timeline's inference alone is ${(t.timing.inferenceMs / 1000 / separate).toFixed(2)} of the ${n} analyze runs`);
  }
  if (argv.includes('--weights-diff')) {
    const dir = join(work, 'large');
    await timed(['out/bench/writeCheckpoints.js', dir, '2', '--dim', '1024', '--layers', '24', '--heads', '16']);
    const [a, b] = ['step_1000', 'step_2000'].map((s) => join(dir, `${s}.safetensors`));
    const size = statSync(a).size / 2 ** 30;
    const r = await timed(['dist/cli.js', 'weights-diff', a, b, '--json', join(work, 'diff.json')]);
    const d = JSON.parse(readFileSync(join(work, 'diff.json'), 'utf8'));
    console.log(`Weights diff  two ViT-L/16 checkpoints of ${size.toFixed(2)} GiB (files just written: read from the page cache)`);
    console.log(`  ${r.wallS.toFixed(1)} s (target < 20 s), peak RSS ${r.peakRssMb.toFixed(0)} MB (target < 400 MB), ${(d.timing.bytesRead / 2 ** 30).toFixed(2)} GiB read, ${d.blocks.length} blocks`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
