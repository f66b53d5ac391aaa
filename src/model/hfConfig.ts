// HuggingFace configs: `save_pretrained` writes only the fields that differ from the class defaults, so a
// missing field means the default of that model_type, not "unknown". The vision section of a two-tower
// config (CLIPModel, SiglipModel) is `vision_config`; its head count is not the text tower's.

import { isRecord } from './configView';
import type { FamilyHeads } from './heads';
import type { LayoutContext } from './layoutContext';
import type { VitActivation } from './modelTypes';

export interface HfVisionDefaults {
  heads: number;
  lnEps: number;
  act: string;
}

/** The class defaults of the vision configs Model Lens reads (transformers' configuration_*.py). */
export const HF_VISION_DEFAULTS: Readonly<Record<string, HfVisionDefaults>> = {
  clip: { heads: 12, lnEps: 1e-5, act: 'quick_gelu' },
  siglip: { heads: 12, lnEps: 1e-6, act: 'gelu_pytorch_tanh' },
  dinov2: { heads: 12, lnEps: 1e-6, act: 'gelu' },
  beit: { heads: 12, lnEps: 1e-12, act: 'gelu' },
  'data2vec-vision': { heads: 12, lnEps: 1e-12, act: 'gelu' },
  vit: { heads: 12, lnEps: 1e-12, act: 'gelu' },
  deit: { heads: 12, lnEps: 1e-12, act: 'gelu' },
  vit_mae: { heads: 12, lnEps: 1e-12, act: 'gelu' },
};

/** The vision section of the sidecar config and the model_type it belongs to. */
export function hfVisionSection(ctx: LayoutContext): { section: Record<string, unknown> | undefined; path: string } {
  const raw = ctx.cfg.raw;
  if (!raw) return { section: undefined, path: '' };
  const v = raw['vision_config'];
  if (isRecord(v)) return { section: v, path: 'vision_config.' };
  return { section: raw, path: '' };
}

/** Heads, eps and activation of the vision tower: the config's values, else the model_type's defaults. */
export function hfVisionSettings(ctx: LayoutContext, defaults: HfVisionDefaults): { heads: FamilyHeads; lnEps: number; act: VitActivation | undefined; actName: string } {
  const { section, path } = hfVisionSection(ctx);
  const h = section?.['num_attention_heads'];
  const heads: FamilyHeads = typeof h === 'number' && Number.isInteger(h) && h > 0
    ? { heads: h, source: 'config', note: `${path}num_attention_heads` }
    : { heads: defaults.heads, source: section ? 'config' : 'model-name', note: `${defaults.heads} (the class default; the config does not write it)` };
  const e = section?.['layer_norm_eps'];
  const lnEps = typeof e === 'number' && e > 0 && e < 1 ? e : defaults.lnEps;
  const a = section?.['hidden_act'];
  const actName = typeof a === 'string' ? a : defaults.act;
  return { heads, lnEps, act: HF_ACT[actName], actName };
}

const HF_ACT: Readonly<Record<string, VitActivation>> = {
  gelu: 'gelu', quick_gelu: 'quick_gelu', gelu_pytorch_tanh: 'gelu_tanh', gelu_new: 'gelu_tanh', gelu_fast: 'gelu_tanh',
};
