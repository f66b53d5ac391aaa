// An independent structural check of `model-lens/analysis@1` (DESIGN.md), written from the design
// text rather than imported from src/ so a drift in the producer cannot hide in the checker.
import assert from 'node:assert/strict';

const DEVICES = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteMatrix(v: unknown, rows: number, cols: number, what: string): number[][] {
  assert.ok(Array.isArray(v), `${what} is not an array`);
  assert.equal(v.length, rows, `${what} has ${v.length} rows, expected ${rows}`);
  return v.map((row: unknown, i: number) => {
    assert.ok(Array.isArray(row), `${what}[${i}] is not an array`);
    assert.equal(row.length, cols, `${what}[${i}] has ${row.length} entries, expected ${cols}`);
    for (const x of row) assert.ok(typeof x === 'number' && Number.isFinite(x), `${what}[${i}] holds ${String(x)}`);
    return row as number[];
  });
}

function metricBlock(v: unknown, layers: number, heads: number, unit: string, what: string): void {
  assert.ok(isRecord(v), `${what} missing`);
  assert.equal(v['unit'], unit, `${what}.unit`);
  const perHead = finiteMatrix(v['perHead'], layers, heads, `${what}.perHead`);
  const perLayer = finiteMatrix([v['perLayer']], 1, layers, `${what}.perLayer`)[0]!;
  perHead.forEach((row, l) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    assert.ok(Math.abs(mean - perLayer[l]!) <= 1e-6 * Math.max(1, Math.abs(mean)), `${what}.perLayer[${l}] is not the mean over heads`);
    for (const x of row) assert.ok(x >= 0, `${what} has a negative value`);
  });
}

function ckaBlock(v: unknown, layers: number, what: string): void {
  assert.ok(isRecord(v), `${what} missing`);
  assert.equal(v['estimator'], 'linear-minibatch-unbiased', `${what}.estimator`);
  assert.ok(Number.isInteger(v['batches']) && (v['batches'] as number) >= 1, `${what}.batches`);
  const m = finiteMatrix(v['matrix'], layers, layers, `${what}.matrix`);
  for (let i = 0; i < layers; i++) {
    assert.ok(Math.abs(m[i]![i]! - 1) < 1e-6, `${what}.matrix[${i}][${i}] = ${m[i]![i]} is not 1`);
    for (let j = 0; j < layers; j++) assert.ok(Math.abs(m[i]![j]! - m[j]![i]!) < 1e-9, `${what}.matrix is not symmetric`);
  }
}

function modelBlock(v: unknown, what: string): { layers: number; heads: number } {
  assert.ok(isRecord(v), `${what} missing`);
  for (const k of ['file', 'format', 'family']) assert.equal(typeof v[k], 'string', `${what}.${k}`);
  for (const k of ['layers', 'heads', 'dim', 'specialTokens', 'params']) assert.ok(Number.isInteger(v[k]) && (v[k] as number) > 0 || (k === 'specialTokens' && v[k] === 0), `${what}.${k} = ${String(v[k])}`);
  for (const k of ['patchSize', 'imageSize']) assert.ok(Array.isArray(v[k]) && (v[k] as unknown[]).length === 2, `${what}.${k}`);
  assert.ok('dtype' in v, `${what}.dtype`);
  return { layers: v['layers'] as number, heads: v['heads'] as number };
}

/** Throws an AssertionError naming the first way `r` departs from model-lens/analysis@1. */
export function assertAnalysisResult(r: unknown): void {
  assert.ok(isRecord(r), 'the result is not an object');
  assert.equal(r['schema'], 'model-lens/analysis@1');
  const { layers, heads } = modelBlock(r['model'], 'model');
  const probe = r['probe'];
  assert.ok(isRecord(probe), 'probe missing');
  assert.ok(probe['source'] === 'folder' || probe['source'] === 'synthetic', 'probe.source');
  assert.ok(Number.isInteger(probe['count']) && (probe['count'] as number) > 0, 'probe.count');
  assert.ok(Number.isInteger(probe['batchSize']) && (probe['batchSize'] as number) > 0, 'probe.batchSize');
  assert.ok(isRecord(probe['preprocess']), 'probe.preprocess');
  const device = r['device'];
  assert.ok(isRecord(device), 'device missing');
  assert.ok(DEVICES.includes(device['requested'] as string), `device.requested = ${String(device['requested'])}`);
  assert.ok(DEVICES.includes(device['used'] as string) && device['used'] !== 'auto', `device.used = ${String(device['used'])}`);
  metricBlock(r['attentionDistance'], layers, heads, 'px', 'attentionDistance');
  metricBlock(r['headDiversity'], layers, heads, 'nats', 'headDiversity');
  ckaBlock(r['cka'], layers, 'cka');
  if (r['compare'] !== undefined) {
    const c = r['compare'];
    assert.ok(isRecord(c), 'compare');
    const b = modelBlock(c['model'], 'compare.model');
    metricBlock(c['attentionDistance'], b.layers, b.heads, 'px', 'compare.attentionDistance');
    metricBlock(c['headDiversity'], b.layers, b.heads, 'nats', 'compare.headDiversity');
    ckaBlock(c['cka'], b.layers, 'compare.cka');
    finiteMatrix(c['crossCka'], layers, b.layers, 'compare.crossCka');
  }
  const timing = r['timing'];
  assert.ok(isRecord(timing), 'timing');
  for (const k of ['totalMs', 'inferenceMs']) assert.ok(typeof timing[k] === 'number' && (timing[k] as number) >= 0, `timing.${k}`);
  assert.ok(Array.isArray(r['warnings']) && (r['warnings'] as unknown[]).every((w) => typeof w === 'string'), 'warnings');
  // The schema is plain JSON: typed arrays would serialise as objects with numeric keys.
  const walk = (v: unknown, path: string): void => {
    assert.ok(!ArrayBuffer.isView(v), `${path} is a typed array, not a plain number array`);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(r, 'result');
}
