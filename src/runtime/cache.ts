// On-disk cache of analysis results, one implementation for the CLI (folder: defaultCacheDir()) and the
// extension (its global storage), keyed by the identity of each checkpoint (path, size, mtime), the options
// that change the numbers (weight variant included) and the probe set's identity. Least recently used
// entries are evicted above a size limit. Plain node, no vscode.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileIdentity, type FileIdentity } from './headerCache';
import { SYNTHETIC_PROBES, bundledProbeSet, folderProbeSet } from '../analysis/probes';
import type { AnalysisResult } from '../analysis/resultSchema';
import { isAnalysisResult } from '../protocol/analysisResultCheck';

/** Version of the key layout; bump when the engine's numbers change meaning, so old entries are never served. */
export const CACHE_VERSION = 'model-lens-cache-v3';
export const DEFAULT_CACHE_LIMIT_MB = 256;

/** The options of a run that change its result (AnalysisRunParams fits; jobId is not part of the key). */
export interface CacheKeyInput {
  file: string;
  fileB?: string | undefined;
  more?: readonly string[] | undefined;
  images?: string | undefined;
  limit?: number | undefined;
  batchSize: number;
  device: string;
  heads?: number | undefined;
  headsB?: number | undefined;
  headsForce?: boolean | undefined;
  variant?: string | undefined;
  variantB?: string | undefined;
  distanceConvention?: string | undefined;
  ckaTokens?: string | undefined;
  imageSize?: number | undefined;
}

/** The cache the CLI and the analysis commands use. */
export interface ResultCache {
  /** The folder the entries live in. */
  readonly dir: string;
  /** The cached result of a run with these options on these files as they are now; a hit refreshes its LRU time. */
  get(params: CacheKeyInput): Promise<AnalysisResult | undefined>;
  put(params: CacheKeyInput, result: AnalysisResult): Promise<void>;
  /** Newest cached result whose first checkpoint is `path` as it is now, whatever the options (hover). */
  latestFor(path: string): Promise<AnalysisResult | undefined>;
  clear(): Promise<{ entries: number; bytes: number }>;
}

/** $XDG_CACHE_HOME/model-lens, else ~/.cache/model-lens (LOCALAPPDATA on Windows). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env['MODEL_LENS_CACHE_DIR']) return resolve(env['MODEL_LENS_CACHE_DIR']);
  if (env['XDG_CACHE_HOME']) return join(env['XDG_CACHE_HOME'], 'model-lens');
  if (platform === 'win32' && env['LOCALAPPDATA']) return join(env['LOCALAPPDATA'], 'model-lens', 'cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'model-lens');
  return join(homedir(), '.cache', 'model-lens');
}

interface Stored {
  key: string;
  files: FileIdentity[];
  savedAt: number;
  result: AnalysisResult;
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Identity of the probe set the params select (folder listing with sizes and mtimes: the bundled one or the user's; or the synthetic set). */
export function probeIdentity(params: CacheKeyInput): string {
  if (params.images === SYNTHETIC_PROBES) return `synthetic\0${params.limit ?? 'default'}`;
  if (params.images === undefined) return `bundled\0${bundledProbeSet(params.limit).hash}`;
  return `folder\0${folderProbeSet(params.images, params.limit).hash}`;
}

/** Cache key of a run: everything that changes the numbers. jobId is not part of it. */
export async function cacheKey(params: CacheKeyInput): Promise<{ key: string; files: FileIdentity[] }> {
  const files = [await fileIdentity(params.file)];
  if (params.fileB !== undefined) files.push(await fileIdentity(params.fileB));
  for (const f of params.more ?? []) files.push(await fileIdentity(f));
  const opts = [params.batchSize, params.device, params.limit ?? '', params.heads ?? '', params.headsB ?? '', params.variant ?? '', params.variantB ?? '', params.distanceConvention ?? 'renormalised', params.ckaTokens ?? 'all', ...(params.headsForce ? ['force'] : []), ...(params.imageSize !== undefined ? [`size=${params.imageSize}`] : [])].join('\0');
  const key = [CACHE_VERSION, ...files.map((f) => `${f.path}\0${f.size}\0${f.mtimeMs}`), opts, probeIdentity(params)].join('\u0001');
  return { key, files };
}

