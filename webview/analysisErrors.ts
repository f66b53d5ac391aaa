// What the analysis view's error card says for a failed run: the inspector's title and hint for the
// error code, the problem without its file prefix, the facts (file, offset, code), and the one follow-up
// that helps (a truncated checkpoint is not fixed by running again). DOM-free so node tests pin it.
import type { AnalysisViewState, ViewCommand } from '../src/protocol/analysisViewProtocol';
import { baseName } from '../src/protocol/analysisExport';
import { errorHint, errorTitle } from './inspectorLabels';

/** The card's primary button: a host command, or running the analysis again. */
export interface ErrorAction {
  label: string;
  command: ViewCommand | 'rerun';
  title: string;
}

export interface ErrorCardModel {
  title: string;
  problem: string;
  /** Label/value rows: File, Byte offset, Error code. */
  facts: [string, string][];
  hint: string | undefined;
  primary: ErrorAction | undefined;
}

/** Codes of errors about the bytes of a file: running again gives the same answer. */
const FILE_CODES = new Set(['empty-file', 'git-lfs-pointer', 'unknown-format', 'truncated', 'corrupt', 'too-large', 'unsupported', 'unsafe-path', 'not-analyzable']);

const RUN_TITLES: Record<string, string> = {
  untrusted: 'Waiting for workspace trust',
  interrupted: 'The analysis was interrupted',
  'peer-exited': 'The analysis worker stopped',
  'bad-result': 'Cannot show this report',
};

const RUN_HINTS: Record<string, string> = {
  untrusted: 'Checkpoint headers and tensor statistics stay available in the inspector meanwhile.',
  'peer-exited': 'The worker process ended (out of memory or a native crash in the runtime); the editor is unaffected. The log has the details.',
};

const RERUN: ErrorAction = { label: 'Run again', command: 'rerun', title: 'Run the analysis again' };

/** The problem text without the "FILE @ offset N: " prefix the engine's messages carry. */
export function problemText(message: string, file: string | undefined): string {
  let m = message;
  if (file && m.startsWith(file)) {
    const rest = m.slice(file.length);
    const prefix = /^(?: @ offset \d+)?: /.exec(rest);
    if (prefix) m = rest.slice(prefix[0].length);
  }
  return m.length > 0 ? m.charAt(0).toUpperCase() + m.slice(1) : 'Unknown error';
}

function primaryFor(code: string, aboutCheckpoint: boolean, aboutOtherFile: boolean): ErrorAction | undefined {
  if (code === 'untrusted') return { label: 'Manage Workspace Trust', command: 'manageTrust', title: 'Trust this workspace so models can run' };
  if (code === 'bad-result') return undefined;
  // A probe image or folder failed: the fix is another set of probes.
  if (aboutOtherFile) return { label: 'Choose Probe Images…', command: 'chooseProbeImages', title: 'Pick another folder of PNG/JPEG images' };
  if (aboutCheckpoint && FILE_CODES.has(code)) return { label: 'Open in Inspector', command: 'openInspector', title: 'Show the checkpoint’s header, findings and tensors' };
  return RERUN;
}

export function errorCardModel(s: AnalysisViewState): ErrorCardModel {
  const e = s.error ?? { code: 'internal', message: 'Unknown error' };
  const file = e.file;
  const aboutCheckpoint = file !== undefined && s.files.includes(file);
  const aboutOtherFile = file !== undefined && !aboutCheckpoint;
  const facts: [string, string][] = [];
  if (file) facts.push([aboutCheckpoint || !aboutOtherFile ? 'File' : 'Probe image', file]);
  else if (s.files.length > 0 && e.code !== 'bad-result') facts.push([s.files.length === 2 ? 'Files' : 'File', s.files.map(baseName).join(', ')]);
  if (e.offset !== undefined) facts.push(['Byte offset', `${e.offset} (0x${e.offset.toString(16)})`]);
  facts.push(['Error code', e.code]);
  const title = RUN_TITLES[e.code] ?? (FILE_CODES.has(e.code) || e.code === 'not-found' || e.code === 'io' ? errorTitle(e.code) : 'The analysis failed');
  return {
    title,
    problem: problemText(e.message, file),
    facts,
    hint: RUN_HINTS[e.code] ?? errorHint(e.code),
    primary: primaryFor(e.code, aboutCheckpoint, aboutOtherFile),
  };
}
