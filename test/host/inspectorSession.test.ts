// The inspector's host side over linked transports, with a real fixture header: the view gets the
// state it asks for, and every malformed or out-of-bounds message from the view is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { createLinkedTransports, RpcEndpoint, RpcError } from '../../src/protocol/rpc';
import { INSPECTOR_METHODS, parseReady, parseRunCommand, parseSelectVariant, parseTensorStatsRequest, MAX_NAME_CHARS, type InspectorState, type TensorStatsView } from '../../src/protocol/webviewProtocol';
import { ONNX_HEADS, TENSOR_STATS, type TensorStatsParams } from '../../src/protocol/workerProtocol';
import { instrumentOnnxFile } from '../../src/analysis/graph/instrument';
import { readFileSync } from 'node:fs';
import { InspectorSession } from '../../src/host/inspectorSession';
import { createHeaderService } from '../../src/host/headerService';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import { tensorStats } from '../../src/formats/tensorData';

const fixtures = resolve(__dirname, '..', '..', '..', 'test', 'fixtures');

test('validators accept well-formed params and refuse everything else', () => {
  assert.deepEqual(parseTensorStatsRequest({ name: 'blocks.0.attn.qkv.weight' }), { name: 'blocks.0.attn.qkv.weight' });
  for (const bad of [undefined, null, 'x', 42, [], { name: '' }, { name: 7 }, { name: 'x'.repeat(MAX_NAME_CHARS + 1) }, { nom: 'x' }]) {
    assert.equal(parseTensorStatsRequest(bad), undefined, JSON.stringify(bad)?.slice(0, 40));
  }
  assert.deepEqual(parseSelectVariant({ variant: 'model_ema' }), { variant: 'model_ema' });
  assert.equal(parseSelectVariant({ variant: ['model_ema'] }), undefined);
  assert.equal(parseSelectVariant('model_ema'), undefined);
  assert.deepEqual(parseRunCommand({ command: 'analyze' }), { command: 'analyze' });
  for (const bad of [{ command: 'workbench.action.terminal.new' }, { command: 'modelLens.analyze' }, { command: '__proto__' }, { command: 'constructor' }, {}, null]) {
    assert.equal(parseRunCommand(bad), undefined, JSON.stringify(bad));
  }
  assert.ok(parseReady({}));
  assert.ok(parseReady(undefined));
  assert.ok(!parseReady('go'));
});

interface Harness {
  session: InspectorSession;
  view: RpcEndpoint;
  shown: InspectorState[];
  commands: string[];
  workerCalls: TensorStatsParams[];
  warnings: string[];
  /** Sends a raw message as the webview would (no RPC wrapper). */
  raw(m: unknown): void;
}

