// A thin stand-in for the `vscode` module so activate() can run under node:test. It records what the
// extension registers (commands, custom editors, hover providers, serializers); unknown API members
// become no-op functions returning disposables. Importing this file installs it: import it FIRST.
import Module from 'node:module';
import { resolve as resolvePath, join } from 'node:path';

export interface Recorded {
  commands: string[];
  customEditors: Array<{ viewType: string; options: unknown }>;
  hoverSelectors: unknown[];
  serializers: string[];
  outputChannels: string[];
}

export const recorded: Recorded = { commands: [], customEditors: [], hoverSelectors: [], serializers: [], outputChannels: [] };

class Disposable {
  constructor(private readonly fn?: () => void) {}
  static from(...ds: Array<{ dispose(): unknown }>): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.fn?.();
  }
}

class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query = '',
    readonly fragment = '',
  ) {}
  static file(p: string): Uri {
    return new Uri('file', '', resolvePath(p).replace(/\\/g, '/'));
  }
  static parse(s: string): Uri {
    const u = new URL(s);
    return new Uri(u.protocol.replace(/:$/, ''), u.host, decodeURIComponent(u.pathname));
  }
  static from(c: { scheme: string; authority?: string; path?: string }): Uri {
    return new Uri(c.scheme, c.authority ?? '', c.path ?? '');
  }
  static joinPath(base: Uri, ...segs: string[]): Uri {
    return new Uri(base.scheme, base.authority, join(base.path, ...segs).replace(/\\/g, '/'));
  }
  get fsPath(): string {
    return this.path;
  }
  with(c: { path?: string }): Uri {
    return new Uri(this.scheme, this.authority, c.path ?? this.path);
  }
  toString(): string {
    return `${this.scheme}://${this.authority}${this.path}`;
  }
  toJSON(): unknown {
    return { scheme: this.scheme, authority: this.authority, path: this.path };
  }
}

