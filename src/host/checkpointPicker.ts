// Quick pick of the checkpoint files in the workspace ("Inspect Checkpoint…", "Compare With…").
import * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import { CHECKPOINT_GLOB } from '../runtime/checkpointPaths';
import { formatBytesShort } from './hoverContent';

/** More files than this is a dataset folder, not a list to scroll; the pick says it was cut. */
const MAX_FILES = 2000;

interface Item extends vscode.QuickPickItem {
  uri?: vscode.Uri;
  browse?: boolean;
}


export async function pickCheckpoint(title: string, exclude?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = title;
  qp.placeholder = 'Checkpoint files in the workspace (type to filter)';
  qp.matchOnDescription = true;
  qp.busy = true;
  const browse: Item = { label: '$(folder-opened) Browse…', description: 'Choose a file outside the list', browse: true, alwaysShow: true };
  qp.items = [browse];
  qp.show();
  const cts = new vscode.CancellationTokenSource();
  const found = vscode.workspace
    .findFiles(CHECKPOINT_GLOB, '{**/node_modules/**,**/.git/**}', MAX_FILES + 1, cts.token)
    .then(async (uris) => {
      const list = uris.filter((u) => u.toString() !== exclude?.toString()).slice(0, MAX_FILES);
      list.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
      const items: Item[] = await Promise.all(
        list.map(async (uri): Promise<Item> => {
          const size = await stat(uri.fsPath).then((s) => s.size, () => undefined);
          const rel = vscode.workspace.asRelativePath(uri, true);
          const slash = rel.lastIndexOf('/');
          return {
            label: slash >= 0 ? rel.slice(slash + 1) : rel,
            description: [slash >= 0 ? rel.slice(0, slash) : '', size !== undefined ? formatBytesShort(size) : ''].filter((x) => x).join(' · '),
            uri,
          };
        }),
      );
      qp.items = [...items, browse];
      if (uris.length > MAX_FILES) qp.title = `${title} (first ${MAX_FILES} files)`;
      if (items.length === 0) qp.placeholder = 'No checkpoint files in this workspace: Browse…';
      qp.busy = false;
    }, () => {
      qp.busy = false;
    });
  void found;
  const chosen = await new Promise<Item | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
  });
  cts.cancel();
  qp.dispose();
  if (!chosen) return undefined;
  if (chosen.browse) {
    const picked = await vscode.window.showOpenDialog({
      title,
      canSelectMany: false,
      openLabel: 'Select',
      filters: { Checkpoints: ['safetensors', 'pth', 'pt', 'ckpt', 'bin', 'onnx'], 'Sharded checkpoint index (*.index.json)': ['json'], 'All files': ['*'] },
    });
    return picked?.[0];
  }
  return chosen.uri;
}
