// The attention view's latencies on a random ViT-B/16 (224 px, CPU), in this process with the worker's
// AttentionService: building the warm session, the first map of a new image on the warm session (one
// forward pass), and switches between heads, layers and kinds of an image already fetched (no inference).
// Prints one JSON line (wall and CPU time: on a loaded machine CPU time / cores is the idle-machine wall time).
// Options: --images N (5) --switches N (60)
import { AttentionService, modelFromSpec } from '../src/worker/attentionService';
import type { AttentionMapParams } from '../src/protocol/workerProtocol';
import { randomVit } from './vitB';
import { availableParallelism, loadavg } from 'node:os';

const argv = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const vit = randomVit();
  let sessionMs = 0;
  const service = new AttentionService(async (p, key) => {
    const t = performance.now();
    const m = await modelFromSpec(key, vit.summary.file, vit.spec, vit.weights, p.device);
    sessionMs = performance.now() - t;
    return m;
  });
  const base = (image: number): Omit<AttentionMapParams, 'layer' | 'kind'> => ({ file: vit.summary.file, device: 'cpu', image: { synthetic: image }, withImage: true });
  const tw = performance.now();
  await service.map({ ...base(0), layer: 11, kind: 'cls' });
  const warmupMs = performance.now() - tw;
  const first: number[] = [];
  const firstCpu: number[] = [];
  const images = opt('--images', 5);
  for (let i = 1; i <= images; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await service.map({ ...base(i), layer: 11, kind: 'cls' });
    first.push(performance.now() - t);
    const d = process.cpuUsage(c);
    firstCpu.push((d.user + d.system) / 1000);
  }
  const switches: number[] = [];
  const rollouts: number[] = [];
  const kinds = ['cls', 'query'] as const;
  for (let k = 0; k < opt('--switches', 60); k++) {
    const t = performance.now();
    await service.map({ file: vit.summary.file, device: 'cpu', image: { synthetic: images }, layer: k % 12, kind: kinds[k % 2]!, query: [k % 14, (3 * k) % 14] });
    switches.push(performance.now() - t);
  }
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    await service.map({ file: vit.summary.file, device: 'cpu', image: { synthetic: images }, layer: 11, kind: 'rollout' });
    rollouts.push(performance.now() - t);
  }
  await service.release();
  console.log(JSON.stringify({ sessionMs, firstRequestMs: warmupMs, firstMapWarmMs: median(first), firstMapWarmMaxMs: Math.max(...first), firstMapCpuMs: median(firstCpu), cores: availableParallelism(), load: loadavg()[0], cachedSwitchMs: median(switches), cachedSwitchMaxMs: Math.max(...switches), rollout12Ms: median(rollouts) }));
}

void main();
