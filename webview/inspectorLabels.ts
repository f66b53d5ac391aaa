// Human labels for enum-like values the host sends (heads sources, error codes); family names are in
// src/protocol/modelLabels.ts (shared with the hover).

const HEADS_SOURCES: Record<string, string> = {
  override: 'your override setting',
  config: 'the config',
  'checkpoint-args': 'the checkpoint’s args',
  'model-name': 'the model name',
  'dim/64': 'dim/64 (the standard ViT convention)',
  weights: 'the weights’ shapes',
  graph: 'the attention shapes in the ONNX graph (as the analysis reads them)',
  unknown: 'nowhere: unknown, set modelLens.headsOverride',
};

export function headsSourceLabel(source: string): string {
  return HEADS_SOURCES[source] ?? source;
}

const ERROR_TITLES: Record<string, string> = {
  'empty-file': 'Empty file',
  'git-lfs-pointer': 'Git LFS pointer, not the weights',
  'unknown-format': 'Not a checkpoint format Model Lens reads',
  truncated: 'Truncated file',
  corrupt: 'Corrupt file',
  'too-large': 'Value too large',
  unsupported: 'Unsupported checkpoint',
  'unsafe-path': 'Unsafe path refused',
  'not-found': 'File not found',
  io: 'Could not read the file',
  cancelled: 'Cancelled',
  'not-analyzable': 'Not analyzable',
};

export function errorTitle(code: string): string {
  return ERROR_TITLES[code] ?? 'Could not read this checkpoint';
}

/** A next step for the user, where there is an obvious one. */
export function errorHint(code: string): string | undefined {
  switch (code) {
    case 'git-lfs-pointer':
      return 'Git LFS keeps a small text pointer in place of the real weights until they are pulled. Run “git lfs pull --include=<this file>” in the repository, then press Reload.';
    case 'truncated':
      return 'The file ends before the data its header describes. An interrupted download or copy is the usual cause; download it again.';
    case 'empty-file':
      return 'The file has no bytes. An interrupted save or a placeholder is the usual cause.';
    case 'unknown-format':
      return 'Model Lens reads safetensors, PyTorch (torch.save zip and legacy) and ONNX files. Use “Reopen with Default Editor” to see the raw bytes.';
    case 'unsafe-path':
      return 'A path inside the file points outside its folder; Model Lens does not follow it.';
    default:
      return undefined;
  }
}
