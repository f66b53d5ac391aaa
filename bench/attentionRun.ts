// The attention view's latencies on a random ViT-B/16 (224 px, CPU), in this process with the worker's
// AttentionService: building the warm session, the first map of a new image on the warm session (one
// forward pass), and switches between heads, layers and kinds of an image already fetched (no inference).
// Prints one JSON line. Options: --images N (5) --switches N (60)
import { AttentionService, modelFromSpec } from '../src/worker/attentionService';
import type { AttentionMapParams } from '../src/protocol/workerProtocol';
import { randomVit } from './vitB';

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
  for (let i = 1; i <= opt('--images', 5); i++) {
    const t = performance.now();
    await service.map({ ...base(i), layer: 11, kind: 'cls' });
    first.push(performance.now() - t);
  }
  const switches: number[] = [];
  const rollouts: number[] = [];
  const kinds = ['cls', 'query'] as const;
  for (let k = 0; k < opt('--switches', 60); k++) {
    const t = performance.now();
    await service.map({ file: vit.summary.file, device: 'cpu', image: { synthetic: 1 }, layer: k % 12, kind: kinds[k % 2]!, query: [k % 14, (3 * k) % 14] });
    switches.push(performance.now() - t);
  }
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    await service.map({ file: vit.summary.file, device: 'cpu', image: { synthetic: 1 }, layer: 11, kind: 'rollout' });
    rollouts.push(performance.now() - t);
  }
  await service.release();
  console.log(JSON.stringify({ sessionMs, firstRequestMs: warmupMs, firstMapWarmMs: median(first), firstMapWarmMaxMs: Math.max(...first), cachedSwitchMs: median(switches), cachedSwitchMaxMs: Math.max(...switches), rollout12Ms: median(rollouts) }));
}

void main();
