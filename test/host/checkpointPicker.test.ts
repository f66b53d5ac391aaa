import { fakeVscode } from './fakeVscode';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickCheckpoint } from '../../src/host/checkpointPicker';

test('the checkpoint picker shows small files in bytes (25 B, not 0 KiB) and large ones in KiB/MiB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-picker-'));
  const fv = fakeVscode as unknown as Record<string, Record<string, unknown>>;
  const prev = { qp: fv['window']!['createQuickPick'], find: fv['workspace']!['findFiles'], rel: fv['workspace']!['asRelativePath'] };
  try {
    writeFileSync(join(dir, 'tiny.pth'), Buffer.alloc(25));
    writeFileSync(join(dir, 'big.safetensors'), Buffer.alloc(3 * 1024 * 1024 + 512 * 1024));
    let items: { label: string; description?: string }[] = [];
    let hide: (() => void) | undefined;
    let settled!: () => void;
    const listed = new Promise<void>((r) => (settled = r));
    fv['window']!['createQuickPick'] = () => {
      const qp = {
        title: '', placeholder: '', matchOnDescription: false, selectedItems: [],
        set busy(b: boolean) {
          if (!b) settled();
        },
        get items() {
          return items;
        },
        set items(v: typeof items) {
          items = v;
        },
        show: () => undefined,
        dispose: () => undefined,
        onDidAccept: () => ({ dispose: () => undefined }),
        onDidHide: (h: () => void) => ((hide = h), { dispose: () => undefined }),
      };
      return qp;
    };
    fv['workspace']!['findFiles'] = async () => [fakeVscode.Uri.file(join(dir, 'tiny.pth')), fakeVscode.Uri.file(join(dir, 'big.safetensors'))];
    fv['workspace']!['asRelativePath'] = (u: { fsPath: string }) => u.fsPath.slice(dir.length + 1);
    const picked = pickCheckpoint('Pick');
    await listed;
    const byLabel = Object.fromEntries(items.map((i) => [i.label, i.description]));
    assert.equal(byLabel['tiny.pth'], '25 B');
    assert.equal(byLabel['big.safetensors'], '3.5 MiB');
    hide?.();
    assert.equal(await picked, undefined);
  } finally {
    fv['window']!['createQuickPick'] = prev.qp;
    fv['workspace']!['findFiles'] = prev.find;
    fv['workspace']!['asRelativePath'] = prev.rel;
    rmSync(dir, { recursive: true, force: true });
  }
});
