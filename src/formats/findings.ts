// Classification of the globals a pickle references. The unpickler never calls anything; this table
// only decides which globals it reconstructs inertly (allowed), which it leaves as opaque
// UnknownGlobal values (unknown) and which it additionally flags as dangerous for the user.
import type { Finding, FindingSeverity } from './checkpoint';

export type GlobalVerdict = 'allowed' | 'unknown' | 'danger';

/** Storage class names (torch.<Name>) and the dtype of their elements; null = readable name, unsupported dtype. */
export const STORAGE_DTYPES: Readonly<Record<string, string | null>> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  Float8_e4m3fnStorage: 'F8_E4M3',
  Float8_e5m2Storage: 'F8_E5M2',
  UntypedStorage: 'U8',
  ComplexFloatStorage: null,
  ComplexDoubleStorage: null,
  QInt8Storage: null,
  QUInt8Storage: null,
  QInt32Storage: null,
  QUInt4x2Storage: null,
  QUInt2x4Storage: null,
};

/** torch dtype objects (pickled as GLOBAL torch <name>) mapped to our dtypes; null = not representable. */
export const TORCH_DTYPES: Readonly<Record<string, string | null>> = {
  float64: 'F64', double: 'F64', float32: 'F32', float: 'F32', float16: 'F16', half: 'F16', bfloat16: 'BF16',
  int64: 'I64', long: 'I64', int32: 'I32', int: 'I32', int16: 'I16', short: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
  float8_e4m3fn: 'F8_E4M3', float8_e5m2: 'F8_E5M2',
  complex64: null, complex128: null, cfloat: null, cdouble: null, qint8: null, quint8: null, qint32: null,
};

// Globals the unpickler reconstructs (or may hold as harmless references). Everything else is unknown.
const ALLOWED = new Set<string>([
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
  'torch._tensor._rebuild_from_type',
  'torch.Tensor',
  'torch.nn.parameter.Parameter',
  'torch.Size',
  'torch.device',
  'torch.storage.UntypedStorage',
  'collections.OrderedDict',
  'collections.defaultdict',
  'argparse.Namespace',
  'yacs.config.CfgNode',
  'omegaconf.dictconfig.DictConfig',
  'pathlib.PosixPath',
  'pathlib.WindowsPath',
  'pathlib.PurePosixPath',
  'pathlib.PureWindowsPath',
  'pathlib.Path',
  '_codecs.encode',
  'copy_reg._reconstructor',
  'copyreg._reconstructor',
  'copyreg.__newobj__',
  'copyreg.__newobj_ex__',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.ndarray',
  'numpy.dtype',
  'builtins.set',
  'builtins.frozenset',
  'builtins.slice',
  'builtins.complex',
  'builtins.object',
  'builtins.list',
  'builtins.dict',
  'builtins.tuple',
  'builtins.bytearray',
  'builtins.bytes',
  'builtins.int',
  'builtins.float',
  'builtins.str',
  'builtins.bool',
  'builtins.range',
]);

// Modules whose every member is dangerous: they reach processes, files, the network, code loading
// or the interpreter itself.
const DANGEROUS_MODULES = new Set<string>([
  'os', 'posix', 'nt', 'posixpath', 'ntpath', 'subprocess', 'socket', 'shutil', 'sys', 'runpy', 'importlib',
  'marshal', 'pickle', '_pickle', 'cPickle', 'dill', 'cloudpickle', 'joblib', 'code', 'codeop', 'pty', 'webbrowser',
  'ctypes', '_ctypes', 'multiprocessing', 'threading', '_thread', 'asyncio', 'signal', 'tempfile', 'glob', 'io', '_io',
  'urllib', 'http', 'ftplib', 'smtplib', 'telnetlib', 'requests', 'zipimport', 'pkgutil', 'platform', 'commands',
  'popen2', 'timeit', 'pdb', 'bdb', 'trace', 'cProfile', 'profile', 'gc', 'inspect', 'types', 'builtins_exec',
  'distutils', 'setuptools', 'pip', 'ensurepip', 'venv', 'sqlite3', 'xmlrpc', 'imp', 'site', 'sysconfig',
  'operator', 'functools', 'torch.hub', 'torch.jit', 'torch.package', 'torch.serialization', 'torch._ops', 'torch.ops',
]);

