// The host side of one inspector webview, free of vscode so tests can drive it over linked transports:
// loads the header, answers the view's requests, and validates every message the view sends.
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RpcEndpoint, type RpcTransport } from '../protocol/rpc';
import {
  INSPECTOR_METHODS,
  parseReady,
  parseRunCommand,
  parseSelectVariant,
  parseTensorStatsRequest,
  type InspectorCommand,
  type InspectorState,
  type TensorStatsView,
} from '../protocol/webviewProtocol';
import { ONNX_HEADS, TENSOR_STATS, type TensorStatsParams } from '../protocol/workerProtocol';
import { ModelLensError } from '../formats/errors';
import { toErrorView, toInspectorData, toStatsView } from './inspectorData';
import type { HeaderService } from './services';

export interface InspectorSessionDeps {
  file: string;
  headers: Pick<HeaderService, 'inspect'>;
  /** Sends a request to the worker (tensor statistics). */
  workerRequest<T>(method: string, params: unknown, signal?: AbortSignal): Promise<T>;
  runCommand(command: InspectorCommand): void;
  isTrusted(): boolean;
  log: { info(m: string): void; warn(m: string): void };
}

export class InspectorSession {
  readonly rpc: RpcEndpoint;
  /** Weight set chosen in the view (EMA vs model). */
  variant: string | undefined;
  private state: InspectorState;
  private generation = 0;
  /** Resolves when the latest load has settled (tests and reload sequencing). */
  loaded: Promise<void> = Promise.resolve();

  constructor(
    transport: RpcTransport,
    private readonly deps: InspectorSessionDeps,
  ) {
    this.rpc = new RpcEndpoint(transport);
    this.state = { fileName: basename(deps.file), trusted: deps.isTrusted(), loading: true };
    this.rpc.onNotification(INSPECTOR_METHODS.ready, (p) => {
      if (parseReady(p)) this.push();
    });
    this.rpc.onNotification(INSPECTOR_METHODS.selectVariant, (p) => {
      const v = parseSelectVariant(p);
      if (!v || !this.state.data?.variants.some((x) => x.key === v.variant)) {
        deps.log.warn('Inspector: ignored an invalid variant selection from the webview');
        return;
      }
      this.variant = v.variant;
      this.reload();
    });
    this.rpc.onNotification(INSPECTOR_METHODS.runCommand, (p) => {
      const c = parseRunCommand(p);
      if (!c) {
        deps.log.warn('Inspector: ignored an invalid command message from the webview');
        return;
      }
      deps.runCommand(c.command);
    });
    this.rpc.handle(INSPECTOR_METHODS.tensorStats, (p, ctx) => this.tensorStats(p, ctx.signal));
  }

  get current(): InspectorState {
    return this.state;
  }

  /** (Re)reads the header and shows "loading" meanwhile. */
  reload(): void {
    const gen = ++this.generation;
    const { file } = this.deps;
    this.state = { fileName: basename(file), trusted: this.deps.isTrusted(), loading: true };
    this.push();
    const opts = this.variant !== undefined ? { variant: this.variant } : undefined;
    this.loaded = this.deps.headers.inspect(file, opts).then(
      (ic) => {
        if (gen !== this.generation) return;
        this.state = { ...this.state, loading: false, data: toInspectorData(ic) };
        this.deps.log.info(`Inspected ${file}: ${ic.checkpoint.tensors.length} tensors, ${ic.summary.family} (${ic.readMs.toFixed(1)} ms uncached)`);
        this.push();
        if (ic.checkpoint.format === 'onnx' && ic.summary.heads === null && !ic.summary.notAnalyzable) void this.onnxHeads(gen);
      },
      (e: unknown) => {
        if (gen !== this.generation) return;
        this.state = { ...this.state, loading: false, error: toErrorView(e, file) };
        this.deps.log.warn(`Cannot inspect ${file}: ${e instanceof Error ? e.message : String(e)}`);
        this.push();
      },
    );
  }

  /**
   * An ONNX graph's heads are not in its header: the worker finds them the way the analysis does, so the
   * inspector shows the number the analysis will use instead of "unknown".
   */
  private async onnxHeads(gen: number): Promise<void> {
    const heads = await this.deps
      .workerRequest<{ heads: number | null }>(ONNX_HEADS, { file: this.deps.file })
      .then((r) => r.heads, () => null);
    const data = this.state.data;
    if (gen !== this.generation || !data || typeof heads !== 'number' || !Number.isInteger(heads) || heads < 1) return;
    this.state = { ...this.state, data: { ...data, summary: { ...data.summary, heads, headsSource: 'graph' } } };
    this.push();
  }

  /** Tells the view that trust changed. */
  trustChanged(): void {
    this.rpc.notify(INSPECTOR_METHODS.trust, { trusted: this.deps.isTrusted() });
  }

  private push(): void {
    this.rpc.notify(INSPECTOR_METHODS.show, { ...this.state, trusted: this.deps.isTrusted() });
  }

  private async tensorStats(p: unknown, signal: AbortSignal): Promise<TensorStatsView> {
    const { file } = this.deps;
    const req = parseTensorStatsRequest(p);
    if (!req) throw new ModelLensError('corrupt', file, 'invalid tensor statistics request from the view');
    const data = this.state.data;
    // Only names the view was shown: the view cannot make the worker read anything else.
    if (!data?.tensors.some((t) => t.name === req.name)) throw new ModelLensError('not-found', file, `no tensor named ${JSON.stringify(req.name.slice(0, 200))}`);
    const params: TensorStatsParams = { file, tensor: req.name };
    const variant = this.variant ?? data.selectedVariant;
    if (variant !== undefined) params.variant = variant;
    const t0 = performance.now();
    try {
      const raw = await this.deps.workerRequest<unknown>(TENSOR_STATS, params, signal);
      return toStatsView(req.name, raw, performance.now() - t0);
    } catch (e) {
      if (!signal.aborted) this.deps.log.warn(`Tensor statistics of ${req.name} in ${file} failed: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  }
}
