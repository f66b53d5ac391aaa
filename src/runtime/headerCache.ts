// Memoises header reads by file identity (path, size, mtime) plus the read options, so a hover over a
// multi-GB checkpoint costs one stat() after the first read. Failures are cached too: a bad file is
// deterministic until it changes, and re-parsing it on every mouse move would be wasted work.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ModelLensError } from '../formats/errors';

export interface FileIdentity {
  path: string;
  size: number;
  mtimeMs: number;
}

interface Entry<T> {
  identity: FileIdentity;
  value: Promise<T>;
  settled?: { ok: true; value: T } | { ok: false; error: unknown };
}

export async function fileIdentity(path: string): Promise<FileIdentity> {
  const abs = resolve(path);
  let st;
  try {
    st = await stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelLensError(code === 'ENOENT' ? 'not-found' : 'io', abs, code === 'ENOENT' ? 'file not found' : `cannot stat: ${code ?? String(e)}`);
  }
  if (!st.isFile()) throw new ModelLensError('io', abs, 'not a regular file');
  return { path: abs, size: st.size, mtimeMs: st.mtimeMs };
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.path === b.path && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** LRU cache of `load(path, optionsKey)` results keyed by file identity and an options key. */
export class HeaderCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly load: (path: string, optionsKey: string) => Promise<T>,
    private readonly maxEntries = 64,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value for the file as it is now; reads it when unseen or changed since the last read. */
  async get(path: string, optionsKey = ''): Promise<T> {
    const id = await fileIdentity(path);
    const key = `${id.path}\u0000${optionsKey}`;
    const hit = this.entries.get(key);
    if (hit && sameIdentity(hit.identity, id)) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const entry: Entry<T> = { identity: id, value: this.load(id.path, optionsKey) };
    entry.value.then(
      (value) => (entry.settled = { ok: true, value }),
      (error: unknown) => (entry.settled = { ok: false, error }),
    );
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return entry.value;
  }

  /** The settled value for the unchanged file, without reading it; undefined otherwise. */
  async peek(path: string, optionsKey = ''): Promise<T | undefined> {
    let id: FileIdentity;
    try {
      id = await fileIdentity(path);
    } catch {
      return undefined;
    }
    const hit = this.entries.get(`${id.path}\u0000${optionsKey}`);
    if (!hit || !sameIdentity(hit.identity, id) || !hit.settled?.ok) return undefined;
    return hit.settled.value;
  }

  clear(): void {
    this.entries.clear();
  }
}