class EventEmitter<T> {
  private readonly listeners = new Set<(e: T) => void>();
  readonly event = (l: (e: T) => void): Disposable => {
    this.listeners.add(l);
    return new Disposable(() => this.listeners.delete(l));
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

class Position {
  constructor(readonly line: number, readonly character: number) {}
}
class Range {
  constructor(readonly startLine: number, readonly startCharacter: number, readonly endLine: number, readonly endCharacter: number) {}
}
class MarkdownString {
  isTrusted: unknown;
  supportThemeIcons: boolean | undefined;
  constructor(public value = '', supportThemeIcons?: boolean) {
    this.supportThemeIcons = supportThemeIcons;
  }
  appendMarkdown(s: string): this {
    this.value += s;
    return this;
  }
  appendText(s: string): this {
    this.value += s;
    return this;
  }
}
class Hover {
  constructor(readonly contents: unknown, readonly range?: unknown) {}
}
class RelativePattern {
  constructor(readonly base: unknown, readonly pattern: string) {}
}
class TabInputCustom {
  constructor(readonly uri: Uri, readonly viewType: string) {}
}
class TabInputText {
  constructor(readonly uri: Uri) {}
}
class TabInputWebview {
  constructor(readonly viewType: string) {}
}
class CancellationTokenSource {
  token = { isCancellationRequested: false, onCancellationRequested: (): Disposable => new Disposable() };
  cancel(): void {
    this.token.isCancellationRequested = true;
  }
  dispose(): void {}
}
class ThemeColor {
  constructor(readonly id: string) {}
}
class ThemeIcon {
  constructor(readonly id: string) {}
}

const noop = (): Disposable => new Disposable();
const event = (): Disposable => new Disposable();

/** Proxies that answer any unknown member with a no-op returning a Disposable. */
function tolerant<T extends object>(target: T): T {
  return new Proxy(target, {
    get(t, k) {
      if (k in t) return (t as Record<string | symbol, unknown>)[k];
      if (typeof k === 'string' && k.startsWith('onDid')) return event;
      return noop;
    },
  });
}

function fakeLog(name: string): unknown {
  recorded.outputChannels.push(name);
  return tolerant({ name, info: (): void => undefined, warn: (): void => undefined, error: (): void => undefined, debug: (): void => undefined, trace: (): void => undefined, appendLine: (): void => undefined, show: (): void => undefined, dispose: (): void => undefined });
}

const config = { get: <T>(_k: string, d?: T): T | undefined => d, update: async (): Promise<void> => undefined, has: (): boolean => false, inspect: (): undefined => undefined };

export const fakeVscode = {
  Disposable,
  Uri,
  EventEmitter,
  Position,
  Range,
  MarkdownString,
  Hover,
  RelativePattern,
  TabInputCustom,
  TabInputText,
  TabInputWebview,
  CancellationTokenSource,
  ThemeColor,
  ThemeIcon,
  ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2, Three: 3 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  ExtensionMode: { Production: 1, Development: 2, Test: 3 },
  LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
  env: tolerant({ language: 'en', appName: 'fake', clipboard: tolerant({}) }),
  version: '1.100.0',
  window: tolerant({
    createOutputChannel: (name: string) => fakeLog(name),
    registerCustomEditorProvider: (viewType: string, _p: unknown, options: unknown) => {
      recorded.customEditors.push({ viewType, options });
      return new Disposable();
    },
    registerWebviewPanelSerializer: (viewType: string) => {
      recorded.serializers.push(viewType);
      return new Disposable();
    },
    tabGroups: tolerant({ all: [], activeTabGroup: { activeTab: undefined, tabs: [] } }),
    activeTextEditor: undefined,
    visibleTextEditors: [],
    showInformationMessage: async (): Promise<undefined> => undefined,
    showWarningMessage: async (): Promise<undefined> => undefined,
    showErrorMessage: async (): Promise<undefined> => undefined,
  }),
  workspace: tolerant({
    isTrusted: true,
    workspaceFolders: undefined,
    getConfiguration: () => config,
    createFileSystemWatcher: () => tolerant({ dispose: (): void => undefined }),
    fs: tolerant({}),
  }),
  commands: tolerant({
    registerCommand: (id: string) => {
      recorded.commands.push(id);
      return new Disposable();
    },
    executeCommand: async (): Promise<undefined> => undefined,
    getCommands: async (): Promise<string[]> => recorded.commands.slice(),
  }),
  languages: tolerant({
    registerHoverProvider: (selector: unknown) => {
      recorded.hoverSelectors.push(selector);
      return new Disposable();
    },
  }),
};

/** A minimal ExtensionContext rooted at `extensionPath`. */
export function fakeContext(extensionPath: string): { subscriptions: Array<{ dispose(): unknown }>; extensionUri: Uri; extensionPath: string; globalStorageUri: Uri; storageUri: undefined; globalState: unknown; workspaceState: unknown; extensionMode: number; asAbsolutePath(p: string): string } {
  const memento = (): unknown => {
    const m = new Map<string, unknown>();
    return { get: (k: string, d?: unknown) => (m.has(k) ? m.get(k) : d), update: async (k: string, v: unknown) => void m.set(k, v), keys: () => [...m.keys()], setKeysForSync: () => undefined };
  };
  return {
    subscriptions: [],
    extensionUri: Uri.file(extensionPath),
    extensionPath,
    globalStorageUri: Uri.file(join(extensionPath, '.fake-global-storage')),
    storageUri: undefined,
    globalState: memento(),
    workspaceState: memento(),
    extensionMode: 3,
    asAbsolutePath: (p: string) => join(extensionPath, p),
  };
}

// Install: resolve `vscode` to a fake id whose module is already in the require cache.
const FAKE_ID = resolvePath('/__model_lens_fake_vscode__.js');
const M = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const original = M._resolveFilename;
M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  if (request === 'vscode') return FAKE_ID;
  return original.call(this, request, ...rest);
};
const cached = new Module(FAKE_ID);
cached.filename = FAKE_ID;
cached.loaded = true;
cached.exports = fakeVscode;
require.cache[FAKE_ID] = cached;
