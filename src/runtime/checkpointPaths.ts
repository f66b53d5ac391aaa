// Finding a checkpoint path in a line of source text and resolving it to a file, without vscode,
// so the hover's logic is testable and the same everywhere (python strings, YAML values, shell args).
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * File endings Model Lens opens, lower case with the dot: single-file checkpoints, and the index files of
 * sharded Hugging Face checkpoints (model.safetensors.index.json, pytorch_model.bin.index.json), which
 * the readers open as one model. Other .json files are configs, not checkpoints. `.pth.tar` is the name
 * MoCo, DeiT and many lab scripts give torch checkpoints; the readers go by the content, not the name.
 */
export const CHECKPOINT_EXTENSIONS: readonly string[] = ['.safetensors', '.pth', '.pt', '.ckpt', '.bin', '.onnx', '.pth.tar', '.safetensors.index.json', '.bin.index.json'];

/** Glob of checkpoint files (sharded indexes included) for workspace searches. */
export const CHECKPOINT_GLOB = '**/*.{safetensors,pth,pt,ckpt,bin,onnx,pth.tar,safetensors.index.json,bin.index.json}';

/** Longest string the hover considers a path; longer ones are prose, not paths. */
const MAX_PATH_CHARS = 4096;

export function hasCheckpointExtension(path: string): boolean {
  const lower = path.toLowerCase();
  return CHECKPOINT_EXTENSIONS.some((e) => lower.endsWith(e) && lower.length > e.length);
}

/** A path-like span of a line: `text` is line.slice(start, end). */
export interface PathSpan {
  text: string;
  start: number;
  end: number;
}

const QUOTES = new Set(['"', "'", '`']);
// Characters that end an unquoted token: whitespace, quotes, brackets, and shell/markup separators.
const TOKEN_BREAK = /[\s"'`,;()[\]{}<>|&=*]/;

/**
 * The checkpoint path under `character` in `line`: the quoted string containing the cursor, else the
 * unquoted token (YAML value, shell argument, markdown link target). Undefined when the span does not
 * end with a checkpoint extension, so no file system access happens for ordinary text.
 */
export function pathAt(line: string, character: number): PathSpan | undefined {
  const span = spanAt(line, character);
  return span && hasCheckpointExtension(span.text) ? span : undefined;
}

/**
 * A path under the cursor that may name a folder (a training run's output directory): like `pathAt` but
 * without the extension, so it must look like a path (a separator, or `~` / `.` first) before anything
 * on disk is asked about it.
 */
export function folderPathAt(line: string, character: number): PathSpan | undefined {
  const span = spanAt(line, character);
  if (!span || hasCheckpointExtension(span.text) || /[\r\n\t]/.test(span.text)) return undefined;
  return /[\\/]/.test(span.text) || /^(~|\.\.?)([\\/]|$)/.test(span.text) ? span : undefined;
}

function spanAt(line: string, character: number): PathSpan | undefined {
  if (character < 0 || character > line.length) return undefined;
  const quoted = quotedSpanAt(line, character);
  const span = quoted ?? tokenAt(line, character);
  if (!span) return undefined;
  let { text, start, end } = span;
  // "key: value" in YAML/TOML without quotes, "--flag=value" already split at '='.
  if (!quoted) {
    const trimmed = text.replace(/[.:,;!?]+$/, '');
    end -= text.length - trimmed.length;
    text = trimmed;
    const keyMatch = /^[A-Za-z_][\w.-]*:(?![\\/])/.exec(text);
    if (keyMatch && !/^[A-Za-z]:[\\/]/.test(text) && !/^file:/.test(text)) {
      start += keyMatch[0].length;
      text = text.slice(keyMatch[0].length);
    }
    if (character < start || character > end) return undefined;
  }
  text = text.trim();
  if (text.length === 0 || text.length > MAX_PATH_CHARS) return undefined;
  return { text, start, end };
}

function quotedSpanAt(line: string, character: number): PathSpan | undefined {
  // Pair quotes left to right (honouring backslash escapes) and pick the pair that contains the cursor.
  let open = -1;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (open >= 0) {
      if (ch === '\\' && quote !== '`') {
        i++;
        continue;
      }
      if (ch === quote) {
        if (character > open && character <= i) return { text: line.slice(open + 1, i), start: open + 1, end: i };
        open = -1;
      }
    } else if (QUOTES.has(ch)) {
      open = i;
      quote = ch;
    }
  }
  return undefined;
}

function tokenAt(line: string, character: number): PathSpan | undefined {
  let start = character;
  while (start > 0 && !TOKEN_BREAK.test(line[start - 1]!)) start--;
  let end = character;
  while (end < line.length && !TOKEN_BREAK.test(line[end]!)) end++;
  if (end <= start) return undefined;
  return { text: line.slice(start, end), start, end };
}

/** Where a relative path may be anchored. */
export interface ResolveContext {
  /** Folder of the file being edited (undefined for untitled documents). */
  documentDir?: string;
  /** Workspace folder paths, in order. */
  workspaceFolders: readonly string[];
  homeDir: string;
}

/**
 * Absolute candidate paths for a path written in a file, in the order they are tried: `~` expanded,
 * `file://` URIs decoded, absolute paths as is, else relative to the file, then to each workspace folder.
 */
export function candidatePaths(text: string, ctx: ResolveContext): string[] {
  let p = text.trim();
  if (p.startsWith('file://')) {
    try {
      return [fileURLToPath(p)];
    } catch {
      return [];
    }
  }
  if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) return [join(ctx.homeDir, p.slice(1))];
  if (isAbsolute(p)) return [resolve(p)];
  if (p.startsWith('./') || p.startsWith('.\\')) p = p.slice(2);
  const out: string[] = [];
  const bases = [...(ctx.documentDir !== undefined ? [ctx.documentDir] : []), ...ctx.workspaceFolders];
  for (const base of bases) {
    const c = resolve(base, p);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** The first candidate for which `isFile` holds, or undefined. */
export async function resolveCheckpointPath(
  text: string,
  ctx: ResolveContext,
  isFile: (path: string) => Promise<boolean>,
): Promise<string | undefined> {
  if (!hasCheckpointExtension(text)) return undefined;
  for (const c of candidatePaths(text, ctx)) {
    if (await isFile(c)) return c;
  }
  return undefined;
}

/** The first candidate for which `isDir` holds (a folder path written in a file), or undefined. */
export async function resolveFolderPath(
  text: string,
  ctx: ResolveContext,
  isDir: (path: string) => Promise<boolean>,
): Promise<string | undefined> {
  for (const c of candidatePaths(text.replace(/[\\/]+$/, '') || text, ctx)) {
    if (await isDir(c)) return c;
  }
  return undefined;
}
