// The HuggingFace sidecar files beside a weights file (config.json, preprocessor_config.json): the only
// I/O of src/model, kept here so that recognition itself stays a pure function of the checkpoint.

import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Checkpoint } from '../formats/checkpoint';
import { isRecord, looksLikeHfConfig } from './configView';

/** Sidecar JSON files are small; anything larger is not a model config. */
const MAX_SIDECAR_BYTES = 4 * 1024 * 1024;

/**
 * Reads `config.json` (and `preprocessor_config.json` for image_mean/image_std) from the folder of a
 * HuggingFace weights file, and open_clip's `open_clip_config.json` (under the key `open_clip_config`).
 * Returns undefined when there is none or it does not look like a model config;
 * a broken file is ignored rather than failing the inspection of the weights.
 */
export async function loadSidecarConfig(weightsPath: string): Promise<Record<string, unknown> | undefined> {
  const dir = dirname(weightsPath);
  const config = await readJsonObject(join(dir, 'config.json'));
  let out: Record<string, unknown> | undefined;
  if (config && looksLikeHfConfig(config)) {
    out = { ...config };
    const pre = await readJsonObject(join(dir, 'preprocessor_config.json'));
    if (pre) {
      for (const key of ['image_mean', 'image_std', 'size', 'crop_size'] as const) {
        if (out[key] === undefined && pre[key] !== undefined) out[key] = pre[key];
      }
    }
  }
  // open_clip writes its model config (activation, head width, preprocessing) beside the weights.
  const openClip = await readJsonObject(join(dir, 'open_clip_config.json'));
  if (openClip) (out ??= {})['open_clip_config'] = openClip;
  return out;
}

/** `ckpt` with its HF sidecar config merged in (fields already in ckpt.config win). */
export async function attachSidecarConfig(ckpt: Checkpoint): Promise<Checkpoint> {
  if (ckpt.format === 'onnx') return ckpt;
  const side = await loadSidecarConfig(ckpt.file);
  if (!side) return ckpt;
  return { ...ckpt, config: { ...side, ...(ckpt.config ?? {}) } };
}

async function readJsonObject(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > MAX_SIDECAR_BYTES) return undefined;
    const v: unknown = JSON.parse(await readFile(path, 'utf8'));
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
