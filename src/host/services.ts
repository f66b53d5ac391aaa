// The shared objects that activate() builds once and hands to every command module
// (the inspector, the hover, and the analysis commands/panel of src/host/analysisPanel.ts).
import type * as vscode from 'vscode';
import type { Checkpoint } from '../formats/checkpoint';
import type { ModelSummary, VitSpec } from '../model/modelTypes';
import type { AnalysisResult, CkaTokens, DeviceName, DistanceConvention } from '../analysis/resultSchema';

/** A checkpoint's header as the host caches it: reader output plus architecture recognition. */
export interface InspectedCheckpoint {
  checkpoint: Checkpoint;
  summary: ModelSummary;
  spec?: VitSpec;
  /** Wall time of the uncached read + recognition, ms. */
  readMs: number;
}

/** Header access, cached by (path, size, mtime, variant, headsOverride). */
export interface HeaderService {
  /** Reads (or returns the cached) header of a checkpoint; throws ModelLensError on bad input. */
  inspect(path: string, opts?: { variant?: string }): Promise<InspectedCheckpoint>;
  /** The cached entry if the file is unchanged since it was read; never reads the file body. */
  peek(path: string, opts?: { variant?: string }): Promise<InspectedCheckpoint | undefined>;
  clear(): void;
}

/** The worker process as the host sees it: started on first use, restarted after it dies. */
export interface WorkerService {
  /** Sends a request to the worker (starting it if needed); aborting `signal` cancels it. */
  request<T>(method: string, params: unknown, signal?: AbortSignal): Promise<T>;
  /** Subscribes to a worker notification (e.g. 'analysis/progress'); survives worker restarts. */
  onNotification(method: string, handler: (params: unknown) => void): vscode.Disposable;
  /** Kills the running worker (the next request starts a fresh one). */
  restart(reason: string): void;
}

/** Effective `modelLens.*` settings. Restricted-mode rules are applied by VS Code itself. */
export interface ModelLensSettings {
  /** Absolute folder, `synthetic` for the synthetic set, or undefined for the bundled photographs. */
  probeImagesFolder: string | undefined;
  probeCount: number;
  batchSize: number;
  device: DeviceName;
  headsOverride: number | undefined;
  cacheSizeLimitMB: number;
  /** DESIGN.md items 7 and 10; absent means the default. */
  distanceConvention?: DistanceConvention | undefined;
  ckaTokens?: CkaTokens | undefined;
  /** `modelLens.imageSize`: analyse at this square input size (px); absent means each model's native size. */
  imageSize?: number | undefined;
}

export interface HostServices {
  readonly context: vscode.ExtensionContext;
  /** The "Model Lens" output channel; worker logs and errors go here ("Show Log"). */
  readonly log: vscode.LogOutputChannel;
  readonly headers: HeaderService;
  readonly worker: WorkerService;
  settings(): ModelLensSettings;
  /** True when the workspace is trusted; otherwise shows why the action waits and returns false. */
  requireTrust(action: string): boolean;
  /** Checkpoint URI from a command argument (explorer, editor title, hover link) or the active inspector. */
  targetUri(arg: unknown): vscode.Uri | undefined;
  /** Quick pick of the checkpoint files in the workspace (with a "Browse…" entry). */
  pickCheckpoint(title: string, exclude?: vscode.Uri): Promise<vscode.Uri | undefined>;
  /**
   * The latest cached analysis of this file as it is now (same path, size, mtime), whatever options
   * produced it; undefined when none. Used by the hover; never runs anything.
   */
  cachedAnalysis(path: string): Promise<AnalysisResult | undefined>;
}
