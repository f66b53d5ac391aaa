// `npm run bench -- --session-reuse`: how a training-run timeline should run checkpoints of one
// architecture: a new session per checkpoint (weights as initializers, the session optimizes and prepacks
// them) or one session whose weights are graph inputs fed at every run. Prints one JSON line.
import { buildAnalysisGraph } from '../src/analysis/graph/vitGraph';
import { syntheticProbeSet, batchTensor } from '../src/analysis/probes';
import { createSessionOn } from '../src/worker/devices';
import { onnxruntime } from '../src/worker/ortRuntime';
import { randomVit } from './vitB';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

async function main(): Promise<void> {
  const checkpoints = arg('--checkpoints', 3);
  const probes = arg('--probes', 32);
  const batch = arg('--batch', 16);
  const vits = Array.from({ length: checkpoints }, (_, i) => randomVit({ dim: 384, heads: 6, seed: i + 1 }));
  const spec = vits[0]!.spec;
  const set = syntheticProbeSet(probes, spec.imageSize);
  const inputs = [...set.batches(batch, () => undefined)].map((b) => new (onnxruntime().Tensor)('float32', batchTensor(b, spec.imageSize, spec.mean!, spec.std!), [b.length, 3, ...spec.imageSize]));
  const ms = (t: number): number => performance.now() - t;
  const fresh = { buildMs: 0, sessionMs: 0, runMs: 0 };
  const fed = { buildMs: 0, sessionMs: 0, runMs: 0 };
  const sums: number[][] = [[], []];
  for (const vit of vits) {
    let t = performance.now();
    const g = await buildAnalysisGraph(vit.spec, vit.weights);
    fresh.buildMs += ms(t);
    t = performance.now();
    const s = await createSessionOn(g.model, 'cpu');
    fresh.sessionMs += ms(t);
    t = performance.now();
    for (const x of inputs) sums[0]!.push((await s.run({ pixel_values: x }))['attn_dist_sum']!.data[0] as number);
    fresh.runMs += ms(t);
    await s.release();
  }
  let session: Awaited<ReturnType<typeof createSessionOn>> | undefined;
  for (const vit of vits) {
    let t = performance.now();
    const g = await buildAnalysisGraph(vit.spec, vit.weights, { weightsAsInputs: true });
    fed.buildMs += ms(t);
    t = performance.now();
    session ??= await createSessionOn(g.model, 'cpu');
    fed.sessionMs += ms(t);
    const feeds: Record<string, InstanceType<ReturnType<typeof onnxruntime>['Tensor']>> = {};
    for (const w of g.weightFeeds ?? []) feeds[w.name] = new (onnxruntime().Tensor)('float32', w.data, w.dims);
    t = performance.now();
    for (const x of inputs) sums[1]!.push((await session.run({ ...feeds, pixel_values: x }))['attn_dist_sum']!.data[0] as number);
    fed.runMs += ms(t);
  }
  await session?.release();
  const maxRel = Math.max(...sums[0]!.map((v, i) => Math.abs(v - sums[1]![i]!) / Math.abs(v)));
  process.stdout.write(JSON.stringify({ checkpoints, probes, batch, newSessionPerCheckpoint: fresh, oneSessionWeightsFed: fed, maxRelDiffAttnDist: maxRel }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
