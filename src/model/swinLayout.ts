// Swin / SwinV2 layouts: timm (downsample at the end of a stage in older releases and the microsoft
// repository, at the start of the next stage in timm ≥ 0.9, buffers saved or not), microsoft/Swin-
// Transformer `{"model": ...}` (V1 and V2), SimMIM pretraining (`encoder.` prefix, mask token, decoder)
// and HuggingFace SwinModel / Swinv2Model (+ config.json). Reads names, shapes and config only.
import type { StageSummary } from './modelTypes';
import { blockLayout, sideFits, stageGrids, uniformDistance, validSides } from './swinGeometry';
import type { SwinBlockWeights, SwinSpec, SwinStageWeights } from './swinTypes';
import { namesIn, strayRefusal, unexplainedTensors } from './strayTensors';

/**
 * Tensors under a Swin's prefix that do not take part in the blocks' forward pass: the classifier (timm
 * `head.` / `head.fc.`, HF `classifier.` when the model is saved bare), the final norm (timm `norm`, HF
 * `layernorm`) and the mask token of masked pretraining (SimMIM `mask_token`, HF `embeddings.mask_token`).
 * The buffers (`relative_position_index`, `attn_mask`, `relative_coords_table`) are read and checked by the
 * graph builder, so they count as consumed, not as unused.
 */
const SWIN_UNUSED: readonly RegExp[] = [/^head\./, /^classifier\./, /^norm\.(weight|bias)$/, /^layernorm\.(weight|bias)$/, /^mask_token$/, /^embeddings\.mask_token$/];

/** What this module needs to know about a checkpoint. */
export interface SwinLookup {
  names: readonly string[];
  shape(name: string): number[] | undefined;
  /** Numbers (or number lists) found in the config under one of `keys` (any depth, case-insensitive). */
  configValues(keys: readonly string[]): unknown[];
  /** Model names from config, args and file name (e.g. `swin_tiny_patch4_window7_224`). */
  modelNames: readonly string[];
  mean: [number, number, number];
  std: [number, number, number];
  lnEps?: number;
}

export interface SwinRecognition {
  family: 'swin' | 'swinv2';
  layers: number;
  dim: number;
  patchSize: [number, number];
  imageSize: [number, number] | null;
  headsPerLayer: number[];
  /** Present when the input size and windows are known. */
  stages?: StageSummary[];
  details: Record<string, unknown>;
  spec?: SwinSpec;
  notAnalyzable?: string;
}

