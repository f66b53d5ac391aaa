// The measured process of `npm run bench`: builds the random ViT-B/16 in-process, runs the same job
// loop as the worker on synthetic probes, and prints one JSON line with timings and peak RSS (VmHWM).
import { readFileSync } from 'node:fs';
import { runAnalysis } from '../src/worker/analysisJob';
import { prepareFromSpec } from '../src/worker/preparedModel';
import { gemmPeakGflops } from './gemmPeak';
import { randomVit, vitFlopsPerImage } from './vitB';
import { randomSwinT, swinFlopsPerImage } from './swinT';
import { prepareFromSwinSpec } from '../src/worker/swinPrep';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function vmHwmMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
  } catch {
    return process.memoryUsage().rss / 1048576;
  }
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main(): Promise<void> {
  if (process.argv.includes('--gemm')) {
    // The MLP's first product of one batch of ViT-B/16: (batch·197) × 768 × 3072.
    const batch = arg('--batch', 16);
    process.stdout.write(JSON.stringify({ gemmGflops: await gemmPeakGflops(batch * 197, 768, 3072) }) + '\n');
    return;
  }
  const probes = arg('--probes', 32);
  const batch = arg('--batch', 16);
  const controller = new AbortController();
  const hooks = { signal: controller.signal, progress: (): void => undefined, log: (): void => undefined };
  // `--model swin-t`: the Swin-T of bench/swinT.ts instead of ViT-B/16 (same job loop, same probes).
  const swin = process.argv.includes('swin-t') ? randomSwinT() : undefined;
  // `--model clip-b16` / `dinov2-b14`: the CLIP and DINOv2 ViT-B towers at 224 px (same job loop and probes).
  const flavour = process.argv.includes('clip-b16') ? { flavour: 'clip' as const } : process.argv.includes('dinov2-b14') ? { flavour: 'dinov2' as const, patch: 14 } : {};
  const vit = swin ? undefined : randomVit(flavour);
  const result = swin
    ? await runAnalysis({ file: 'random-swin-t', limit: probes, batchSize: batch, device: 'cpu' }, hooks, () => prepareFromSwinSpec('random-swin-t', swin.summary, swin.spec, swin.weights))
    : await runAnalysis({ file: 'random-vit-b16', limit: probes, batchSize: batch, device: 'cpu' }, hooks, () =>
      // `--no-per-image`: the graph without per-image outputs, hence no special mass, entropy or intervals.
      prepareFromSpec('random-vit-b16', vit!.summary, vit!.spec, vit!.weights, process.argv.includes('--no-per-image') ? { perImage: false } : {}));
  const flops = (swin ? swinFlopsPerImage(swin.spec) : vitFlopsPerImage(vit!.spec)) * result.probe.count;
  process.stdout.write(JSON.stringify({
    images: result.probe.count,
    params: swin ? swin.params : vit!.params,
    gflopPerImage: flops / result.probe.count / 1e9,
    device: result.device,
    timing: result.timing,
    imagesPerSecond: result.probe.count / (result.timing.inferenceMs / 1000),
    gflopPerSecond: flops / 1e9 / (result.timing.inferenceMs / 1000),
    peakRssMb: vmHwmMb(),
    // CPU seconds of the whole process: steadier than wall time on a shared machine.
    cpuS: cpuSeconds(),
    adLayer0: result.attentionDistance.perLayer[0],
    intervals: result.attentionDistance.ci95 !== undefined,
    ckaBatches: result.cka.batches,
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
