// Choosing the analysed input size at the spec level: what is refused and why, what is recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageSizeMultipleProblem, resampledPosEmbed, specAtImageSize, summaryAtImageSize } from '../../src/model/imageSize';
import type { ModelSummary, VitSpec } from '../../src/model/modelTypes';
import { analysedSizeText } from '../../src/protocol/modelLabels';

function spec(extra: Partial<VitSpec['weights']> = {}, patch: [number, number] = [14, 14], size: [number, number] = [518, 518]): VitSpec {
  return {
    family: 'dinov2', layers: 1, heads: 2, dim: 4, mlpDim: 8, inChans: 3, patchSize: patch, imageSize: size, specialTokens: 5, lnEps: 1e-6,
    mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],
    weights: { patchW: 'pw', clsToken: 'cls', posEmbed: 'pos', registerTokens: 'reg', blocks: [{ ln1W: 'a', ln1B: 'b', qkvW: 'q', projW: 'p', projB: 'pb', ln2W: 'c', ln2B: 'd', fc1W: 'e', fc1B: 'f', fc2W: 'g', fc2B: 'h' }], ...extra },
  };
}

test('a size that is not a multiple of the patch size is refused, naming both and the nearest sizes', () => {
  const r = specAtImageSize(spec(), 230);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.problem, /image size 230 px is not a multiple of the patch size 14 px; the nearest sizes that are: 224 and 238/);
  assert.match(imageSizeMultipleProblem(10, [16, 16]) ?? '', /nearest sizes that are: 16$/);
  assert.match(imageSizeMultipleProblem(20, [8, 6]) ?? '', /patch size 8×6 px; the nearest sizes that are: 0?.*24/);
  assert.equal(imageSizeMultipleProblem(48, [8, 6]), undefined);
});

test('the native size gives the spec back as it is; another size re-targets the grid the embedding is resampled to', () => {
  const s = spec();
  const same = specAtImageSize(s, 518);
  assert.ok(same.ok && same.spec === s && same.grids === undefined);
  const r = specAtImageSize(s, 224);
  assert.ok(r.ok);
  assert.deepEqual(r.spec.imageSize, [224, 224]);
  assert.deepEqual(r.native, [518, 518]);
  assert.deepEqual(r.grids, { from: [37, 37], to: [16, 16] });
  // Nothing else of the spec changes: the same weights by name, the same special tokens (registers have no position embedding).
  assert.deepEqual({ ...r.spec, imageSize: s.imageSize }, s);
});

test('relative position bias tables are refused at another size (no approximate interpolation), accepted at the native one', () => {
  const perLayer = spec({ posEmbed: undefined, blocks: [{ ...spec().weights.blocks[0]!, relPosTable: 't' }] }, [16, 16], [224, 224]);
  const r = specAtImageSize({ ...perLayer, family: 'beit' }, 384);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.problem, /beit model has a relative position bias table learned for its 224 px input \(14×14 patches\).*native 224 px/);
  assert.equal(specAtImageSize(spec({ sharedRelPosTable: 's' }, [16, 16], [224, 224]), 160).ok, false);
  assert.ok(specAtImageSize(perLayer, 224).ok);
});

test('the prefix rows the resampler keeps are the class and distillation tokens; the result records both sizes', () => {
  const s = spec({ distToken: 'dist' }, [8, 8], [24, 24]);
  const pos = Float32Array.from({ length: (2 + 9) * 4 }, (_, i) => i / 7);
  const sized = specAtImageSize(s, 16);
  assert.ok(sized.ok && sized.grids);
  const r = resampledPosEmbed(s, pos, sized.grids);
  assert.ok(r);
  assert.deepEqual(r.resampling, { method: 'bicubic', antialias: true, alignCorners: false, fromGrid: [3, 3], toGrid: [2, 2], prefixTokens: 2 });
  assert.equal(r.data.length, (2 + 4) * 4);
  // Without a distillation token two prefix rows do not fit.
  assert.equal(resampledPosEmbed(spec({}, [8, 8], [24, 24]), pos, sized.grids), undefined);
  const summary = { file: 'f', imageSize: [24, 24] } as ModelSummary;
  const m = summaryAtImageSize(summary, [24, 24], [16, 16], r.resampling);
  assert.deepEqual([m.imageSize, m.nativeImageSize], [[16, 16], [24, 24]]);
  assert.equal(analysedSizeText(m), 'analysed at 16 px (native 24 px, position embeddings resampled bicubic)');
  assert.equal(analysedSizeText(summary), undefined);
  assert.equal(analysedSizeText(summaryAtImageSize(summary, [24, 24], [24, 24], undefined)), 'analysed at 24 px (native)');
});