export interface Naming {
  style: 'timm' | 'hf';
  prefix: string;
  stage: (s: number) => string;
  block: (s: number, j: number) => string;
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function intSqrt(n: number): number | undefined {
  const r = Math.round(Math.sqrt(n));
  return r * r === n ? r : undefined;
}

/** Where a checkpoint keeps its Swin blocks (timm/microsoft or HuggingFace names), if it is a Swin. */
export function swinNaming(names: readonly string[], has: ReadonlySet<string>): Naming | undefined {
  const prefixes = (suffix: string): string[] =>
    names.filter((n) => n.endsWith(suffix)).map((n) => n.slice(0, n.length - suffix.length)).filter((p) => p === '' || p.endsWith('.')).sort((a, b) => a.length - b.length);
  for (const p of prefixes('layers.0.blocks.0.attn.proj.weight')) {
    if (has.has(`${p}patch_embed.proj.weight`)) return { style: 'timm', prefix: p, stage: (s) => `${p}layers.${s}.`, block: (s, j) => `${p}layers.${s}.blocks.${j}.` };
  }
  for (const p of prefixes('encoder.layers.0.blocks.0.attention.output.dense.weight')) {
    if (has.has(`${p}embeddings.patch_embeddings.projection.weight`)) {
      return { style: 'hf', prefix: p, stage: (s) => `${p}encoder.layers.${s}.`, block: (s, j) => `${p}encoder.layers.${s}.blocks.${j}.` };
    }
  }
  return undefined;
}

function countIndexed(names: readonly string[], head: string): number {
  const seen = new Set<number>();
  for (const n of names) {
    if (!n.startsWith(head)) continue;
    const m = /^(\d+)\./.exec(n.slice(head.length));
    if (m) seen.add(Number(m[1]));
  }
  let i = 0;
  while (seen.has(i)) i++;
  return i;
}

function blockNames(nm: Naming, b: string, has: (n: string) => boolean): SwinBlockWeights {
  const opt = (n: string): string | undefined => (has(n) ? n : undefined);
  if (nm.style === 'timm') {
    const a = `${b}attn.`;
    const w: SwinBlockWeights = {
      ln1W: `${b}norm1.weight`, ln1B: `${b}norm1.bias`,
      qkvW: `${a}qkv.weight`,
      projW: `${a}proj.weight`, projB: `${a}proj.bias`,
      ln2W: `${b}norm2.weight`, ln2B: `${b}norm2.bias`,
      fc1W: `${b}mlp.fc1.weight`, fc1B: `${b}mlp.fc1.bias`, fc2W: `${b}mlp.fc2.weight`, fc2B: `${b}mlp.fc2.bias`,
    };
    const o: Partial<SwinBlockWeights> = {
      qkvB: opt(`${a}qkv.bias`), qB: opt(`${a}q_bias`), vB: opt(`${a}v_bias`),
      relPosTable: opt(`${a}relative_position_bias_table`), relPosIndex: opt(`${a}relative_position_index`),
      attnMask: opt(`${b}attn_mask`), logitScale: opt(`${a}logit_scale`),
      cpbW1: opt(`${a}cpb_mlp.0.weight`), cpbB1: opt(`${a}cpb_mlp.0.bias`), cpbW2: opt(`${a}cpb_mlp.2.weight`),
      coordsTable: opt(`${a}relative_coords_table`),
    };
    return withDefined(w, o);
  }
  const a = `${b}attention.self.`;
  const w: SwinBlockWeights = {
    ln1W: `${b}layernorm_before.weight`, ln1B: `${b}layernorm_before.bias`,
    qW: `${a}query.weight`, kW: `${a}key.weight`, vW: `${a}value.weight`,
    projW: `${b}attention.output.dense.weight`, projB: `${b}attention.output.dense.bias`,
    ln2W: `${b}layernorm_after.weight`, ln2B: `${b}layernorm_after.bias`,
    fc1W: `${b}intermediate.dense.weight`, fc1B: `${b}intermediate.dense.bias`, fc2W: `${b}output.dense.weight`, fc2B: `${b}output.dense.bias`,
  };
  const o: Partial<SwinBlockWeights> = {
    qB: opt(`${a}query.bias`), kB: opt(`${a}key.bias`), vB: opt(`${a}value.bias`),
    relPosTable: opt(`${a}relative_position_bias_table`), relPosIndex: opt(`${a}relative_position_index`),
    logitScale: opt(`${a}logit_scale`),
    cpbW1: opt(`${a}continuous_position_bias_mlp.0.weight`), cpbB1: opt(`${a}continuous_position_bias_mlp.0.bias`), cpbW2: opt(`${a}continuous_position_bias_mlp.2.weight`),
    coordsTable: opt(`${a}relative_coords_table`),
  };
  return withDefined(w, o);
}

function withDefined(w: SwinBlockWeights, o: Partial<SwinBlockWeights>): SwinBlockWeights {
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (w as unknown as Record<string, string>)[k] = v;
  return w;
}

/** The first number (or per-stage list entry) under `keys`. */
function cfgNumber(l: SwinLookup, keys: readonly string[], stage?: number): number | undefined {
  for (const v of l.configValues(keys)) {
    if (isPosInt(v)) return v;
    if (Array.isArray(v) && stage !== undefined && isPosInt(v[stage])) return v[stage] as number;
    if (Array.isArray(v) && v.length === 2 && isPosInt(v[0]) && v[0] === v[1]) return v[0];
  }
  return undefined;
}

function nameNumber(l: SwinLookup, re: RegExp): number | undefined {
  for (const n of l.modelNames) {
    const m = re.exec(n.toLowerCase());
    if (m && m[1]) return Number(m[1]);
  }
  return undefined;
}

/** Recognizes a Swin / SwinV2 checkpoint, or returns undefined when the names are not a Swin's. */
export function recognizeSwinLayout(l: SwinLookup): SwinRecognition | undefined {
  const nm = swinNaming(l.names, new Set(l.names));
  if (!nm) return undefined;
  const has = (n: string): boolean => l.shape(n) !== undefined;
  const P = nm.prefix;
  const details: Record<string, unknown> = {};
  const patchW = nm.style === 'timm' ? `${P}patch_embed.proj.weight` : `${P}embeddings.patch_embeddings.projection.weight`;
  const pShape = l.shape(patchW)!;
  const embed = pShape[0] ?? 0;
  const patch: [number, number] = [pShape[2] ?? 0, pShape[3] ?? 0];
  const stagesN = countIndexed(l.names, nm.style === 'timm' ? `${P}layers.` : `${P}encoder.layers.`);
  const v2 = has(`${nm.block(0, 0)}${nm.style === 'timm' ? 'attn.' : 'attention.self.'}logit_scale`);
  const family = v2 ? 'swinv2' : 'swin';
  const problems: string[] = [];

  // Merges, whichever stage index the file files them under: matched by their input width.
  const merges = new Map<number, { reductionW: string; normW: string; normB: string }>();
  const stages: SwinStageWeights[] = [];
  const windowsFromWeights: Array<number | undefined> = [];
  for (let s = 0; s < stagesN; s++) {
    const depth = countIndexed(l.names, `${nm.stage(s)}blocks.`);
    const blocks: SwinBlockWeights[] = [];
    for (let j = 0; j < depth; j++) blocks.push(blockNames(nm, nm.block(s, j), has));
    const b0 = blocks[0];
    const dim = b0 ? (l.shape(b0.ln1W)?.[0] ?? 0) : 0;
    let heads = 0;
    let window: number | undefined;
    if (b0?.relPosTable) {
      const t = l.shape(b0.relPosTable) ?? [];
      heads = t[1] ?? 0;
      const side = intSqrt(t[0] ?? 0);
      if (side !== undefined && side % 2 === 1) window = (side + 1) / 2;
    } else if (b0?.cpbW2) {
      heads = l.shape(b0.cpbW2)?.[0] ?? 0;
      const ct = b0.coordsTable ? l.shape(b0.coordsTable) : undefined;
      if (ct && ct.length === 4) window = ((ct[1] ?? 0) + 1) / 2;
    }
    if (window === undefined) {
      const maskBlock = blocks.find((b) => b.attnMask);
      const m = maskBlock?.attnMask ? l.shape(maskBlock.attnMask) : undefined;
      if (m && m.length === 3) window = intSqrt(m[1] ?? 0);
    }
    windowsFromWeights.push(window);
    stages.push({ depth, heads, dim, window: window ?? 0, pretrainedWindow: cfgNumber(l, ['pretrained_window_sizes', 'pretrained_window_size'], s) ?? 0, blocks });
    const red = `${nm.stage(s)}downsample.reduction.weight`;
    const rs = l.shape(red);
    if (rs && rs.length === 2) merges.set((rs[1] ?? 0) / 4, { reductionW: red, normW: `${nm.stage(s)}downsample.norm.weight`, normB: `${nm.stage(s)}downsample.norm.bias` });
  }
  const downsampleAt = merges.size === 0 ? 'none' : has(`${nm.stage(0)}downsample.reduction.weight`) ? 'stage end' : 'next stage start';
  details['downsample'] = downsampleAt;
  for (let s = 0; s < stages.length - 1; s++) {
    const m = merges.get(stages[s]!.dim);
    if (m) stages[s]!.merge = m;
  }
  const headsPerStage = stages.map((s) => s.heads);
  const depths = stages.map((s) => s.depth);
  const dims = stages.map((s) => s.dim);
  const layers = depths.reduce((a, b) => a + b, 0);
  if (stages.some((s) => !(s.heads > 0))) problems.push('the heads of some stage cannot be read from the weights');

  // Window: weights (bias table, coordinates table, mask) > config > model name.
  const cfgWindow = cfgNumber(l, ['window_size', 'window_sizes']) ?? nameNumber(l, /window(\d{1,3})/);
  // Image size: config > the first stage's mask > model name > one window in the last stage.
  let imageSize: [number, number] | undefined;
  let sizeSource = '';
  const cfgSize = cfgNumber(l, ['image_size', 'img_size']);
  if (cfgSize) {
    imageSize = [cfgSize, cfgSize];
    sizeSource = 'config';
  }
  const mask0 = stages[0]?.blocks.find((b) => b.attnMask)?.attnMask;
  const ms = mask0 ? l.shape(mask0) : undefined;
  const w0 = windowsFromWeights[0] ?? cfgWindow;
  if (!imageSize && ms && ms.length === 3 && w0 !== undefined) {
    const side = intSqrt(ms[0] ?? 0);
    if (side !== undefined) {
      imageSize = [side * w0 * patch[0], side * w0 * patch[0]];
      sizeSource = 'attn_mask';
    }
  }
  if (!imageSize) {
    const n = nameNumber(l, /_(\d{2,4})(?:$|[^0-9a-z])/);
    if (n !== undefined && n % patch[0] === 0) {
      imageSize = [n, n];
      sizeSource = 'model name';
    }
  }
  const lastWindow = windowsFromWeights[stages.length - 1] ?? cfgWindow;
  if (!imageSize && lastWindow !== undefined && patch[0] > 0) {
    const side = patch[0] * 2 ** (stages.length - 1) * lastWindow;
    imageSize = [side, side];
    sizeSource = 'one window in the last stage';
  }
  if (sizeSource) details['imageSizeSource'] = sizeSource;

  // Windows the blocks use at this size: V1 tables fix them; otherwise the configured window, clamped to the grid.
  const grids = imageSize ? stageGrids(imageSize[0], patch[0], stages.length) : undefined;
  stages.forEach((st, s) => {
    if (st.window > 0) return;
    if (cfgWindow === undefined) return;
    st.window = grids ? blockLayout(grids[s]!, cfgWindow, false, 1).window : cfgWindow;
  });
  if (stages.some((s) => !(s.window > 0))) problems.push('the window size is not in the weights, the config or the model name');
  const windows = stages.map((s) => s.window);
  Object.assign(details, { stages: stages.length, depths, heads: headsPerStage, dims, windowSize: windows.every((w) => w === windows[0]) ? windows[0] : windows });
  if (P) details['prefix'] = P;
  if (l.names.some((n) => n.startsWith('decoder.'))) details['decoder'] = 'SimMIM decoder (not analysed)';
  if (l.names.some((n) => n.endsWith('mask_token'))) details['maskToken'] = true;
  for (let s = 0; s < stages.length - 1; s++) if (!stages[s]!.merge) problems.push(`no patch merging after stage ${s + 1}`);
  if (!(patch[0] > 0 && patch[0] === patch[1])) problems.push('non-square patches are not supported');
  if (imageSize && windows.every((w) => w > 0) && !sideFits(imageSize[0], patch[0], windows)) {
    const valid = validSides(patch[0], windows, Math.max(1536, imageSize[0])).slice(0, 8);
    problems.push(`input ${imageSize[0]}×${imageSize[1]} does not fit windows ${windows.join('/')} with patch ${patch[0]}; valid square sizes: ${valid.join(', ') || 'none'}`);
  }
  const hasAbsPos = has(`${P}absolute_pos_embed`) || has(`${P}embeddings.position_embeddings`);
  const rec: SwinRecognition = {
    family, layers, dim: embed, patchSize: patch, imageSize: imageSize ?? null,
    headsPerLayer: stages.flatMap((s) => Array.from({ length: s.depth }, () => s.heads)), details,
  };
  if (imageSize && grids && windows.every((w) => w > 0) && sideFits(imageSize[0], patch[0], windows)) rec.stages = stageSummaries(stages, grids, patch[0]);
  if (problems.length > 0 || !imageSize) {
    rec.notAnalyzable = problems.join('; ') || 'the input size is unknown';
    return rec;
  }
  const patchNorm = nm.style === 'timm' ? `${P}patch_embed.norm.` : `${P}embeddings.norm.`;
  const patchB = nm.style === 'timm' ? `${P}patch_embed.proj.bias` : `${P}embeddings.patch_embeddings.projection.bias`;
  rec.spec = {
    family, version: v2 ? 2 : 1, inChans: pShape[1] ?? 3, patchSize: patch, imageSize, embedDim: embed,
    lnEps: l.lnEps ?? 1e-5, mean: l.mean, std: l.std,
    weights: {
      patchW,
      ...(has(patchB) ? { patchB } : {}),
      ...(has(`${patchNorm}weight`) ? { patchNormW: `${patchNorm}weight`, patchNormB: `${patchNorm}bias` } : {}),
      ...(hasAbsPos ? { absPosEmbed: has(`${P}absolute_pos_embed`) ? `${P}absolute_pos_embed` : `${P}embeddings.position_embeddings` } : {}),
      stages,
    },
  };
  const stray = unexplainedTensors(l.names, P, namesIn(rec.spec.weights), SWIN_UNUSED);
  if (stray.length > 0) {
    rec.notAnalyzable = strayRefusal(family, stray);
    delete rec.spec;
  }
  return rec;
}

function stageSummaries(stages: readonly SwinStageWeights[], grids: readonly number[], patch: number): StageSummary[] {
  let first = 0;
  return stages.map((st, s) => {
    const px = patch * 2 ** s;
    let u = 0;
    for (let j = 0; j < st.depth; j++) u += uniformDistance(blockLayout(grids[s]!, st.window, j % 2 === 1, px));
    const out: StageSummary = { firstLayer: first, layers: st.depth, heads: st.heads, grid: grids[s]!, window: Math.min(st.window, grids[s]!), tokenPx: px, uniformDistance: st.depth > 0 ? u / st.depth : 0 };
    first += st.depth;
    return out;
  });
}
