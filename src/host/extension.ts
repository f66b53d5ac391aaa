// Activation: builds the shared services (log, worker, header cache, settings, trust) once and
// registers every contributed command, the inspector custom editors and the hover provider.
// activationEvents stay empty: VS Code activates on the contributed commands/editors/languages.
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { hasCheckpointExtension } from '../runtime/checkpointPaths';
import type { DeviceName } from '../analysis/resultSchema';
import { CKA_TOKEN_MODES, DISTANCE_CONVENTIONS } from '../analysis/graph/reductions';
import { SYNTHETIC_PROBES } from '../analysis/probes';
import { WORKER_PING, type WorkerPingParams, type WorkerPong } from '../protocol/workerProtocol';
import { pickCheckpoint } from './checkpointPicker';
import { createHeaderService } from './headerService';
import { CheckpointHoverProvider } from './hoverProvider';
import { INSPECTOR_VIEW_TYPES, InspectorProvider, viewTypeFor } from './inspectorProvider';
import { registerAnalysisCommands } from './analysisCommands';
import { registerTimelineCommands } from './timelineCommands';
import { registerAttention } from './attentionPanel';
import { lookupCachedAnalysis } from './analysisLookup';
import type { HostServices, ModelLensSettings } from './services';
import { ForkedWorker } from './workerHost';
import { probeFolderSetting } from './probeSetting';
import { MAX_IMAGE_SIZE } from '../model/imageSize';

const DEVICES: readonly DeviceName[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

/** Normalises any command argument (Uri, URI string, path, {uri}, revived Uri JSON, arrays) to a Uri. */
export function uriFromArg(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (Array.isArray(arg)) return uriFromArg(arg[0]);
  if (typeof arg === 'string' && arg.length > 0) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      try {
        return vscode.Uri.parse(arg, true);
      } catch {
        return undefined;
      }
    }
    return isAbsolute(arg) ? vscode.Uri.file(arg) : undefined;
  }
  if (typeof arg === 'object' && arg !== null) {
    const o = arg as Record<string, unknown>;
    if (o['uri'] !== undefined) return uriFromArg(o['uri']);
    if (o['resourceUri'] !== undefined) return uriFromArg(o['resourceUri']);
    if (typeof o['scheme'] === 'string' && typeof o['path'] === 'string') {
      return vscode.Uri.from({ scheme: o['scheme'], path: o['path'], authority: typeof o['authority'] === 'string' ? o['authority'] : '' });
    }
  }
  return undefined;
}

/** The file of the active inspector tab, or of the active text editor when it is a checkpoint. */
function activeCheckpointUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && INSPECTOR_VIEW_TYPES.includes(input.viewType)) return input.uri;
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && doc.uri.scheme === 'file' && hasCheckpointExtension(doc.uri.fsPath)) return doc.uri;
  return undefined;
}

function expandPath(p: string, base: string | undefined): string {
  if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) return join(homedir(), p.slice(1));
  if (isAbsolute(p) || base === undefined) return resolve(p);
  return resolve(base, p);
}

function choice<T extends string>(v: unknown, choices: readonly T[]): T | undefined {
  return typeof v === 'string' && (choices as readonly string[]).includes(v) ? (v as T) : undefined;
}

function readSettings(): ModelLensSettings {
  const c = vscode.workspace.getConfiguration('modelLens');
  const folder = c.get<string>('probeImagesFolder', '').trim();
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const device = c.get<string>('device', 'auto');
  const heads = c.get<number | null>('headsOverride', null);
  const size = c.get<number | null>('imageSize', null);
  const int = (v: unknown, dflt: number, min: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= min ? v : dflt);
  return {
    probeImagesFolder: folder.length === 0 ? undefined : folder === SYNTHETIC_PROBES ? SYNTHETIC_PROBES : expandPath(folder, base),
    probeCount: int(c.get('probeCount'), 64, 1),
    batchSize: int(c.get('batchSize'), 16, 1),
    device: (DEVICES as readonly string[]).includes(device) ? (device as DeviceName) : 'auto',
    headsOverride: typeof heads === 'number' && Number.isInteger(heads) && heads > 0 ? heads : undefined,
    cacheSizeLimitMB: int(c.get('cacheSizeLimitMB'), 256, 0),
    distanceConvention: choice(c.get('distanceConvention'), DISTANCE_CONVENTIONS),
    ckaTokens: choice(c.get('ckaTokens'), CKA_TOKEN_MODES),
    imageSize: typeof size === 'number' && Number.isInteger(size) && size > 0 && size <= MAX_IMAGE_SIZE ? size : undefined,
  };
}

