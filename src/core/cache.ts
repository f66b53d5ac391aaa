// On-disk cache of analysis results, keyed by the identity of each checkpoint (path, size, mtime), the
// options that change the numbers, and the probe set's hash. Least recently used entries are evicted
// above a size limit. Used by the CLI (its folder is printed by --help); plain node, no vscode.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { folderProbeSet } from './probes';
import { ANALYSIS_SCHEMA, type AnalysisResult } from './resultSchema';

/** Bump when the engine's numbers change meaning, so old entries are never served. */
export const CACHE_VERSION = 'model-lens-cache-v1';
export const DEFAULT_CACHE_LIMIT_BYTES = 256 * 1024 * 1024;

/** The options of a run that change its result (a subset of AnalysisRunParams). */
export interface CacheKeyInput {
  file: string;
  fileB?: string | undefined;
  images?: string | undefined;
  limit?: number | undefined;
  batchSize: number;
  device: string;
  heads?: number | undefined;
  headsB?: number | undefined;
  variant?: string | undefined;
  variantB?: string | undefined;
}

/** $XDG_CACHE_HOME/model-lens, else ~/.cache/model-lens (LOCALAPPDATA on Windows). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env['MODEL_LENS_CACHE_DIR']) return resolve(env['MODEL_LENS_CACHE_DIR']);
  if (env['XDG_CACHE_HOME']) return join(env['XDG_CACHE_HOME'], 'model-lens');
  if (platform === 'win32' && env['LOCALAPPDATA']) return join(env['LOCALAPPDATA'], 'model-lens', 'cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'model-lens');
  return join(homedir(), '.cache', 'model-lens');
}

async function identity(path: string): Promise<string> {
  const abs = resolve(path);
  const st = await stat(abs);
  return `${abs}\0${st.size}\0${st.mtimeMs}`;
}

/** The full key of a run; throws (like the run would) when a checkpoint or the image folder is missing. */
export async function analysisCacheKey(p: CacheKeyInput): Promise<string> {
  const parts = [CACHE_VERSION, await identity(p.file), p.fileB !== undefined ? await identity(p.fileB) : ''];
  parts.push([p.batchSize, p.device, p.limit ?? '', p.heads ?? '', p.headsB ?? '', p.variant ?? '', p.variantB ?? ''].join('\0'));
  parts.push(p.images !== undefined ? `folder:${folderProbeSet(p.images, p.limit).hash}` : `synthetic:${p.limit ?? 'default'}`);
  return parts.join('\u0001');
}

interface Entry {
  key: string;
  savedAt: number;
  result: AnalysisResult;
}

export class ResultCache {
  constructor(readonly dir: string, readonly limitBytes = DEFAULT_CACHE_LIMIT_BYTES) {}

  private path(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`);
  }

  /** The cached result for `key`, or undefined; a hit refreshes the entry's LRU time. */
  async get(key: string): Promise<AnalysisResult | undefined> {
    const p = this.path(key);
    let entry: Entry;
    try {
      entry = JSON.parse(await readFile(p, 'utf8')) as Entry;
    } catch {
      return undefined;
    }
    if (entry.key !== key || entry.result?.schema !== ANALYSIS_SCHEMA) return undefined;
    const now = new Date();
    await utimes(p, now, now).catch(() => undefined);
    return entry.result;
  }

  async put(key: string, result: AnalysisResult): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const p = this.path(key);
    const tmp = `${p}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ key, savedAt: Date.now(), result } satisfies Entry));
    await rename(tmp, p);
    await this.evict();
  }

  /** Removes least recently used entries until the folder is under the limit. */
  async evict(): Promise<number> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch {
      return 0;
    }
    const entries: Array<{ p: string; size: number; t: number }> = [];
    for (const n of names) {
      const p = join(this.dir, n);
      const st = await stat(p).catch(() => undefined);
      if (st) entries.push({ p, size: st.size, t: st.mtimeMs });
    }
    let total = entries.reduce((s, e) => s + e.size, 0);
    entries.sort((a, b) => a.t - b.t);
    let removed = 0;
    for (const e of entries) {
      if (total <= this.limitBytes) break;
      await rm(e.p, { force: true });
      total -= e.size;
      removed++;
    }
    return removed;
  }

  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
