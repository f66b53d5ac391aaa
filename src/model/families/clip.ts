// CLIP visual towers in the OpenAI layout (openai/CLIP model.py), which open_clip keeps: `visual.conv1`
// (no bias), `visual.class_embedding` [D], `visual.positional_embedding` [N+1, D], `visual.ln_pre` over all
// tokens before the blocks, `visual.transformer.resblocks.N.` with MultiheadAttention's in_proj, `mlp.c_fc`
// / `mlp.c_proj`, LayerNorm eps 1e-5; heads = width / 64 (open_clip: width / head_width). OpenAI's models
// use QuickGELU; open_clip's use GELU unless their config or name says quick_gelu.

import type { FamilyHeads } from '../heads';
import { isRecord } from '../configView';
import type { LayoutContext } from '../layoutContext';
import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import type { VitActivation, VitBlockWeights } from '../modelTypes';
import { finishVit } from '../vitLayout';

export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

const KNOWN = [
  'ln_1.weight', 'ln_1.bias', 'attn.in_proj_weight', 'attn.in_proj_bias', 'attn.out_proj.weight', 'attn.out_proj.bias',
  'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias', 'ls_1.gamma', 'ls_2.gamma',
];

function openClipVision(ctx: LayoutContext): Record<string, unknown> | undefined {
  const oc = ctx.cfg.raw?.['open_clip_config'];
  const model = isRecord(oc) && isRecord(oc['model_cfg']) ? oc['model_cfg'] : undefined;
  return model;
}

/** The activation and why: open_clip config > model name > OpenAI's own file traits. */
function clipActivation(ctx: LayoutContext, P: string): { act?: VitActivation; why: string } {
  const model = openClipVision(ctx);
  if (model) {
    const q = model['quick_gelu'];
    return q === true ? { act: 'quick_gelu', why: 'open_clip_config.json quick_gelu' } : { act: 'gelu', why: 'open_clip_config.json (no quick_gelu)' };
  }
  const names = ctx.modelNames().join(' ').toLowerCase();
  if (/quickgelu|quick_gelu|openai/.test(names)) return { act: 'quick_gelu', why: 'model name' };
  // OpenAI's releases carry input_resolution/context_length/vocab_size, and convert_weights leaves
  // linear and conv weights in fp16 while LayerNorms stay fp32.
  if (ctx.get('input_resolution') !== undefined || ctx.get('context_length') !== undefined) return { act: 'quick_gelu', why: 'OpenAI state dict (input_resolution / context_length)' };
  const conv = ctx.get(`${P}conv1.weight`);
  const ln = ctx.get(`${P}ln_pre.weight`);
  if (conv?.dtype === 'F16' && ln?.dtype === 'F32') return { act: 'quick_gelu', why: 'OpenAI mixed fp16/fp32 weights' };
  return { why: 'nothing in the file says whether it uses QuickGELU (OpenAI) or GELU (most open_clip models)' };
}

export const clipFamily: LayoutFamily = {
  label: 'CLIP (OpenAI / open_clip)',
  reads: 'weights',
  match(ctx) {
    const prefix = ctx.prefixesFor('conv1.weight').find((p) => ctx.get(`${p}transformer.resblocks.0.attn.in_proj_weight`) !== undefined && ctx.get(`${p}class_embedding`) !== undefined);
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    const P = m.prefix;
    const blockHead = `${P}transformer.resblocks.`;
    const layers = ctx.countIndexed(blockHead);
    const blocks: VitBlockWeights[] = [];
    for (let i = 0; i < layers; i++) {
      const b = `${blockHead}${i}.`;
      const w: VitBlockWeights = {
        ln1W: `${b}ln_1.weight`, ln1B: `${b}ln_1.bias`,
        qkvW: `${b}attn.in_proj_weight`, qkvB: `${b}attn.in_proj_bias`,
        projW: `${b}attn.out_proj.weight`, projB: `${b}attn.out_proj.bias`,
        ln2W: `${b}ln_2.weight`, ln2B: `${b}ln_2.bias`,
        fc1W: `${b}mlp.c_fc.weight`, fc1B: `${b}mlp.c_fc.bias`, fc2W: `${b}mlp.c_proj.weight`, fc2B: `${b}mlp.c_proj.bias`,
      };
      const g1 = ctx.opt(`${b}ls_1.gamma`);
      const g2 = ctx.opt(`${b}ls_2.gamma`);
      if (g1) w.gamma1 = g1;
      if (g2) w.gamma2 = g2;
      blocks.push(w);
    }
    const d = emptyDraft('clip');
    const act = clipActivation(ctx, P);
    d.details['activationSource'] = act.why;
    const width = ctx.shape(`${P}conv1.weight`)?.[0];
    const vision = openClipVision(ctx)?.['vision_cfg'];
    const hw = isRecord(vision) && typeof vision['head_width'] === 'number' ? vision['head_width'] : 64;
    const familyHeads: FamilyHeads | undefined = width !== undefined && width % hw === 0
      ? { heads: width / hw, source: isRecord(vision) ? 'config' : 'dim/64', note: `CLIP: heads = width / head_width (${width} / ${hw})` }
      : undefined;
    const refuse = act.act ? undefined : `activation unknown: ${act.why}; put the model's open_clip_config.json beside the file (or name the file with "quickgelu" for a QuickGELU model)`;
    return finishVit(ctx, d, {
      family: 'clip', prefix: P, blockHead, patchW: `${P}conv1.weight`, clsToken: ctx.opt(`${P}class_embedding`),
      posEmbed: ctx.opt(`${P}positional_embedding`), preNormW: ctx.opt(`${P}ln_pre.weight`), preNormB: ctx.opt(`${P}ln_pre.bias`),
      blocks, known: KNOWN, unused: [/^ln_post\.(weight|bias)$/, /^proj$/], activation: act.act ?? 'quick_gelu', familyHeads,
      norm: { mean: CLIP_MEAN, std: CLIP_STD }, refuse,
    });
  },
};
