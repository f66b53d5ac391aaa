// The single-precision GEMM rate of this machine through onnxruntime's CPU provider, on one of the
// model's own products (tokens·batch × D × 4D): the ceiling the analysis graph's products can reach.
import { onnxruntime } from '../src/worker/ortRuntime';
import { sessionOptions } from '../src/worker/devices';
import { OnnxDataType, OnnxGraphBuilder } from '../src/analysis/graph/onnxBuilder';

/** Median GFLOP/s (2·M·K·N per product) over `reps` timed runs after one warm-up. */
export async function gemmPeakGflops(m: number, k: number, n: number, reps = 5): Promise<number> {
  const ort = onnxruntime();
  const g = new OnnxGraphBuilder('gemm_peak');
  const x = g.input('x', OnnxDataType.FLOAT, [m, k]);
  const w = new Float32Array(k * n);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  g.output(g.op('MatMul', [x, g.f32('w', [k, n], w)], undefined, 'y'), OnnxDataType.FLOAT, [m, n]);
  const session = await ort.InferenceSession.create(g.toModel(), sessionOptions('cpu'));
  const feed = { x: new ort.Tensor('float32', new Float32Array(m * k).fill(0.01), [m, k]) };
  await session.run(feed);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await session.run(feed);
    times.push(performance.now() - t0);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return (2 * m * k * n) / 1e9 / (times[Math.floor(times.length / 2)]! / 1000);
}
