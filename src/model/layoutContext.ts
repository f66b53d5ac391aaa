// What every layout family sees of a checkpoint: tensors by name, the flattened config, the user's
// options, and the shared key helpers (prefix finding, indexed-block counting, model names).

import { basename, dirname } from 'node:path';
import type { Checkpoint, TensorInfo } from '../formats/checkpoint';
import { ConfigView, isPositiveInt } from './configView';
import type { HeadsSource } from './modelTypes';

export interface RecognizeOptions {
  /** User's `--heads` / setting; wins over every other source. */
  headsOverride?: number;
  /** The user confirmed an override that contradicts the head count the checkpoint records. */
  headsForce?: boolean;
}

export function numel(t: TensorInfo): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return n;
}

export function intSqrt(n: number): number | undefined {
  if (!Number.isInteger(n) || n < 0) return undefined;
  const r = Math.round(Math.sqrt(n));
  return r * r === n ? r : undefined;
}

const GENERIC_STEMS = /^(model|pytorch_model|checkpoint|ckpt|weights|best|last|latest|final|model_final|model-\d+-of-\d+|model\.safetensors\.index)$/i;

function fileStem(file: string): string {
  const b = basename(file);
  return b.replace(/\.(safetensors|pth|pt|ckpt|bin|onnx)$/i, '').replace(/\.(fp16|bf16|fp32|f16|f32)$/i, '');
}

export class LayoutContext {
  readonly byName = new Map<string, TensorInfo>();
  readonly names: string[];
  readonly cfg: ConfigView;

  constructor(readonly ckpt: Checkpoint, readonly opts: RecognizeOptions) {
    for (const t of ckpt.tensors) this.byName.set(t.name, t);
    this.names = ckpt.tensors.map((t) => t.name);
    this.cfg = new ConfigView(ckpt.config);
  }

  get(name: string): TensorInfo | undefined {
    return this.byName.get(name);
  }

  /** `name` when the checkpoint has that tensor. */
  opt(name: string): string | undefined {
    return this.byName.has(name) ? name : undefined;
  }

  shape(name: string): number[] | undefined {
    return this.byName.get(name)?.shape;
  }

  /** Prefixes p with `p + suffix` present; shortest first (a `model.` beats a `model_ema.` copy). */
  prefixesFor(suffix: string): string[] {
    const out: string[] = [];
    for (const n of this.names) if (n.endsWith(suffix)) out.push(n.slice(0, n.length - suffix.length));
    return out.filter((p) => p === '' || p.endsWith('.')).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  }

  /** Number of consecutive indices i from 0 with some tensor starting with `${head}${i}.`. */
  countIndexed(head: string): number {
    const seen = new Set<number>();
    for (const n of this.names) {
      if (!n.startsWith(head)) continue;
      const rest = n.slice(head.length);
      const dot = rest.indexOf('.');
      if (dot <= 0) continue;
      const idx = rest.slice(0, dot);
      if (/^\d+$/.test(idx)) seen.add(Number(idx));
    }
    let i = 0;
    while (seen.has(i)) i++;
    return i;
  }

  /** Candidate model names: config/args names, then the file name, then the folder for generic file names. */
  modelNames(): string[] {
    const out = this.cfg.strings(['model', 'arch', 'model_name', 'architecture', 'name', 'type', '_name_or_path', 'variant']);
    for (const e of this.ckpt.extras) {
      const m = /\bmodel\s*=\s*['"]([^'"]{1,200})['"]/.exec(e.value);
      if (m && m[1]) out.push(m[1]);
    }
    const stem = fileStem(this.ckpt.file);
    if (!GENERIC_STEMS.test(stem)) out.push(stem);
    else out.push(basename(dirname(this.ckpt.file)));
    return out;
  }

  /** Heads stated in the checkpoint's args/cfg or a config, with the source that applies. */
  configHeads(prefer?: string): { heads: number; source: HeadsSource } | undefined {
    const keys = ['num_attention_heads', 'num_heads', 'heads', 'n_heads', 'nheads'];
    const hits = this.cfg.numbers(keys, prefer).filter(isPositiveInt);
    if (hits.length > 0) return { heads: hits[0] as number, source: this.cfg.isHf ? 'config' : 'checkpoint-args' };
    for (const e of this.ckpt.extras) {
      const m = /\b(?:num_heads|num_attention_heads)\s*[=:]\s*(\d{1,4})\b/i.exec(e.value);
      if (m && m[1]) return { heads: Number(m[1]), source: 'checkpoint-args' };
    }
    // safetensors `__metadata__` is a string map; writers that record the head count put it there.
    for (const key of keys) {
      const v = this.ckpt.metadata[key];
      if (v !== undefined && /^\d{1,4}$/.test(v.trim()) && isPositiveInt(Number(v))) return { heads: Number(v), source: 'checkpoint-args' };
    }
    return undefined;
  }
}
