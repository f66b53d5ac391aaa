// Human names of the model families that architecture recognition reports, shared by the inspector
// webview and the hover (the webview may import only src/protocol; the host must not import webview code).
import type { ModelSummary } from '../model/modelTypes';

const FAMILIES: Record<string, string> = {
  'timm-vit': 'ViT (timm)',
  deit: 'DeiT',
  'deit-distilled': 'DeiT (distilled)',
  mae: 'MAE ViT',
  beit: 'BEiT',
  simmim: 'SimMIM ViT',
  'hf-vit': 'ViT (Hugging Face)',
  'torchvision-vit': 'ViT (torchvision)',
  swin: 'Swin Transformer',
  clip: 'CLIP ViT (OpenAI / open_clip)',
  'hf-clip': 'CLIP ViT (Hugging Face)',
  'hf-siglip': 'SigLIP ViT (Hugging Face)',
  dino: 'DINO ViT',
  dinov2: 'DINOv2 ViT',
  'hf-dinov2': 'DINOv2 ViT (Hugging Face)',
  'hf-beit': 'BEiT (Hugging Face)',
  'hf-data2vec-vision': 'Data2Vec-vision (Hugging Face)',
  mocov3: 'MoCo v3 ViT',
  deit3: 'DeiT III',
  eva02: 'EVA-02',
  swinv2: 'Swin Transformer V2',
  'onnx-graph': 'ONNX graph',
  unknown: 'Unknown architecture',
};

/** Shorter names where the hover's one-line summary needs them. */
const SHORT: Record<string, string> = {
  'hf-vit': 'ViT (HF)',
  swin: 'Swin',
  swinv2: 'SwinV2',
  unknown: 'unknown architecture',
};

/** Display name of a model family ("short" for one-line summaries); unknown values pass through. */
export function familyLabel(family: string, form: 'long' | 'short' = 'long'): string {
  return (form === 'short' ? SHORT[family] : undefined) ?? FAMILIES[family] ?? family;
}

const HEADS_SOURCES: Record<string, string> = {
  override: 'set by the user',
  config: 'from the config',
  'checkpoint-args': 'from the checkpoint\'s args / metadata',
  weights: 'read from the weights',
  'model-name': 'from the model name',
  'dim/64': 'assumed dim/64',
  unknown: 'unknown',
};

/** Where a head count came from, in words ("from the config"); unknown values pass through. */
export function headsSourceLabel(source: string): string {
  return HEADS_SOURCES[source] ?? source;
}

type SizedModel = Pick<ModelSummary, 'imageSize' | 'nativeImageSize' | 'posEmbedResampling'>;

const px = (s: readonly [number, number]): string => (s[0] === s[1] ? `${s[0]} px` : `${s[0]}×${s[1]} px`);

/**
 * "analysed at 224 px (native 518 px, position embeddings resampled bicubic)" for a model analysed at a size
 * the user chose; undefined when none was chosen (the model ran at its own size). Shared by the CLI and the view.
 */
export function analysedSizeText(m: SizedModel): string | undefined {
  if (!m.nativeImageSize || !m.imageSize) return undefined;
  if (m.nativeImageSize[0] === m.imageSize[0] && m.nativeImageSize[1] === m.imageSize[1]) return `analysed at ${px(m.imageSize)} (native)`;
  const r = m.posEmbedResampling;
  const how = r ? `position embeddings resampled ${r.method}${r.antialias ? '' : ' without antialiasing'}` : 'no absolute position embedding to resample';
  return `analysed at ${px(m.imageSize)} (native ${px(m.nativeImageSize)}, ${how})`;
}
