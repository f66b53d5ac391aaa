// Writes test/fixtures/results/{vitb16-mim,vitb16-compare}.json: realistic, deterministic sample results
// (ViT-B/16, 12 layers × 12 heads) for looking at the analysis view and the HTML report. The numbers are
// shaped like the MIM paper's figures (MIM: local heads and diverse heads in every layer, CKA near 1;
// supervised: global late layers, diversity collapsing late, CKA decaying off the diagonal); they are
// NOT engine output. Run: node scripts/makeSampleResults.mjs
import { writeFileSync, mkdirSync } from 'node:fs';

let seed = 12345;
function rand() {
  // mulberry32: small deterministic PRNG so the fixture is reproducible.
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const L = 12, H = 12;
const round = (v, d = 6) => Number(v.toFixed(d));
const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;

function metric(fn) {
  const perHead = Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => round(fn(l, h))));
  return { perHead, perLayer: perHead.map((r) => round(mean(r))) };
}

function cka(fn) {
  return Array.from({ length: L }, (_, i) => Array.from({ length: L }, (_, j) => (i === j ? 1 : round(fn(i, j)))));
}
function symmetric(m) {
  for (let i = 0; i < L; i++) for (let j = 0; j < i; j++) m[i][j] = m[j][i];
  return m;
}

// MIM (SimMIM-like): every layer has local and global heads.
const mimAd = metric((l, h) => 18 + (h / (H - 1)) * (70 + 2.5 * l) + rand() * 12);
const mimHd = metric((l, h) => 2.6 + 0.08 * l + rand() * 1.6);
const mimCka = symmetric(cka((i, j) => Math.max(0, 1 - 0.008 * Math.abs(i - j) - rand() * 0.03)));
// Supervised (DeiT-like): local early, global late; diversity collapses in the last layers.
const supAd = metric((l, h) => (l < 4 ? 25 + 8 * l + h * (3 + l) : 70 + 4.2 * l + rand() * (l > 8 ? 4 : 18)) + rand() * 6);
const supHd = metric((l, h) => (l < 8 ? 2.4 + rand() * 1.5 - 0.05 * l : Math.max(0.02, 1.8 - 0.45 * (l - 8)) * (0.6 + rand() * 0.8)));
const supCka = symmetric(cka((i, j) => Math.max(0.05, Math.exp(-0.22 * Math.abs(i - j)) - rand() * 0.05)));
const cross = Array.from({ length: L }, (_, i) => Array.from({ length: L }, (_, j) => round(Math.max(0.02, 0.92 * Math.exp(-0.16 * Math.abs(i - j)) - 0.02 * Math.max(i, j) * (i > 8 ? 1 : 0.3) - rand() * 0.04))));

function model(file, family, dtype) {
  return { file, format: 'pytorch-zip', family, layers: L, heads: H, headsSource: 'checkpoint-args', dim: 768, patchSize: [16, 16], imageSize: [224, 224], specialTokens: 1, params: 85798656, dtype, dtypes: { [dtype]: 152 } };
}
const probe = { source: 'folder', count: 66, batchSize: 16, preprocess: { size: [224, 224], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'bilinear-shorter-side+center-crop', folder: '/home/researcher/data/imagenet-val-probe' }, hash: 'sha256:5e1f0c' };

const single = {
  schema: 'model-lens/analysis@1',
  model: model('/home/researcher/runs/simmim_vitb16_800ep/checkpoint-799.pth', 'simmim', 'F32'),
  probe,
  device: { requested: 'auto', used: 'cpu', fallbackReason: 'no GPU execution provider available (CUDA provider libraries not found)' },
  attentionDistance: { ...mimAd, unit: 'px' },
  headDiversity: { ...mimHd, unit: 'nats' },
  cka: { matrix: mimCka, batches: 4, estimator: 'linear-minibatch-unbiased' },
  timing: { totalMs: 18234, inferenceMs: 15120, loadMs: 1890 },
  warnings: ['The last batch has 2 images (fewer than 4) and was left out of CKA.'],
};
const compare = {
  ...single,
  probe: { ...probe, source: 'synthetic', count: 64, preprocess: { ...probe.preprocess, folder: undefined } },
  device: { requested: 'auto', used: 'cpu' },
  warnings: ['Probe images are synthetic; use a folder of natural images for paper-grade numbers.'],
  compare: {
    model: model('/home/researcher/runs/deit_base_patch16_224/model_best.safetensors', 'deit', 'F16'),
    attentionDistance: { ...supAd, unit: 'px' },
    headDiversity: { ...supHd, unit: 'nats' },
    cka: { matrix: supCka, batches: 4, estimator: 'linear-minibatch-unbiased' },
    crossCka: cross,
  },
  timing: { totalMs: 35110, inferenceMs: 30480 },
};
delete compare.probe.preprocess.folder;
mkdirSync('test/fixtures/results', { recursive: true });
writeFileSync('test/fixtures/results/vitb16-mim.json', `${JSON.stringify(single, null, 2)}\n`);
writeFileSync('test/fixtures/results/vitb16-compare.json', `${JSON.stringify(compare, null, 2)}\n`);
console.log('wrote test/fixtures/results/vitb16-mim.json, vitb16-compare.json');
