// Turns a checkpoint path into an analysis graph: reader → recognition → ONNX graph from the weights,
// or, for a user's .onnx file, the instrumented graph.
import { extname } from 'node:path';
import { recognize } from '../model/recognize';
import { attachSidecarConfig } from '../model/sidecarConfig';
import { ModelLensError } from '../formats/errors';
import type { TensorInfo } from '../formats/checkpoint';
import { openCheckpoint } from '../formats/openCheckpoint';
import { readTensorF32 } from '../formats/tensorData';
import { prepareOnnxFile } from './onnxPrep';
import { prepareFromSwinSpec } from './swinPrep';
import { prepareFromSpec, type PrepareOptions, type PreparedModel } from './preparedModel';

export async function prepareModel(file: string, opts: PrepareOptions, signal?: AbortSignal): Promise<PreparedModel> {
  if (extname(file).toLowerCase() === '.onnx') return prepareOnnxFile(file, opts);
  const ckpt = await attachSidecarConfig(await openCheckpoint(file, opts.variant !== undefined ? { variant: opts.variant } : undefined));
  const { summary, spec, swinSpec } = recognize(ckpt, opts.heads !== undefined ? { headsOverride: opts.heads, ...(opts.headsForce ? { headsForce: true } : {}) } : undefined);
  const family = spec?.family ?? swinSpec?.family;
  if (!family) {
    throw new ModelLensError('not-analyzable', file, summary.notAnalyzable ?? `not a recognized ViT (family ${summary.family})`);
  }
  const byName = new Map<string, TensorInfo>(ckpt.tensors.map((t) => [t.name, t]));
  const weights = async (name: string): Promise<Float32Array> => {
    if (signal?.aborted) throw new ModelLensError('cancelled', file, 'analysis cancelled');
    const t = byName.get(name);
    if (!t) throw new ModelLensError('not-analyzable', file, `tensor "${name}" needed by the ${family} graph is missing`);
    return readTensorF32(t);
  };
  if (swinSpec) {
    const size = opts.imageSize;
    if (size !== undefined && (size !== swinSpec.imageSize[0] || size !== swinSpec.imageSize[1])) {
      throw new ModelLensError('not-analyzable', file, `image size ${size} px: a ${swinSpec.family} model's windows and relative position bias are fixed to its ${swinSpec.imageSize.join('×')} px input, so Model Lens analyses it only at that size (leave the image size unset)`);
    }
    return prepareFromSwinSpec(file, summary, swinSpec, weights, size !== undefined);
  }
  return prepareFromSpec(file, summary, spec!, weights, opts);
}
