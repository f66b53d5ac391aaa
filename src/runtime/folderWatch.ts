// Watch mode of a training-run folder: reports a checkpoint file once its size has stayed the same for a
// few seconds (a checkpoint being written grows; torch.save and safetensors writers finish with a rename or a
// last write), each new or changed file once per change. Polling stat is used rather than trusting watch
// events alone, which some file systems (network mounts) do not deliver.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCheckpointExtension } from './checkpointPaths';

export interface FolderWatchOptions {
  /** How long a file's size must stay unchanged (default 3000 ms). */
  stableMs?: number;
  /** Poll interval (default 1000 ms). */
  pollMs?: number;
  /** Called once per new or changed checkpoint, after it is stable. */
  onStable(file: string): void;
  onError?(e: unknown): void;
}

interface Seen {
  size: number;
  mtimeMs: number;
  /** When size/mtime last changed. */
  since: number;
  reported: boolean;
}

export class FolderWatch {
  private readonly seen = new Map<string, Seen>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling = false;

  /** Files present when the watch starts count as already analysed. */
  private constructor(readonly folder: string, private readonly opts: FolderWatchOptions) {}

  static async start(folder: string, opts: FolderWatchOptions): Promise<FolderWatch> {
    const w = new FolderWatch(folder, opts);
    await w.poll(true);
    w.timer = setInterval(() => void w.poll(false), opts.pollMs ?? 1000);
    return w;
  }

  /** One look at the folder; exposed so tests step time explicitly. */
  async poll(initial = false, now = Date.now()): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const names = (await readdir(this.folder)).filter((n) => hasCheckpointExtension(n));
      for (const n of names) {
        const file = join(this.folder, n);
        const st = await stat(file).catch(() => undefined);
        if (!st?.isFile()) continue;
        const prev = this.seen.get(file);
        if (!prev || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs) {
          this.seen.set(file, { size: st.size, mtimeMs: st.mtimeMs, since: now, reported: initial });
          continue;
        }
        if (!prev.reported && st.size > 0 && now - prev.since >= (this.opts.stableMs ?? 3000)) {
          prev.reported = true;
          this.opts.onStable(file);
        }
      }
    } catch (e) {
      this.opts.onError?.(e);
    } finally {
      this.polling = false;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