// Individual globals that are dangerous although their module is not wholesale.
const DANGEROUS_NAMES = new Set<string>([
  'builtins.eval', 'builtins.exec', 'builtins.compile', 'builtins.getattr', 'builtins.setattr', 'builtins.delattr',
  'builtins.__import__', 'builtins.open', 'builtins.input', 'builtins.globals', 'builtins.locals', 'builtins.vars',
  'builtins.breakpoint', 'builtins.exit', 'builtins.quit', 'builtins.help', 'builtins.memoryview', 'builtins.type',
  'builtins.super', 'builtins.apply', 'builtins.execfile', 'builtins.file', 'builtins.reload', 'builtins.map',
  'builtins.filter',
  'torch.load', 'torch.storage._load_from_bytes', 'torch._C', 'torch.classes', 'numpy.load', 'numpy.loads',
  'numpy.fromfile', 'numpy.testing._private.utils.runstring', 'numpy.lib.npyio.load', 'copyreg.__reduce_ex__',
]);

// The reviewed list of globals outside the allowlist that a pickle may call without being flagged:
// each only builds a plain value from its arguments (no I/O, no imports, no code, no callbacks).
// Every other global the pickle calls is DANGER by rule (see `calledVerdict`): an allowlist reader
// cannot know what an arbitrary callable does, and torch.load would run it.
const HARMLESS_CALLS = new Set<string>([
  'collections.Counter',
  'collections.deque',
  'datetime.datetime',
  'datetime.date',
  'datetime.time',
  'datetime.timedelta',
  'datetime.timezone',
  'decimal.Decimal',
  'fractions.Fraction',
  'uuid.UUID',
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_nested_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._utils._rebuild_device_tensor_from_numpy',
  'torch.nn.parameter.UninitializedParameter',
]);

/**
 * The verdict of a global that the pickle calls (REDUCE, INST, OBJ, a reconstructor's base class, or
 * an instance of it called in turn): allowlisted globals and the reviewed harmless data constructors
 * keep their verdict, every other callable is DANGER. Globals that are only referenced, or only
 * instantiated without a constructor call (NEWOBJ: `cls.__new__` + state), keep the name's verdict.
 */
export function calledVerdict(module: string, name: string): GlobalVerdict {
  const v = classifyGlobal(module, name);
  if (v !== 'unknown') return v;
  return HARMLESS_CALLS.has(`${canonicalModule(module)}.${name}`) ? 'unknown' : 'danger';
}

/** Canonical module name: Python 2 aliases mapped to their Python 3 modules. */
export function canonicalModule(module: string): string {
  if (module === '__builtin__' || module === '__builtins__') return 'builtins';
  if (module === 'copy_reg') return 'copyreg';
  return module;
}

/** Decides how the unpickler treats `module.name`; nothing is ever imported or called either way. */
export function classifyGlobal(module: string, name: string): GlobalVerdict {
  const mod = canonicalModule(module);
  const full = `${mod}.${name}`;
  if (ALLOWED.has(full) || ALLOWED.has(`${module}.${name}`)) return 'allowed';
  if (mod === 'torch' && (name in STORAGE_DTYPES || name in TORCH_DTYPES)) return 'allowed';
  if (DANGEROUS_NAMES.has(full)) return 'danger';
  // A dotted name (e.g. "system.__call__" or "os.system" smuggled in the name) is looked up attribute by
  // attribute by Python's find_class, so it can reach anything: treat it as dangerous.
  if (name.includes('.') || name.startsWith('__') && name !== '__init__') return 'danger';
  const top = mod.split('.')[0] ?? mod;
  if (DANGEROUS_MODULES.has(mod) || DANGEROUS_MODULES.has(top)) return 'danger';
  for (const m of DANGEROUS_MODULES) if (mod.startsWith(`${m}.`)) return 'danger';
  return 'unknown';
}

export function severityOf(verdict: GlobalVerdict): FindingSeverity {
  return verdict === 'allowed' ? 'info' : verdict === 'danger' ? 'danger' : 'warning';
}

/** The finding that lists one referenced global (one per distinct global, first offset). */
export function globalFinding(module: string, name: string, verdict: GlobalVerdict, offset: number, count: number, byRule = false): Finding {
  const what =
    verdict === 'allowed'
      ? 'allowlisted, reconstructed inertly'
      : verdict === 'danger'
        ? byRule
          ? 'DANGEROUS: the pickle calls it, and a callable outside the allowlist can run code or touch the system when loaded with torch.load/pickle; not called'
          : 'DANGEROUS: can run code or touch the system when loaded with torch.load/pickle; not called'
        : 'not on the allowlist; kept as an inert placeholder, not imported or called';
  return {
    severity: severityOf(verdict),
    kind: 'pickle-global',
    message: `pickle references ${module}.${name}${count > 1 ? ` (${count}×)` : ''}: ${what}`,
    module,
    name,
    offset,
  };
}

/** Sorts findings most severe first, keeping file order within a severity. */
export function sortFindings(findings: Finding[]): Finding[] {
  const rank: Record<FindingSeverity, number> = { danger: 0, warning: 1, info: 2 };
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank[a.f.severity] - rank[b.f.severity] || a.i - b.i)
    .map((x) => x.f);
}
