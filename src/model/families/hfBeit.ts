// HuggingFace BEiT and Data2Vec-vision: BeitModel / BeitForImageClassification / BeitForMaskedImageModeling
// (`beit.`) and Data2VecVisionModel / Data2VecVisionForImageClassification (`data2vec_vision.`), or no
// prefix for the bare model. One layout (Data2VecVision is BEiT's code under another name); model_type and
// prefix decide the family. What differs from HF ViT: the key projection has no bias, layer scale
// `lambda_1`/`lambda_2`, a relative position bias per layer (`attention.attention.relative_position_bias.`)
// or shared (`encoder.relative_position_bias.`), the absolute position embedding optional, mean pooling with
// `pooler.layernorm` (else a final `layernorm`). `relative_position_index` was a saved buffer in older
// transformers releases and is computed at run time in newer ones; both files are read.

import { hfVisionSection, hfVisionSettings, HF_VISION_DEFAULTS } from '../hfConfig';
import type { FamilyHeads } from '../heads';
import { hfSelfAttention } from '../hfLayout';
import { intSqrt, type LayoutContext } from '../layoutContext';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import type { ModelFamily, VitBlockWeights } from '../modelTypes';
import { finishVit } from '../vitLayout';

const ANCHOR = 'embeddings.patch_embeddings.projection.weight';
const REL = 'attention.attention.relative_position_bias.';
const SHARED = 'encoder.relative_position_bias.';

const KNOWN = [
  'layernorm_before.weight', 'layernorm_before.bias', 'attention.attention.query.weight', 'attention.attention.query.bias',
  'attention.attention.key.weight', 'attention.attention.key.bias', 'attention.attention.value.weight', 'attention.attention.value.bias',
  'attention.output.dense.weight', 'attention.output.dense.bias', 'layernorm_after.weight', 'layernorm_after.bias',
  'intermediate.dense.weight', 'intermediate.dense.bias', 'output.dense.weight', 'output.dense.bias', 'lambda_1', 'lambda_2',
  `${REL}relative_position_bias_table`, `${REL}relative_position_index`,
];

/** The image size BeitConfig / Data2VecVisionConfig assume when config.json does not write it. */
const HF_BEIT_IMAGE_SIZE = 224;

function modelType(ctx: LayoutContext): string | undefined {
  const mt = ctx.cfg.raw?.['model_type'];
  return typeof mt === 'string' ? mt : undefined;
}

const endsWithModule = (p: string, m: string): boolean => p === `${m}.` || p.endsWith(`.${m}.`);

/** BEiT's signals under prefix p: its model_type or base-model prefix, layer scale, relative bias, or a key without bias. */
function isHfBeit(ctx: LayoutContext, p: string): boolean {
  if (ctx.countIndexed(`${p}encoder.layer.`) === 0) return false;
  const mt = modelType(ctx);
  if (mt === 'beit' || mt === 'data2vec-vision' || endsWithModule(p, 'beit') || endsWithModule(p, 'data2vec_vision')) return true;
  const b0 = `${p}encoder.layer.0.`;
  return ctx.get(`${b0}lambda_1`) !== undefined || ctx.get(`${b0}${REL}relative_position_bias_table`) !== undefined
    || ctx.get(`${p}${SHARED}relative_position_bias_table`) !== undefined
    || (ctx.get(`${b0}attention.attention.query.bias`) !== undefined && ctx.get(`${b0}attention.attention.key.bias`) === undefined);
}

/** Patch tokens when there is no absolute position embedding: the index buffer, a square table, else the config's input size. */
function patchTokens(ctx: LayoutContext, index: string | undefined, table: string | undefined, patch: number[] | undefined, details: Record<string, unknown>): number | undefined {
  const is = index ? ctx.shape(index) : undefined;
  if (is && is.length === 2 && is[0] === is[1]) return (is[0] as number) - 1;
  const ts = table ? ctx.shape(table) : undefined;
  const side = ts && ts.length === 2 ? intSqrt((ts[0] as number) - 3) : undefined;
  if (side !== undefined && side % 2 === 1) return ((side + 1) / 2) ** 2;
  if (!patch || patch.length !== 4) return undefined;
  const [ph, pw] = [patch[2] as number, patch[3] as number];
  const size = ctx.cfg.imageSize() ?? [HF_BEIT_IMAGE_SIZE, HF_BEIT_IMAGE_SIZE];
  if (!ctx.cfg.imageSize()) details['imageSizeNote'] = `${HF_BEIT_IMAGE_SIZE} px (the class default; the config does not write image_size)`;
  return size[0] % ph === 0 && size[1] % pw === 0 ? (size[0] / ph) * (size[1] / pw) : undefined;
}