function harness(file: string): Harness {
  const [hostSide, viewSide] = createLinkedTransports();
  const shown: InspectorState[] = [];
  const commands: string[] = [];
  const workerCalls: TensorStatsParams[] = [];
  const warnings: string[] = [];
  const session = new InspectorSession(hostSide, {
    file,
    headers: createHeaderService(() => undefined),
    workerRequest: async <T>(method: string, params: unknown): Promise<T> => {
      assert.equal(method, TENSOR_STATS);
      const p = params as TensorStatsParams;
      workerCalls.push(p);
      // What the worker does: open the file, find the tensor, stream it.
      const ckpt = await openCheckpoint(p.file, p.variant !== undefined ? { variant: p.variant } : {});
      const t = ckpt.tensors.find((x) => x.name === p.tensor);
      if (!t) throw new Error('no such tensor');
      return (await tensorStats(t)) as unknown as T;
    },
    runCommand: (c) => commands.push(c),
    isTrusted: () => false,
    log: { info: () => undefined, warn: (m) => warnings.push(m) },
  });
  const view = new RpcEndpoint(viewSide);
  view.onNotification(INSPECTOR_METHODS.show, (p) => shown.push(p as InspectorState));
  return { session, view, shown, commands, workerCalls, warnings, raw: (m) => viewSide.send(m as never) };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('ready → the view receives the parsed header; stats go to the worker for shown tensors only', async () => {
  const file = resolve(fixtures, 'models', 'vit_tiny_patch8_32.pth');
  const h = harness(file);
  h.session.reload();
  await h.session.loaded;
  h.view.notify(INSPECTOR_METHODS.ready, {});
  await tick();
  const last = h.shown.at(-1)!;
  assert.equal(last.loading, false);
  assert.equal(last.trusted, false);
  assert.ok(last.data, JSON.stringify(last.error));
  assert.equal(last.data.summary.family, 'timm-vit');
  assert.equal(last.data.summary.layers, 3);
  assert.equal(last.data.tensors.length, 44);
  const name = last.data.tensors.find((t) => t.name.endsWith('attn.qkv.weight'))!.name;

  const stats = await h.view.request<TensorStatsView>(INSPECTOR_METHODS.tensorStats, { name });
  assert.equal(h.workerCalls.length, 1);
  assert.equal(h.workerCalls[0]!.file, file);
  assert.equal(stats.count, 3 * 48 * 48);
  assert.ok(stats.min <= stats.mean && stats.mean <= stats.max);
  assert.ok(stats.std > 0);
  assert.equal(stats.histogram.reduce((a, b) => a + b, 0), stats.count - stats.nanCount - stats.infCount);
  assert.equal(stats.histMin, stats.min);
  assert.equal(stats.histMax, stats.max);

  await assert.rejects(h.view.request(INSPECTOR_METHODS.tensorStats, { name: '../../etc/passwd' }), (e: RpcError) => e.code === 'not-found');
  await assert.rejects(h.view.request(INSPECTOR_METHODS.tensorStats, { name: 42 }), (e: RpcError) => e.code === 'corrupt');
  await assert.rejects(h.view.request(INSPECTOR_METHODS.tensorStats, null), (e: RpcError) => e.code === 'corrupt');
  await assert.rejects(h.view.request('worker/ping', {}), (e: RpcError) => e.code === 'method-not-found');
  assert.equal(h.workerCalls.length, 1, 'refused requests never reach the worker');
});

test('commands from the view are allow-listed; junk messages are dropped without effect', async () => {
  const h = harness(resolve(fixtures, 'models', 'vit_tiny_patch8_32.pth'));
  h.session.reload();
  await h.session.loaded;
  h.view.notify(INSPECTOR_METHODS.runCommand, { command: 'analyze' });
  h.view.notify(INSPECTOR_METHODS.runCommand, { command: 'workbench.action.terminal.sendSequence' });
  h.view.notify(INSPECTOR_METHODS.runCommand, 'analyze');
  h.view.notify(INSPECTOR_METHODS.selectVariant, { variant: 'not-a-variant' });
  for (const junk of [null, 7, 'hello', { kind: 'req' }, { kind: 'note' }, { kind: 'res', id: 'x' }, { kind: 'note', method: 'inspector/ready', params: 'x' }]) h.raw(junk);
  await tick();
  assert.deepEqual(h.commands, ['analyze']);
  assert.equal(h.warnings.length, 3);
  assert.equal(h.session.variant, undefined);
});

test('a bad file becomes a typed error state naming file and problem', async () => {
  const h = harness(resolve(fixtures, 'models', 'does-not-exist.pth'));
  h.session.reload();
  await h.session.loaded;
  const s = h.session.current;
  assert.equal(s.loading, false);
  assert.equal(s.error?.code, 'not-found');
  assert.match(s.error!.file, /does-not-exist\.pth$/);
  await assert.rejects(h.view.request(INSPECTOR_METHODS.tensorStats, { name: 'x' }), (e: RpcError) => e.code === 'not-found');
});

test('statistics match an independent decode of the safetensors bytes (float64, sample std)', async () => {
  const { readFileSync } = await import('node:fs');
  const file = resolve(fixtures, 'models', 'vit_d40_noheads.safetensors');
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const name = 'blocks.0.attn.qkv.weight';
  const entry = header[name]!;
  const base = 8 + n + entry.data_offsets[0];
  const count = (entry.data_offsets[1] - entry.data_offsets[0]) / 4;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let zeros = 0;
  const xs: number[] = [];
  for (let i = 0; i < count; i++) {
    const x = buf.readFloatLE(base + 4 * i);
    xs.push(x);
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
    if (x === 0) zeros++;
  }
  const mean = sum / count;
  const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (count - 1));

  const h = harness(file);
  h.session.reload();
  await h.session.loaded;
  const s = await h.view.request<TensorStatsView>(INSPECTOR_METHODS.tensorStats, { name });
  assert.equal(s.count, count);
  assert.equal(s.min, min);
  assert.equal(s.max, max);
  assert.ok(Math.abs(s.mean - mean) < 1e-12, `${s.mean} vs ${mean}`);
  assert.ok(Math.abs(s.std - std) / std < 1e-9, `${s.std} vs ${std}`);
  assert.equal(s.zerosFraction, zeros / count);
  const bins = s.histogram.length;
  const expected = new Array<number>(bins).fill(0);
  for (const x of xs) expected[Math.min(bins - 1, Math.floor(((x - min) / (max - min)) * bins))]! += 1;
  const diff = expected.reduce((a, c, i) => a + Math.abs(c - s.histogram[i]!), 0);
  assert.ok(diff <= 2, `histogram differs in ${diff} counts (bin-edge rounding allows ≤ 2)`);
});

test('an ONNX graph: the inspector shows the heads the analysis will use (from the graph), not "unknown"', async () => {
  const file = resolve(fixtures, 'models', 'vit_onnx_eager.onnx');
  const [hostSide, viewSide] = createLinkedTransports();
  const shown: InspectorState[] = [];
  const asked: string[] = [];
  const session = new InspectorSession(hostSide, {
    file,
    headers: createHeaderService(() => undefined),
    // What the worker does for onnx/heads: the analysis' own graph search.
    workerRequest: async <T>(method: string, params: unknown): Promise<T> => {
      asked.push(method);
      assert.equal(method, ONNX_HEADS);
      return { heads: (await instrumentOnnxFile((params as { file: string }).file)).heads } as T;
    },
    runCommand: () => undefined,
    isTrusted: () => true,
    log: { info: () => undefined, warn: () => undefined },
  });
  const view = new RpcEndpoint(viewSide);
  view.onNotification(INSPECTOR_METHODS.show, (p) => shown.push(p as InspectorState));
  session.reload();
  await session.loaded;
  const first = shown.find((s) => s.data)!;
  assert.equal(first.data!.summary.heads, null, 'the header alone does not say');
  for (let i = 0; i < 100 && shown.at(-1)!.data?.summary.heads == null; i++) await tick();
  const ref = JSON.parse(readFileSync(resolve(fixtures, 'models', 'vit_onnx_eager.ref.json'), 'utf8')) as { heads?: number; attentionDistance: { perHead: number[][] } };
  assert.equal(shown.at(-1)!.data!.summary.heads, ref.heads ?? ref.attentionDistance.perHead[0]!.length);
  assert.equal(shown.at(-1)!.data!.summary.headsSource, 'graph');
  assert.deepEqual(asked, [ONNX_HEADS]);
});