function configTarget(): vscode.ConfigurationTarget {
  return vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Model Lens', { log: true });
  const worker = new ForkedWorker(vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath, log);
  const headers = createHeaderService(() => readSettings().headsOverride);
  context.subscriptions.push(log, worker);

  const services: HostServices = {
    context,
    log,
    headers,
    worker,
    settings: readSettings,
    requireTrust: (action) => {
      if (vscode.workspace.isTrusted) return true;
      void vscode.window
        .showWarningMessage(
          `${action} runs the model, which waits until you trust this workspace. Checkpoint headers and tensor statistics stay available in Restricted Mode.`,
          'Manage Workspace Trust',
        )
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
        });
      return false;
    },
    targetUri: (arg) => uriFromArg(arg) ?? activeCheckpointUri(),
    pickCheckpoint,
    cachedAnalysis: (path) => lookupCachedAnalysis(context, path),
  };

  const openInInspector = async (uri: vscode.Uri): Promise<void> => {
    await vscode.commands.executeCommand('vscode.openWith', uri, viewTypeFor(uri));
  };
  const reg = (id: string, fn: (...args: unknown[]) => unknown): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await fn(...args);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          log.error(`${id} failed: ${msg}`);
          void vscode.window.showErrorMessage(`Model Lens: ${msg}`, 'Show Log').then((c) => c && log.show(true));
          return undefined;
        }
      }),
    );
  };

  context.subscriptions.push(...InspectorProvider.register(services), CheckpointHoverProvider.register(services));

  reg('modelLens.openInInspector', async (arg) => {
    const uri = services.targetUri(arg);
    if (!uri) {
      const picked = await pickCheckpoint('Open in Model Lens');
      if (picked) await openInInspector(picked);
      return;
    }
    await openInInspector(uri);
  });
  reg('modelLens.inspectCheckpoint', async () => {
    const uri = await pickCheckpoint('Model Lens: Inspect Checkpoint');
    if (uri) await openInInspector(uri);
  });
  reg('modelLens.reopenWithDefault', async (arg) => {
    const uri = services.targetUri(arg);
    if (!uri) return;
    const active = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (active instanceof vscode.TabInputCustom && INSPECTOR_VIEW_TYPES.includes(active.viewType) && active.uri.toString() === uri.toString()) {
      // VS Code's own "Reopen Editor With Text Editor": replaces the inspector tab in place.
      try {
        await vscode.commands.executeCommand('workbench.action.reopenTextEditor');
        return;
      } catch (e) {
        log.warn(`reopenTextEditor failed, opening beside instead: ${String(e)}`);
      }
    }
    await vscode.commands.executeCommand('vscode.openWith', uri, 'default');
  });
  reg('modelLens.showLog', () => log.show(true));
  reg('modelLens.chooseProbeImages', async () => {
    const current = readSettings().probeImagesFolder;
    const pick = await vscode.window.showQuickPick(
      [
        { label: '$(file-media) Use the bundled photographs', id: 'bundled', description: '64 natural images (the default)' },
        { label: '$(folder-opened) Choose a folder of images…', id: 'folder', description: 'PNG or JPEG; the first N in sorted order are used' },
        { label: '$(beaker) Use the built-in synthetic probe set', id: 'synthetic', description: 'deterministic test patterns; results carry a warning' },
      ],
      { title: 'Model Lens: Probe Images', placeHolder: current === undefined ? 'Now: the bundled photographs' : current === SYNTHETIC_PROBES ? 'Now: the built-in synthetic set' : `Now: ${current}` },
    );
    if (!pick) return;
    if (pick.id !== 'folder') {
      await vscode.workspace.getConfiguration('modelLens').update('probeImagesFolder', pick.id === 'synthetic' ? SYNTHETIC_PROBES : '', configTarget());
      return;
    }
    const folder = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, title: 'Folder of probe images', openLabel: 'Use These Images' });
    if (!folder?.[0]) return;
    const target = configTarget();
    const root = target === vscode.ConfigurationTarget.Workspace ? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath : undefined;
    const value = probeFolderSetting(folder[0].fsPath, root);
    await vscode.workspace.getConfiguration('modelLens').update('probeImagesFolder', value, target);
    void vscode.window.showInformationMessage(`Model Lens will use the images in ${value} as probes.`);
  });
  reg('modelLens.selectDevice', async () => {
    const current = readSettings().device;
    // Ask the worker which execution providers this onnxruntime build has, but never wait long for it.
    const pong = await Promise.race([
      worker.request<WorkerPong>(WORKER_PING, { backends: true } satisfies WorkerPingParams).catch(() => undefined),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000)),
    ]);
    const bundled = new Map((pong?.backends ?? []).map((b) => [b.name, b.bundled]));
    const labels: Record<DeviceName, string> = {
      auto: 'Best available GPU, falling back to CPU',
      cpu: 'CPU',
      webgpu: 'WebGPU',
      cuda: 'CUDA (needs the CUDA provider libraries)',
      dml: 'DirectML (Windows)',
      coreml: 'CoreML (macOS)',
    };
    const items = DEVICES.map((d) => ({
      label: `${d === current ? '$(check) ' : ''}${d}`,
      description: labels[d],
      detail: d === 'auto' || d === 'cpu' || !pong ? undefined : bundled.get(d) ? 'available in this onnxruntime build' : 'not in this onnxruntime build: runs fall back to CPU',
      device: d,
    }));
    const pick = await vscode.window.showQuickPick(items, { title: 'Model Lens: Compute Device', placeHolder: `Now: ${current}` });
    if (pick) await vscode.workspace.getConfiguration('modelLens').update('device', pick.device, vscode.ConfigurationTarget.Global);
  });

  registerAnalysisCommands(context, services);
  registerTimelineCommands(context, services);
  registerAttention(context, services);
  log.info(`Model Lens activated (${vscode.workspace.isTrusted ? 'trusted' : 'restricted'} workspace)`);
}

export function deactivate(): void {
  // Disposables in context.subscriptions (the worker among them) are released by VS Code.
}
