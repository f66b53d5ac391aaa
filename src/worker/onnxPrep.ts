// A user's own ONNX export, instrumented with the contract's reductions (see analysis/graph/instrument.ts).
import { basename } from 'node:path';
import { stat } from 'node:fs/promises';
import type { ModelSummary } from '../model/modelTypes';
import { recognize } from '../model/recognize';
import { instrumentOnnxFile } from '../analysis/graph/instrument';
import { openCheckpoint } from '../formats/openCheckpoint';
import { IMAGENET_MEAN, IMAGENET_STD } from '../analysis/probes';
import type { PrepareOptions, PreparedModel } from './preparedModel';
import { ModelLensError } from '../formats/errors';
import { summaryAtImageSize } from '../model/imageSize';

export async function prepareOnnxFile(file: string, opts: PrepareOptions): Promise<PreparedModel> {
  const t0 = performance.now();
  const inst = await instrumentOnnxFile(file, {
    ...(opts.distanceConvention ? { distanceConvention: opts.distanceConvention } : {}),
    ...(opts.ckaTokens ? { ckaTokens: opts.ckaTokens } : {}),
  });
  if (opts.imageSize !== undefined && (opts.imageSize !== inst.imageSize[0] || opts.imageSize !== inst.imageSize[1])) {
    throw new ModelLensError('not-analyzable', file, `image size ${opts.imageSize} px: an ONNX graph is exported for one input size (${inst.imageSize.join('×')} px here), so it is analysed only at that size; export it again at ${opts.imageSize} px, or leave the image size unset`);
  }
  const size = (await stat(file)).size;
  const heads = inst.heads ?? opts.heads ?? null;
  const warnings = [...inst.warnings];
  warnings.push('ONNX model: input normalisation is not recorded in the file; probes use ImageNet mean/std.');
  // The inspector's view of the file gives params/dtypes (and dim/special tokens when recognizable);
  // the instrumented graph is the authority on layers, grid and input size.
  const inspected = await openCheckpoint(file).then((c) => recognize(c).summary, () => undefined);
  const summary: ModelSummary = {
    file,
    format: 'onnx',
    family: 'onnx-graph',
    layers: inst.layers,
    heads,
    headsSource: inst.heads !== null ? 'checkpoint-args' : opts.heads !== undefined ? 'override' : 'unknown',
    dim: inspected?.dim ?? null,
    patchSize: inst.patchSize,
    imageSize: inst.imageSize,
    specialTokens: inst.grid[0] * inst.grid[1] === inst.patchTokens ? (inspected?.specialTokens ?? null) : null,
    params: inspected?.params ?? 0,
    dtype: inspected?.dtype ?? 'F32',
    dtypes: inspected?.dtypes ?? {},
    details: { softmaxOutputs: inst.softmaxOutputs.length, originalInput: inst.originalInput, fileBytes: size, name: basename(file) },
  };
  return {
    file,
    summary: opts.imageSize !== undefined ? summaryAtImageSize(summary, inst.imageSize, inst.imageSize, undefined) : summary,
    onnx: inst.model,
    inputName: inst.inputName,
    layers: inst.layers,
    // 0 = learn from the first batch's output shape (the export may not record it).
    heads: heads ?? 0,
    patchTokens: inst.patchTokens,
    inputSize: inst.imageSize,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    warnings,
    buildMs: performance.now() - t0,
    ...(inst.fixedBatch !== null ? { fixedBatch: inst.fixedBatch } : {}),
  };
}
