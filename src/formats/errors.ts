// Typed errors for bad input: every one names the file, the byte offset (when known) and the problem,
// so the inspector and the CLI can show one clear line without a stack trace.

export type ModelLensErrorCode =
  | 'empty-file'
  | 'git-lfs-pointer'
  | 'unknown-format'
  | 'truncated'
  | 'corrupt'
  | 'too-large'
  | 'unsupported'
  | 'unsafe-path'
  | 'not-found'
  | 'io'
  | 'cancelled'
  | 'not-analyzable';

export class ModelLensError extends Error {
  readonly code: ModelLensErrorCode;
  readonly file: string;
  readonly offset: number | undefined;
  /** The problem without the file/offset prefix. */
  readonly problem: string;

  constructor(code: ModelLensErrorCode, file: string, problem: string, offset?: number) {
    super(`${file}${offset !== undefined ? ` @ offset ${offset}` : ''}: ${problem}`);
    this.name = 'ModelLensError';
    this.code = code;
    this.file = file;
    this.offset = offset;
    this.problem = problem;
  }
}

export function isModelLensError(e: unknown): e is ModelLensError {
  return e instanceof ModelLensError;
}