/** Entry file name: hash of the first checkpoint's path (for latestFor), then hash of the whole key. */
function entryName(firstPath: string, key: string): string {
  return `${sha(firstPath).slice(0, 16)}-${sha(key).slice(0, 32)}.json`;
}

/**
 * The cache in `dir`. `limitMB()` is read on every write (a setting may change); 0 or less disables the
 * cache (nothing is read or written).
 */
export function createResultCache(dir: string, limitMB: () => number = () => DEFAULT_CACHE_LIMIT_MB): ResultCache {

  const readEntry = async (path: string): Promise<Stored | undefined> => {
    try {
      const s = JSON.parse(await readFile(path, 'utf8')) as Stored;
      return s && typeof s.key === 'string' && Array.isArray(s.files) && isAnalysisResult(s.result) ? s : undefined;
    } catch {
      return undefined;
    }
  };

  const stillValid = async (s: Stored): Promise<boolean> => {
    for (const f of s.files) {
      try {
        const now = await fileIdentity(f.path);
        if (now.size !== f.size || now.mtimeMs !== f.mtimeMs) return false;
      } catch {
        return false;
      }
    }
    return true;
  };

  const evict = async (limitBytes: number): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    } catch {
      return;
    }
    const entries = await Promise.all(
      names.map(async (n) => {
        const st = await stat(join(dir, n)).catch(() => undefined);
        return { n, size: st?.size ?? 0, used: st?.mtimeMs ?? 0 };
      }),
    );
    entries.sort((a, b) => b.used - a.used);
    let total = 0;
    for (const e of entries) {
      total += e.size;
      if (total > limitBytes) await rm(join(dir, e.n), { force: true });
    }
  };

  return {
    dir,
    async get(params) {
      if (limitMB() <= 0) return undefined;
      const { key, files } = await cacheKey(params);
      const path = join(dir, entryName(files[0]!.path, key));
      const s = await readEntry(path);
      if (!s || s.key !== key) return undefined;
      // Reading marks the entry as recently used (LRU by mtime).
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined);
      return s.result;
    },
    async put(params, result) {
      const limit = limitMB();
      if (limit <= 0) return;
      const { key, files } = await cacheKey(params);
      await mkdir(dir, { recursive: true });
      const path = join(dir, entryName(files[0]!.path, key));
      const tmp = `${path}.${process.pid}.tmp`;
      const stored: Stored = { key, files, savedAt: Date.now(), result };
      await writeFile(tmp, JSON.stringify(stored));
      await rename(tmp, path);
      await evict(limit * 1024 * 1024);
    },
    async latestFor(path) {
      const prefix = `${sha((await fileIdentity(path)).path).slice(0, 16)}-`;
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => n.startsWith(prefix) && n.endsWith('.json'));
      } catch {
        return undefined;
      }
      const stored = (await Promise.all(names.map((n) => readEntry(join(dir, n))))).filter((s): s is Stored => s !== undefined);
      stored.sort((a, b) => b.savedAt - a.savedAt);
      for (const s of stored) if (s.files.length === 1 && (await stillValid(s))) return s.result;
      for (const s of stored) if (await stillValid(s)) return s.result;
      return undefined;
    },
    async clear() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return { entries: 0, bytes: 0 };
      }
      let bytes = 0;
      let entries = 0;
      for (const n of names) {
        const st = await stat(join(dir, n)).catch(() => undefined);
        bytes += st?.size ?? 0;
        if (n.endsWith('.json')) entries++;
        await rm(join(dir, n), { force: true, recursive: true });
      }
      return { entries, bytes };
    },
  };
}
