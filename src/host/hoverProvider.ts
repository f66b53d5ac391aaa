// Hover summaries: a string under the cursor that names an existing checkpoint (relative to the file,
// then each workspace folder, `~` expanded) gets a one-line summary, the cached analysis if any, and
// command links. Any document of a hover language qualifies (files, untitled, Jupyter notebook cells, diff
// views); relative paths anchor only at local folders (the file's or the notebook's, the workspace's), and
// only the local file system is read, as for a file the user opens themselves. Header reads go through the (path, size, mtime) cache, so repeat hovers cost a stat().
import * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { TimelineCache, type RunSummary } from '../runtime/timelineCache';
import { ANALYSIS_CACHE_FOLDER } from './analysisLookup';
import { folderPathAt, pathAt, resolveCheckpointPath, resolveFolderPath } from '../runtime/checkpointPaths';
import { isModelLensError } from '../formats/errors';
import { hoverMarkdown, runFolderMarkdown, type HoverParts } from './hoverContent';
import { ANALYZE_RUN_COMMAND } from './timelineCommands';
import { weightsOnlyNote, weightsOnlyRefusals } from '../formats/weightsOnly';
import type { HostServices } from './services';

/** Languages whose files name checkpoints: training scripts, configs, launch scripts, notes. */
export const HOVER_LANGUAGES: readonly string[] = ['python', 'yaml', 'json', 'jsonc', 'toml', 'shellscript', 'markdown'];

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function commandUri(command: string, args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

/**
 * The local folder a document's relative paths start from: its own for a file, its notebook's for a
 * notebook cell (a cell is a document of its own, scheme vscode-notebook-cell), none otherwise.
 */
export function documentDir(doc: vscode.TextDocument): string | undefined {
  const u = doc.uri;
  if (u.scheme === 'file') return dirname(u.fsPath);
  if (u.scheme === 'vscode-notebook-cell' || u.scheme === 'vscode-interactive-input') {
    const nb = vscode.workspace.notebookDocuments.find((n) => n.getCells().some((c) => c.document === doc || c.document.uri.toString() === u.toString()));
    if (nb?.uri.scheme === 'file') return dirname(nb.uri.fsPath);
  }
  return undefined;
}

export class CheckpointHoverProvider implements vscode.HoverProvider {
  constructor(private readonly services: HostServices) {}

  static register(services: HostServices): vscode.Disposable {
    const selector: vscode.DocumentSelector = HOVER_LANGUAGES.map((language) => ({ language }));
    return vscode.languages.registerHoverProvider(selector, new CheckpointHoverProvider(services));
  }

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const line = doc.lineAt(pos.line).text;
    if (line.length > 10_000) return undefined;
    const span = pathAt(line, pos.character);
    const folderSpan = span ? undefined : folderPathAt(line, pos.character);
    if (!span && !folderSpan) return undefined;
    const ctx = {
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
      homeDir: homedir(),
    };
    const dir = documentDir(doc);
    if (dir !== undefined) Object.assign(ctx, { documentDir: dir });
    const hover = (md: string, s: { start: number; end: number }, commands: string[]): vscode.Hover => {
      const ms = new vscode.MarkdownString(md, true);
      ms.isTrusted = { enabledCommands: commands };
      return new vscode.Hover(ms, new vscode.Range(pos.line, s.start, pos.line, s.end));
    };
    if (folderSpan) {
      // A folder path says something only when it is a run Model Lens has analysed.
      const folder = await resolveFolderPath(folderSpan.text, ctx, isDir);
      const md = folder !== undefined && !token.isCancellationRequested ? await this.runFolderMarkdownFor(folder).catch(() => undefined) : undefined;
      return md === undefined || token.isCancellationRequested ? undefined : hover(md, folderSpan, [ANALYZE_RUN_COMMAND]);
    }
    if (!span) return undefined;
    const file = await resolveCheckpointPath(span.text, ctx, isFile);
    if (!file || token.isCancellationRequested) return undefined;
    const md = await this.markdownFor(file);
    if (token.isCancellationRequested) return undefined;
    return hover(md, span, ['modelLens.openInInspector', 'modelLens.analyze']);
  }

  /** The hover text for a folder whose training run was analysed, or undefined for any other folder. */
  async runFolderMarkdownFor(folder: string): Promise<string | undefined> {
    const run = await new TimelineCache(join(this.services.context.globalStorageUri.fsPath, ANALYSIS_CACHE_FOLDER)).run(folder);
    return run ? runFolderMarkdown(run, commandUri(ANALYZE_RUN_COMMAND, [vscode.Uri.file(folder).toString()])) : undefined;
  }

  /** The analysed training run `file` belongs to (its folder's last timeline), if any. */
  private async runOf(file: string): Promise<RunSummary | undefined> {
    return new TimelineCache(join(this.services.context.globalStorageUri.fsPath, ANALYSIS_CACHE_FOLDER)).runOf(file);
  }

  /** The hover text for an existing checkpoint file; exported through the class for the benchmark. */
  async markdownFor(file: string): Promise<string> {
    const uri = vscode.Uri.file(file);
    const parts: HoverParts = {
      file,
      sizeBytes: 0,
      openCommand: commandUri('modelLens.openInInspector', [uri.toString()]),
    };
    try {
      const ic = await this.services.headers.inspect(file);
      parts.sizeBytes = ic.checkpoint.sizeBytes;
      parts.summary = ic.summary;
      parts.findings = {
        total: ic.checkpoint.findings.filter((f) => f.severity !== 'info').length,
        danger: ic.checkpoint.findings.filter((f) => f.severity === 'danger').length,
      };
      const weightsOnly = weightsOnlyNote(weightsOnlyRefusals(ic.checkpoint.findings), parts.findings.danger > 0);
      if (weightsOnly) parts.weightsOnly = weightsOnly;
      if (!ic.summary.notAnalyzable) parts.analyzeCommand = commandUri('modelLens.analyze', [uri.toString()]);
      const analysis = await this.services.cachedAnalysis(file).catch(() => undefined);
      if (analysis) parts.analysis = analysis;
      const run = await this.runOf(file).catch(() => undefined);
      if (run) parts.run = run;
    } catch (e) {
      parts.error = isModelLensError(e)
        ? { problem: e.problem, ...(e.offset !== undefined ? { offset: e.offset } : {}) }
        : { problem: e instanceof Error ? e.message : String(e) };
    }
    return hoverMarkdown(parts);
  }
}
