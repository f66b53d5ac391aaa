// A checkpoint's config (HF config.json, argparse Namespace, yacs CfgNode, nested dicts) flattened so that
// families can ask for "the heads" or "the image size" wherever a project stored them.

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

export function looksLikeHfConfig(c: Record<string, unknown>): boolean {
  return typeof c['model_type'] === 'string' || Array.isArray(c['architectures']) || typeof c['hidden_size'] === 'number';
}

/** One value found somewhere inside a config, with its key path (lower-cased). */
export interface ConfigEntry {
  path: string[];
  value: unknown;
}

const MAX_CONFIG_ENTRIES = 20000;

function flattenConfig(config: Record<string, unknown> | undefined): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  const walk = (v: unknown, path: string[], depth: number): void => {
    if (out.length >= MAX_CONFIG_ENTRIES || depth > 8) return;
    if (isRecord(v)) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k.toLowerCase()], depth + 1);
    } else {
      out.push({ path, value: v });
    }
  };
  walk(config, [], 0);
  return out;
}

export class ConfigView {
  readonly entries: ConfigEntry[];
  /** True for a HuggingFace-style config (sidecar config.json); false for args/cfg stored in a checkpoint. */
  readonly isHf: boolean;

  constructor(readonly raw: Record<string, unknown> | undefined) {
    this.entries = flattenConfig(raw);
    this.isHf = raw !== undefined && (looksLikeHfConfig(raw) || typeof raw['num_attention_heads'] === 'number');
  }

  /** Entries whose last key is one of `keys`, shallowest first; paths containing `prefer` sort ahead. */
  find(keys: readonly string[], prefer?: string): ConfigEntry[] {
    const hits = this.entries.filter((e) => keys.includes(e.path[e.path.length - 1] ?? ''));
    return hits.sort((a, b) => {
      if (prefer) {
        const pa = a.path.includes(prefer) ? 0 : 1;
        const pb = b.path.includes(prefer) ? 0 : 1;
        if (pa !== pb) return pa - pb;
      }
      return a.path.length - b.path.length;
    });
  }

  numbers(keys: readonly string[], prefer?: string): number[] {
    return this.find(keys, prefer).map((e) => e.value).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  }

  strings(keys: readonly string[]): string[] {
    return this.find(keys).map((e) => e.value).filter((v): v is string => typeof v === 'string' && v.length > 0 && v.length < 300);
  }

  triple(keys: readonly string[]): [number, number, number] | undefined {
    for (const e of this.find(keys)) {
      const v = e.value;
      if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        return [v[0] as number, v[1] as number, v[2] as number];
      }
    }
    return undefined;
  }

  /** Input size as [h, w] from image_size / input_size / img_size / IMG_SIZE (a number or a pair). */
  imageSize(): [number, number] | undefined {
    for (const e of this.find(['image_size', 'img_size', 'input_size', 'imagesize'])) {
      const v = e.value;
      if (isPositiveInt(v)) return [v, v];
      if (Array.isArray(v)) {
        const nums = v.filter(isPositiveInt);
        if (nums.length === 2 && v.length === 2) return [nums[0] as number, nums[1] as number];
        if (nums.length === 3 && v.length === 3) return [nums[1] as number, nums[2] as number]; // (C, H, W)
      }
    }
    return undefined;
  }
}
