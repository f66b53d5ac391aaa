// A Swin / SwinV2 spec made ready for the job loop: its analysis graph plus the ragged layout the
// accumulator needs (heads and query tokens differ per stage).
import { buildSwinAnalysisGraph } from '../analysis/graph/swinGraph';
import type { ModelSummary } from '../model/modelTypes';
import { swinLayers } from '../model/swinTypes';
import type { SwinSpec } from '../model/swinTypes';
import type { PreparedModel } from './preparedModel';
import { summaryAtImageSize } from '../model/imageSize';

/** `sizeAsked`: the user chose the (native) size, which the result then records as both sizes. */
export async function prepareFromSwinSpec(file: string, summary: ModelSummary, spec: SwinSpec, weights: (name: string) => Promise<Float32Array>, sizeAsked = false): Promise<PreparedModel> {
  const graph = await buildSwinAnalysisGraph(spec, weights, { file });
  const heads = Math.max(...graph.headsPerLayer);
  return {
    file,
    summary: sizeAsked ? summaryAtImageSize(summary, spec.imageSize, spec.imageSize, undefined) : summary,
    onnx: graph.model,
    inputName: graph.inputName,
    layers: swinLayers(spec),
    heads,
    patchTokens: graph.tokensPerLayer[0]!,
    inputSize: spec.imageSize,
    mean: spec.mean,
    std: spec.std,
    warnings: [],
    buildMs: graph.buildMs,
    ragged: { headsPerLayer: graph.headsPerLayer, tokensPerLayer: graph.tokensPerLayer },
  };
}
