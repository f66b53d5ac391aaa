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

const t0 = Date.now();
const status = run(process.execPath, [
  cli, 'compare', mim, sup,
  '--images', probes,
  '--device', 'cpu',
  '--json', jsonOut,
  '--html', htmlOut,
], { stdio: ['ignore', 'ignore', 'inherit'] });
if (status !== 0) {
  console.error(`model-lens compare failed (exit ${status})`);
  process.exit(status);
}
const seconds = (Date.now() - t0) / 1000;

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

const A = { name: 'MIM (SimMIM)', ad: r.attentionDistance.perHead, hd: r.headDiversity.perLayer, cka: r.cka.matrix };
const B = { name: 'supervised', ad: c.attentionDistance.perHead, hd: c.headDiversity.perLayer, cka: c.cka.matrix };

console.log('');
console.log(`Model Lens demo: ${relative(root, mim)} (A) vs ${relative(root, sup)} (B)`);
console.log(`${r.model.layers} layers x ${r.model.heads} heads, dim ${r.model.dim}, patch ${r.model.patchSize?.join('x')}, ` +
  `${r.probe.count} probe images (${relative(root, probes)}), device ${r.device.used}, ${f(seconds, 1)} s`);
console.log('');
console.log('        attention distance (px): min head / mean      head diversity (nats)   cross-model');
console.log(`layer   ${pad('A: MIM', 16)}  ${pad('B: supervised', 18)}      ${pad('A', 7)}  ${pad('B', 7)}         CKA(A_l,B_l)`);
for (let l = 0; l < A.ad.length; l++) {
  const a = A.ad[l];
  const b = B.ad[l] ?? [];
  const cross = c.crossCka?.[l]?.[l];
  console.log(`${pad(l, 5)}   ${pad(`${f(Math.min(...a))} / ${f(mean(a))}`, 16)}  ${pad(`${f(Math.min(...b))} / ${f(mean(b))}`, 18)}      ` +
    `${pad(f(A.hd[l], 3), 7)}  ${pad(f(B.hd[l] ?? NaN, 3), 7)}         ${pad(cross === undefined ? '-' : f(cross, 3), 6)}`);
}
console.log('');
console.log(`cross-layer CKA, mean off-diagonal: A ${f(offDiagonal(A.cka), 3)}   B ${f(offDiagonal(B.cka), 3)}   (${r.cka.batches} batches)`);
for (const w of r.warnings ?? []) console.log(`warning: ${w}`);
console.log('');
console.log(`JSON report: ${relative(process.cwd(), jsonOut) || jsonOut}`);
console.log(`HTML report: ${relative(process.cwd(), htmlOut) || htmlOut}`);
