// The one entry point for opening any checkpoint: sniffs the format from magic bytes (the extension
// only breaks ties), recognises files that are not checkpoints at all (empty, Git LFS pointers, HTML
// error pages, text) and hands off to the reader. Only headers are read.
import { stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { FileByteSource, type ByteSource } from './byteSource';
import { ModelLensError } from './errors';
import type { Checkpoint } from './checkpoint';
import { readOnnx } from './onnx/onnxReader';
import { readSafetensors, readSafetensorsIndex } from './safetensors';
import { readTorchLegacy, readTorchZip } from './torchCheckpoint';
import { looksLikeZip } from './zip';

export interface OpenOptions {
  /** Weight set to select in a checkpoint with several (see Checkpoint.variants). */
  variant?: string;
}

export type SniffedFormat =
  | 'empty'
  | 'git-lfs-pointer'
  | 'zip'
  | 'pickle'
  | 'torch-tar'
  | 'safetensors'
  | 'safetensors-index'
  | 'onnx'
  | 'html'
  | 'text'
  | 'unknown';

const LFS_PREFIX = 'version https://git-lfs.github.com/spec/';
const HF_FOLDER_FILES = ['model.safetensors.index.json', 'model.safetensors', 'pytorch_model.bin'];

/** Decides the format from the first bytes (and the name, for ties). */
export function sniffFormat(head: Uint8Array, size: number, name: string): SniffedFormat {
  if (size === 0) return 'empty';
  const ascii = new TextDecoder('latin1').decode(head.subarray(0, Math.min(head.length, 512)));
  if (ascii.startsWith(LFS_PREFIX)) return 'git-lfs-pointer';
  if (looksLikeZip(head)) return 'zip';
  const trimmed = ascii.replace(/^[\s\uFEFF\u00EF\u00BB\u00BF]+/, '').toLowerCase();
  if (trimmed.startsWith('<!doctype html') || trimmed.startsWith('<html') || trimmed.startsWith('<head') || (trimmed.startsWith('<') && trimmed.includes('<body'))) return 'html';
  const lower = name.toLowerCase();
  const ext = extname(lower);
  if (ext === '.onnx') return 'onnx';
  if (lower.endsWith('.index.json')) return 'safetensors-index';
  if (head.length >= 9 && head[8] === 0x7b) {
    const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
    // A safetensors header, or one that claims an absurd size (the reader reports which) - unless the
    // "length" is itself text, as in a JSON error page saved under a checkpoint's name.
    if (n >= 2n && !(n > BigInt(size) && looksLikeText(head))) return 'safetensors';
  }
  if (head.length > 262 && ascii.slice(257, 262) === 'ustar') return 'torch-tar';
  if (head[0] === 0x80 && head.length > 1 && head[1]! <= 5) return 'pickle';
  if (ext === '.safetensors' && !looksLikeText(head)) return 'safetensors';
  // Protocol 0/1 pickles start with a MARK or an empty container.
  if (['.pth', '.pt', '.ckpt', '.bin', '.pkl'].includes(ext) && head[0] !== undefined && '(}]c'.includes(String.fromCharCode(head[0])) && !looksLikeText(head)) return 'pickle';
  if (head[0] === 0x08 && ext !== '.pth' && ext !== '.pt' && ext !== '.bin' && ext !== '.ckpt') return 'onnx';
  if (looksLikeText(head)) return 'text';
  return 'unknown';
}

function looksLikeText(head: Uint8Array): boolean {
  const n = Math.min(head.length, 512);
  if (n === 0) return false;
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const c = head[i]!;
    if (c === 9 || c === 10 || c === 13 || (c >= 0x20 && c < 0x7f) || c >= 0x80) printable++;
    if (c === 0) return false;
  }
  return printable / n > 0.95;
}

/** Opens a checkpoint file (or a HuggingFace model folder) and reads its header. */
export async function openCheckpoint(path: string, opts: OpenOptions = {}): Promise<Checkpoint> {
  let target = path;
  try {
    const st = await stat(path);
    if (st.isDirectory()) {
      let found: string | undefined;
      for (const f of HF_FOLDER_FILES) {
        const p = join(path, f);
        if (await stat(p).then((s) => s.isFile(), () => false)) {
          found = p;
          break;
        }
      }
      if (!found) throw new ModelLensError('unknown-format', path, `a folder without ${HF_FOLDER_FILES.join(' / ')}`);
      target = found;
    }
  } catch (e) {
    if (e instanceof ModelLensError) throw e;
    // Let FileByteSource produce the typed not-found / io error.
  }
  const src = await FileByteSource.open(target);
  try {
    return await openSource(src, opts);
  } finally {
    await src.close();
  }
}

/** Opens a checkpoint from an already open ByteSource (tests wrap sources to count bytes read). */
export async function openSource(src: ByteSource, opts: OpenOptions = {}): Promise<Checkpoint> {
  const file = src.path;
  const head = src.size === 0 ? new Uint8Array(0) : await src.read(0, Math.min(src.size, 4096));
  const fmt = sniffFormat(head, src.size, basename(file));
  switch (fmt) {
    case 'empty':
      throw new ModelLensError('empty-file', file, 'the file is empty (0 bytes); the download or copy may have failed');
    case 'git-lfs-pointer': {
      const text = new TextDecoder('latin1').decode(head);
      const oid = /oid (\S+)/.exec(text)?.[1];
      const size = /size (\d+)/.exec(text)?.[1];
      throw new ModelLensError(
        'git-lfs-pointer',
        file,
        `this is a Git LFS pointer${size ? ` to a ${size}-byte object` : ''}${oid ? ` (${oid.slice(0, 24)}…)` : ''}, not the checkpoint itself; run \`git lfs pull\` in the repository to fetch it`,
        0,
      );
    }
    case 'zip':
      return readTorchZip(src, opts);
    case 'pickle':
      return readTorchLegacy(src, opts);
    case 'torch-tar':
      throw new ModelLensError('unsupported', file, 'legacy tar-format PyTorch checkpoint (PyTorch < 0.4); load and re-save it with a current PyTorch', 0);
    case 'safetensors':
      return readSafetensors(src);
    case 'safetensors-index':
      // Shards of a `pytorch_model.bin.index.json` are torch files: sniff each one like a file of its own.
      return readSafetensorsIndex(file, (shard) => openSource(shard, opts));
    case 'onnx':
      return readOnnx(src);
    case 'html':
      throw new ModelLensError('unknown-format', file, 'this is an HTML page (often a login or error page saved instead of the download), not a checkpoint', 0);
    case 'text': {
      const first = new TextDecoder('utf-8').decode(head.subarray(0, 60)).split(/\r?\n/)[0] ?? '';
      throw new ModelLensError('unknown-format', file, `this is a text file (starts with ${JSON.stringify(first.slice(0, 40))}), not a checkpoint`, 0);
    }
    default: {
      const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new ModelLensError('unknown-format', file, `unrecognised format (first bytes ${hex}); expected a torch.save file, safetensors or ONNX`, 0);
    }
  }
}
