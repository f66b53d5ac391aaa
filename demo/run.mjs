// `npm run demo`: builds if needed, compares the shipped MIM vs supervised pair on CPU with the demo
// probe images through the CLI, prints a per-layer summary, and says where the reports are.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const demo = join(root, 'demo');
const cli = join(root, 'dist', 'cli.js');
const mim = join(demo, 'checkpoints', 'mim_vit.pth');
const sup = join(demo, 'checkpoints', 'sup_vit.safetensors');
const probes = join(demo, 'probes');
const outDir = join(demo, 'out');
const jsonOut = join(outDir, 'report.json');
const htmlOut = join(outDir, 'report.html');

/** Newest modification time under `dir` (files only), 0 when it does not exist. */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

function needsBuild() {
  const bundles = [cli, join(root, 'dist', 'worker.js'), join(root, 'dist', 'webview', 'analysis.js')];
  if (!bundles.every((b) => existsSync(b))) return 'dist/ is missing';
  const built = Math.min(...bundles.map((b) => statSync(b).mtimeMs));
  const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'webview')), statSync(join(root, 'package.json')).mtimeMs);
  return sources > built ? 'sources changed since the last build' : undefined;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const why = needsBuild();
if (why) {
  console.log(`Building (${why}) ...`);
  if (run(process.execPath, [join(root, 'scripts', 'build.mjs')]) !== 0) process.exit(1);
}
for (const f of [mim, sup, probes]) {
  if (!existsSync(f)) {
    console.error(`missing ${relative(root, f)}; see demo/README.md to remake it`);
    process.exit(1);
  }
}
mkdirSync(outDir, { recursive: true });

const status = run(process.execPath, [
  cli, 'compare', mim, sup,
  '--images', probes,
  '--device', 'cpu',
  '--json', jsonOut,
  '--html', htmlOut,
]);
if (status !== 0) {
  console.error(`model-lens compare failed (exit ${status})`);
  process.exit(status);
}

const r = JSON.parse(readFileSync(jsonOut, 'utf8'));
const c = r.compare;
if (!c) {
  console.error(`${relative(root, jsonOut)} has no compare block`);
  process.exit(1);
}

const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
const offDiagonal = (m) => mean(m.flatMap((row, i) => row.filter((_, j) => j !== i)));
const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const pad = (s, n) => String(s).padStart(n);

const A = { ad: r.attentionDistance.perHead, hd: r.headDiversity.perLayer, cka: r.cka.matrix };
const B = { ad: c.attentionDistance.perHead, hd: c.headDiversity.perLayer, cka: c.cka.matrix };
const row = (label, xs, d = 2) => console.log(`  ${label.padEnd(34)}${xs.map((v) => pad(f(v, d), 7)).join('')}`);
const layers = A.ad.map((_, l) => l);

