// A Swin-T-sized model with random weights (microsoft/timm layout: patch 4, window 7, 224 px, depths
// 2-2-6-2, heads 3-6-12-24, embed 96), for the benchmark. Weights are generated on demand, deterministic.
import type { ModelSummary } from '../src/model/modelTypes';
import type { SwinBlockWeights, SwinSpec, SwinStageWeights } from '../src/model/swinTypes';
import { fillUniform, nameState } from './vitB';

export interface RandomSwin {
  spec: SwinSpec;
  summary: ModelSummary;
  weights: (name: string) => Promise<Float32Array>;
  params: number;
}

export function randomSwinT(seed = 1): RandomSwin {
  const embed = 96;
  const depths = [2, 2, 6, 2];
  const heads = [3, 6, 12, 24];
  const window = 7;
  const sizes = new Map<string, { len: number; kind: 'rand' | 'ones' | 'zeros' }>();
  const add = (name: string, len: number, kind: 'rand' | 'ones' | 'zeros' = 'rand'): string => {
    sizes.set(name, { len, kind });
    return name;
  };
  const stages: SwinStageWeights[] = depths.map((depth, s) => {
    const d = embed * 2 ** s;
    const blocks: SwinBlockWeights[] = [];
    for (let j = 0; j < depth; j++) {
      const p = `layers.${s}.blocks.${j}.`;
      blocks.push({
        ln1W: add(`${p}norm1.weight`, d, 'ones'), ln1B: add(`${p}norm1.bias`, d, 'zeros'),
        qkvW: add(`${p}attn.qkv.weight`, 3 * d * d), qkvB: add(`${p}attn.qkv.bias`, 3 * d, 'zeros'),
        relPosTable: add(`${p}attn.relative_position_bias_table`, (2 * window - 1) ** 2 * heads[s]!),
        projW: add(`${p}attn.proj.weight`, d * d), projB: add(`${p}attn.proj.bias`, d, 'zeros'),
        ln2W: add(`${p}norm2.weight`, d, 'ones'), ln2B: add(`${p}norm2.bias`, d, 'zeros'),
        fc1W: add(`${p}mlp.fc1.weight`, 4 * d * d), fc1B: add(`${p}mlp.fc1.bias`, 4 * d, 'zeros'),
        fc2W: add(`${p}mlp.fc2.weight`, 4 * d * d), fc2B: add(`${p}mlp.fc2.bias`, d, 'zeros'),
      });
    }
    const st: SwinStageWeights = { depth, heads: heads[s]!, dim: d, window, pretrainedWindow: 0, blocks };
    if (s < depths.length - 1) {
      const m = `layers.${s}.downsample.`;
      st.merge = { reductionW: add(`${m}reduction.weight`, 8 * d * d), normW: add(`${m}norm.weight`, 4 * d, 'ones'), normB: add(`${m}norm.bias`, 4 * d, 'zeros') };
    }
    return st;
  });
  const spec: SwinSpec = {
    family: 'swin', version: 1, inChans: 3, patchSize: [4, 4], imageSize: [224, 224], embedDim: embed, lnEps: 1e-5,
    mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
    weights: {
      patchW: add('patch_embed.proj.weight', embed * 3 * 16), patchB: add('patch_embed.proj.bias', embed, 'zeros'),
      patchNormW: add('patch_embed.norm.weight', embed, 'ones'), patchNormB: add('patch_embed.norm.bias', embed, 'zeros'),
      stages,
    },
  };
  let params = 0;
  for (const v of sizes.values()) params += v.len;
  const weights = async (name: string): Promise<Float32Array> => {
    const s = sizes.get(name);
    if (!s) throw new Error(`no weight ${name}`);
    const out = new Float32Array(s.len);
    if (s.kind === 'ones') out.fill(1);
    else if (s.kind === 'rand') fillUniform(out, nameState(seed, name), 0.02);
    return out;
  };
  const layers = depths.reduce((a, b) => a + b, 0);
  const summary: ModelSummary = {
    file: '(random Swin-T, window 7, 224 px)', format: 'in-memory', family: 'swin',
    layers, heads: 24, headsSource: 'weights', dim: embed, patchSize: [4, 4], imageSize: [224, 224], specialTokens: 0,
    params, dtype: 'F32', dtypes: { F32: params }, headsPerLayer: depths.flatMap((d, s) => Array.from({ length: d }, () => heads[s]!)),
  };
  return { spec, summary, weights, params };
}

/** Multiply-accumulates ×2 of one Swin forward pass at one image (reductions excluded). */
export function swinFlopsPerImage(spec: SwinSpec): number {
  const p = spec.patchSize[0];
  let grid = spec.imageSize[0] / p;
  let flops = 2 * grid * grid * spec.embedDim * spec.inChans * p * p;
  spec.weights.stages.forEach((st, s) => {
    const n = grid * grid;
    const c = st.dim;
    const w = Math.min(st.window, grid);
    const perBlock = 2 * n * c * 3 * c + 2 * 2 * n * w * w * c + 2 * n * c * c + 2 * 2 * n * c * 4 * c;
    flops += st.depth * perBlock;
    if (s < spec.weights.stages.length - 1) {
      grid /= 2;
      flops += 2 * grid * grid * 4 * c * 2 * c;
    }
  });
  return flops;
}
