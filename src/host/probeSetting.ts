// The value Choose Probe Images writes to modelLens.probeImagesFolder: relative to the first workspace
// folder when the chosen folder lies inside it (so a committed .vscode/settings.json works on every
// clone), absolute otherwise. readSettings() resolves relative values against the same folder.
import { isAbsolute, relative, sep } from 'node:path';

export function probeFolderSetting(folder: string, workspaceRoot: string | undefined): string {
  if (workspaceRoot === undefined) return folder;
  const rel = relative(workspaceRoot, folder);
  if (rel === '') return '.';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return folder;
  // Forward slashes: the same settings file serves Windows and POSIX clones.
  return rel.split(sep).join('/');
}