console.log('');
console.log('The paper\'s three findings on this pair (A = MIM, B = supervised):');
console.log(`  ${'layer'.padEnd(34)}${layers.map((l) => pad(l + 1, 7)).join('')}`);
console.log('  1. locality: attention distance of the most local head (px)');
row('A  min over heads', A.ad.map((h) => Math.min(...h)));
row('B  min over heads', B.ad.map((h) => Math.min(...h)));
row('A  mean over heads', A.ad.map(mean));
row('B  mean over heads', B.ad.map(mean));
console.log('  2. head diversity (mean KL between heads, nats)');
row('A', A.hd, 3);
row('B', B.hd, 3);
console.log('  3. cross-layer CKA, mean over l != m');
console.log(`  ${'A'.padEnd(34)}${pad(f(offDiagonal(A.cka), 3), 7)}`);
console.log(`  ${'B'.padEnd(34)}${pad(f(offDiagonal(B.cka), 3), 7)}`);
// The same metrics computed independently in PyTorch float64 (demo/training/analyze.py) when the pair was made.
const refPath = join(demo, 'training', 'reference.json');
if (existsSync(refPath)) {
  const ref = JSON.parse(readFileSync(refPath, 'utf8'));
  const flat = (x) => (Array.isArray(x) ? x.flatMap(flat) : [x]);
  const maxDiff = (a, b) => {
    const fa = flat(a);
    const fb = flat(b);
    if (fa.length !== fb.length) return Infinity;
    return Math.max(...fa.map((v, i) => Math.abs(v - fb[i])));
  };
  const checks = [
    ['attention distance A', r.attentionDistance.perHead, ref.mim.attentionDistance, 1e-3],
    ['attention distance B', c.attentionDistance.perHead, ref.sup.attentionDistance, 1e-3],
    ['head diversity A', r.headDiversity.perHead, ref.mim.headDiversity, 1e-3],
    ['head diversity B', c.headDiversity.perHead, ref.sup.headDiversity, 1e-3],
    ['CKA A', r.cka.matrix, ref.mim.cka, 1e-4],
    ['CKA B', c.cka.matrix, ref.sup.cka, 1e-4],
    ['cross-model CKA', c.crossCka, ref.crossCka, 1e-4],
  ];
  const bad = checks.filter(([, a, b, tol]) => !(maxDiff(a, b) <= tol));
  const worst = checks.map(([name, a, b]) => `${name} ${maxDiff(a, b).toExponential(1)}`).join(', ');
  if (r.probe.batchSize !== ref.batch || r.probe.count !== ref.probes) {
    console.log(`\n(PyTorch reference not compared: it used ${ref.probes} probes in batches of ${ref.batch})`);
  } else if (bad.length > 0) {
    console.error(`\nMISMATCH with the PyTorch float64 reference (${relative(root, refPath)}): ${worst}`);
    process.exitCode = 1;
  } else {
    console.log(`\nMatches the PyTorch float64 reference (max |diff|: ${worst}).`);
  }
}
// One line per finding, computed from the numbers above (the wording of demo/RESULTS.md's verdicts).
const minA = A.ad.map((h) => Math.min(...h));
const maxA = A.ad.map((h) => Math.max(...h));
const minB = Math.min(...B.ad.flat());
const localLayers = layers.filter((l) => (maxA[l] ?? Infinity) < minB);
const last = layers.length - 1;
const ckaA = offDiagonal(A.cka);
const ckaB = offDiagonal(B.cka);
const span = (ls) => (ls.length === 0 ? 'no layer' : ls.length === 1 ? `layer ${ls[0] + 1}` : `layers ${ls[0] + 1}–${ls[ls.length - 1] + 1}`);
const globalA = layers.filter((l) => (minA[l] ?? 0) >= minB);
console.log('');
console.log('Verdicts (details: demo/RESULTS.md):');
console.log(`  1. locality: ${localLayers.length === layers.length ? 'reproduced' : localLayers.length > 0 ? 'partly reproduced' : 'not reproduced'}; every MIM head is more local than any supervised head in ${span(localLayers)}${globalA.length ? `, but MIM ${span(globalA)} ${globalA.length > 1 ? 'are' : 'is'} as global as the supervised model` : ''}`);
console.log(`  2. head diversity in the last layer: ${A.hd[last] > B.hd[last] ? 'reproduced' : 'not reproduced, reversed'}; MIM ${f(A.hd[last], 3)} vs supervised ${f(B.hd[last], 3)} nats`);
console.log(`  3. cross-layer CKA: ${ckaA > ckaB ? 'reproduced in direction' : 'not reproduced'}; MIM ${f(ckaA, 3)} vs supervised ${f(ckaB, 3)} (an untrained network also scores about 1.0)`);
console.log('');
console.log(`Ran on ${r.device.used} (the time is above). What these numbers mean: demo/RESULTS.md`);
console.log(`JSON report: ${relative(process.cwd(), jsonOut) || jsonOut}`);
console.log(`HTML report: ${relative(process.cwd(), htmlOut) || htmlOut}`);
