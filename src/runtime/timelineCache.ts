// Per-checkpoint entries of training-run timelines: the checkpoint's analysis plus its per-batch Gram
// stacks (for CKA against whichever checkpoint is the run's last). Written atomically as each checkpoint
// finishes, so reopening a run is instant and an interrupted or cancelled run resumes where it stopped.
// Entries live in `timeline/` of the result cache folder (clearing the cache clears them).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalysisResult } from '../analysis/resultSchema';
import { isAnalysisResult } from '../protocol/analysisResultCheck';
import { cacheKey, type CacheKeyInput } from './cache';

/** One batch's Gram stack [L,n,n] of a checkpoint. */
export interface GramBatch {
  n: number;
  data: Float32Array;
}

export interface TimelineEntry {
  result: AnalysisResult;
  grams: GramBatch[];
}

interface Stored {
  key: string;
  result: AnalysisResult;
  grams: Array<{ n: number; b64: string }>;
}

export class TimelineCache {
  constructor(readonly dir: string) {}

  private async path(params: CacheKeyInput): Promise<{ key: string; path: string }> {
    const { key } = await cacheKey(params);
    const full = `timeline\u0001${key}`;
    return { key: full, path: join(this.dir, 'timeline', `${createHash('sha256').update(full).digest('hex').slice(0, 40)}.json`) };
  }

  /** The entry of this checkpoint as it is now (path, size, mtime) with these options; undefined if none or unreadable. */
  async get(params: CacheKeyInput): Promise<TimelineEntry | undefined> {
    try {
      const { key, path } = await this.path(params);
      const s = JSON.parse(await readFile(path, 'utf8')) as Stored;
      if (s.key !== key || !isAnalysisResult(s.result) || !Array.isArray(s.grams)) return undefined;
      const layers = s.result.cka.matrix.length;
      const grams = s.grams.map((g) => {
        const buf = Buffer.from(g.b64, 'base64');
        const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
        if (!(Number.isInteger(g.n) && data.length === layers * g.n * g.n)) throw new RangeError('bad gram');
        return { n: g.n, data };
      });
      return { result: s.result, grams };
    } catch {
      return undefined;
    }
  }

  async put(params: CacheKeyInput, entry: TimelineEntry): Promise<void> {
    const { key, path } = await this.path(params);
    await mkdir(join(this.dir, 'timeline'), { recursive: true });
    const stored: Stored = {
      key,
      result: entry.result,
      grams: entry.grams.map((g) => ({ n: g.n, b64: Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).toString('base64') })),
    };
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(stored));
    await rename(tmp, path);
  }
}
