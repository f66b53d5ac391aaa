// `npm run bench -- --profile`: one ViT-B/16 analysis graph, one warm-up batch, then one profiled
// batch with onnxruntime's profiler; prints time per operator type (and GFLOP/s for the products),
// and the GEMM peak of this machine measured with onnxruntime on the model's own largest product
// (tokens × D × 4D), so each optimisation can be chosen from data.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnxruntime } from '../src/worker/ortRuntime';
import { sessionOptions } from '../src/worker/devices';
import { buildAnalysisGraph } from '../src/analysis/graph/vitGraph';
import { gemmPeakGflops } from './gemmPeak';
import { randomVit } from './vitB';

interface TraceEvent { cat?: string; name?: string; dur?: number; args?: { op_name?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> } }

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

/** FLOPs of a MatMul/Gemm/FusedMatMul node: 2 · (output elements) · K, K the last dim of the first input. */
function productFlops(e: TraceEvent): number {
  const a = Object.values(e.args?.input_type_shape?.[0] ?? {})[0];
  const out = Object.values(e.args?.output_type_shape?.[0] ?? {})[0];
  if (!a || !out || a.length < 2) return 0;
  return 2 * out.reduce((x, y) => x * y, 1) * a[a.length - 1]!;
}

async function main(): Promise<void> {
  const batch = arg('--batch', 16);
  const ort = onnxruntime();
  const vit = randomVit();
  const graph = await buildAnalysisGraph(vit.spec, vit.weights, { file: 'random-vit-b16' });
  const prefix = join(tmpdir(), `model-lens-profile-${process.pid}`);
  const session = await ort.InferenceSession.create(graph.model, { ...sessionOptions('cpu'), enableProfiling: true, profileFilePrefix: prefix });
  const [ih, iw] = vit.spec.imageSize;
  const pixels = new Float32Array(batch * 3 * ih * iw).map((_, i) => Math.sin(i * 0.001));
  const feed = { [graph.inputName]: new ort.Tensor('float32', pixels, [batch, 3, ih, iw]) };
  const tw = performance.now();
  await session.run(feed); // warm-up, profiled too; only the second run is counted
  const firstRunMs = performance.now() - tw;
  const t0 = performance.now();
  await session.run(feed);
  const runMs = performance.now() - t0;
  session.endProfiling();
  await session.release();
  // onnxruntime-node does not return the trace's name: it is the prefix plus a timestamp.
  const base = `model-lens-profile-${process.pid}`;
  const found = readdirSync(tmpdir()).filter((f) => f.startsWith(base) && f.endsWith('.json'));
  if (found.length !== 1) throw new Error(`expected one profile trace ${base}*.json in ${tmpdir()}, found ${found.length}`);
  const file = join(tmpdir(), found[0]!);
  const events = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[];
  rmSync(file, { force: true });
  const nodes = events.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time'));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const lastRunStart = (runs[runs.length - 1] as { ts?: number } | undefined)?.ts ?? 0;
  const counted = nodes.filter((e) => ((e as { ts?: number }).ts ?? 0) >= lastRunStart);
  const byOp = new Map<string, { us: number; count: number; flops: number }>();
  for (const e of counted) {
    const op = e.args?.op_name ?? '?';
    const row = byOp.get(op) ?? { us: 0, count: 0, flops: 0 };
    row.us += e.dur ?? 0;
    row.count++;
    if (op === 'MatMul' || op === 'Gemm' || op === 'FusedMatMul') row.flops += productFlops(e);
    byOp.set(op, row);
  }
  const totalUs = [...byOp.values()].reduce((s, r) => s + r.us, 0);
  const t = vit.spec.specialTokens + (ih / vit.spec.patchSize[0]) * (iw / vit.spec.patchSize[1]);
  const peak = await gemmPeakGflops(batch * t, vit.spec.dim, vit.spec.mlpDim, 5);
  const rows = [...byOp.entries()].sort((a, b) => b[1].us - a[1].us).map(([op, r]) => ({
    op, nodes: r.count, ms: r.us / 1000, share: r.us / totalUs, gflops: r.flops > 0 ? r.flops / 1e9 / (r.us / 1e6) : undefined,
  }));
  process.stdout.write(JSON.stringify({ batch, firstRunMs, runMs, kernelMs: totalUs / 1000, gemmPeakGflops: peak, gemmShape: [batch * t, vit.spec.dim, vit.spec.mlpDim], ops: rows }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