export const hfBeitFamily: LayoutFamily = {
  label: 'HuggingFace BEiT / Data2Vec-vision',
  reads: 'weights',
  match(ctx) {
    const prefix = ctx.prefixesFor(ANCHOR).find((p) => isHfBeit(ctx, p));
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    const P = m.prefix;
    const mt = modelType(ctx);
    const family: ModelFamily = mt === 'data2vec-vision' || (mt === undefined && endsWithModule(P, 'data2vec_vision')) ? 'hf-data2vec-vision' : 'hf-beit';
    const blockHead = `${P}encoder.layer.`;
    const layers = ctx.countIndexed(blockHead);
    const blocks: VitBlockWeights[] = [];
    for (let i = 0; i < layers; i++) {
      const b = `${blockHead}${i}.`;
      const w: VitBlockWeights = {
        ln1W: `${b}layernorm_before.weight`, ln1B: `${b}layernorm_before.bias`,
        ...hfSelfAttention(ctx, b),
        ln2W: `${b}layernorm_after.weight`, ln2B: `${b}layernorm_after.bias`,
        fc1W: `${b}intermediate.dense.weight`, fc1B: `${b}intermediate.dense.bias`,
        fc2W: `${b}output.dense.weight`, fc2B: `${b}output.dense.bias`,
      };
      const g1 = ctx.opt(`${b}lambda_1`);
      const g2 = ctx.opt(`${b}lambda_2`);
      if (g1) w.gamma1 = g1;
      if (g2) w.gamma2 = g2;
      const table = ctx.opt(`${b}${REL}relative_position_bias_table`);
      if (table) {
        w.relPosTable = table;
        const idx = ctx.opt(`${b}${REL}relative_position_index`);
        if (idx) w.relPosIndex = idx;
      }
      blocks.push(w);
    }
    const sharedTable = ctx.opt(`${P}${SHARED}relative_position_bias_table`);
    const sharedIndex = ctx.opt(`${P}${SHARED}relative_position_index`);
    const table = blocks[0]?.relPosTable ?? sharedTable;
    const ts = table ? ctx.shape(table) : undefined;
    const weightsHeads = ts && ts.length === 2 ? ts[1] : undefined;

    const d = emptyDraft(family);
    if (mt) d.details['modelType'] = mt;
    const defaults = HF_VISION_DEFAULTS[family === 'hf-data2vec-vision' ? 'data2vec-vision' : 'beit']!;
    const s = hfVisionSettings(ctx, defaults);
    d.details['hiddenAct'] = s.actName;
    // Heads: the config's when it writes them; else the relative position bias table's (exact); else the class default.
    const { section } = hfVisionSection(ctx);
    const cfgHeads = typeof section?.['num_attention_heads'] === 'number';
    let familyHeads: FamilyHeads | undefined = s.heads;
    if (!cfgHeads && weightsHeads !== undefined) familyHeads = { heads: weightsHeads, source: 'weights', note: `${table ?? ''} (the config does not write num_attention_heads)` };
    else if (!cfgHeads && !section) familyHeads = undefined;
    const unsupported: string[] = [];
    if (blocks[0]?.relPosTable && sharedTable) unsupported.push('a shared and a per-layer relative position bias in the same model');
    let refuse = s.act ? undefined : `activation "${s.actName}" is not one Model Lens builds`;
    if (!refuse && cfgHeads && weightsHeads !== undefined && weightsHeads !== s.heads.heads) {
      refuse = `the config says ${s.heads.heads} heads but ${table ?? ''} has ${weightsHeads}`;
    }
    const posEmbed = ctx.opt(`${P}embeddings.position_embeddings`);
    const n = posEmbed ? undefined : patchTokens(ctx, blocks[0]?.relPosIndex ?? sharedIndex, table, ctx.shape(`${P}${ANCHOR}`), d.details);
    return finishVit(ctx, d, {
      family, prefix: P, blockHead, blocks, known: KNOWN, n, weightsHeads, unsupported, refuse,
      patchW: `${P}${ANCHOR}`, patchB: ctx.opt(`${P}embeddings.patch_embeddings.projection.bias`),
      clsToken: ctx.opt(`${P}embeddings.cls_token`), posEmbed, sharedRelPosTable: sharedTable, sharedRelPosIndex: sharedIndex,
      unused: [/^layernorm\.(weight|bias)$/, /^pooler\.layernorm\.(weight|bias)$/, /^embeddings\.mask_token$/, /^lm_head\./, /^classifier\./],
      familyHeads, lnEps: s.lnEps, activation: s.act,
    });
  },
};
