// The builder's output is a valid ONNX model: attributes of every kind survive our own parser and
// onnxruntime runs a graph that uses them, with the answer computed independently here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OnnxDataType, OnnxGraphBuilder, attrFloat, attrFloats, attrInt, attrInts, attrString, attrTensor, f32Tensor, i64Tensor } from '../../../src/analysis/graph/onnxBuilder';
import { parseModel } from '../../../src/formats/onnx/onnxGraph';

test('attributes of every kind round trip and run', async () => {
  const g = new OnnxGraphBuilder('t');
  g.input('x', OnnxDataType.FLOAT, ['n', 3]);
  g.node('Constant', [], ['c'], { value: attrTensor(f32Tensor('cv', [3], Float32Array.of(1, -2, 0.5))) });
  const y = g.op('Add', ['x', 'c']);
  const lr = g.op('LeakyRelu', [y], { alpha: attrFloat(0.25) });
  const tr = g.op('Transpose', [g.op('Unsqueeze', [lr, g.i64([0])])], { perm: attrInts([1, 0, 2]) });
  const sh = g.op('Reshape', [tr, g.initializer(i64Tensor('shape', [2], [-1, 3]))]);
  g.node('Identity', [sh], ['out']);
  g.node('Identity', [sh], ['unused'], { note: attrString('héllo'), fs: attrFloats([1.5, -2]), k: attrInt(-7) }, 'ai.onnx.ml.fake');
  g.output('out', OnnxDataType.FLOAT, ['n', 3]);
  const model = g.toModel();
  const pm = parseModel(model, 'b.onnx');
  const fake = pm.graph.nodes.find((n) => n.domain === 'ai.onnx.ml.fake')!;
  assert.equal(fake.attrs.get('note')!.s, 'héllo');
  assert.deepEqual(fake.attrs.get('fs')!.floats, [1.5, -2]);
  assert.equal(fake.attrs.get('k')!.i, -7);
  const c = pm.graph.nodes.find((n) => n.opType === 'Constant')!;
  assert.deepEqual(c.attrs.get('value')!.t!.dims, [3]);
  assert.deepEqual(pm.graph.initializers.find((t) => t.name === 'shape')!.ints, [-1, 3]);
  // Drop the node of the unknown domain before running.
  g.nodes.splice(g.nodes.findIndex((n) => n.domain === 'ai.onnx.ml.fake'), 1);
  // logSeverityLevel 3: the test graph is deliberately odd (every attribute kind); onnxruntime's warnings about it are noise.
  const s = await ort.InferenceSession.create(g.toModel(), { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const x = Float32Array.of(1, 2, 3, -4, -5, -6);
  const o = (await s.run({ x: new ort.Tensor('float32', x, [2, 3]) }))['out']!;
  const c3 = [1, -2, 0.5];
  const want = [...x].map((v, i) => {
    const z = v + c3[i % 3]!;
    return z >= 0 ? z : 0.25 * z;
  });
  assert.deepEqual([...(o.data as Float32Array)], want);
  assert.deepEqual(o.dims, [2, 3]);
});
