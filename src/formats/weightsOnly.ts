// What torch.load(weights_only=True) — the default since PyTorch 2.6 — accepts. Its unpickler allows a
// fixed set of globals (torch/_weights_only_unpickler.py, _get_allowed_globals) plus what the user adds
// with torch.serialization.add_safe_globals; any other GLOBAL makes it refuse the whole file. Model Lens
// reads such files anyway (inertly), so it tells the user before their own training code fails.
import { canonicalModule } from './findings';
import type { Finding } from './checkpoint';

// torch's default allowlist, by full name (module.qualname as torch builds the keys).
const TORCH_ALLOWED = new Set<string>([
  'collections.OrderedDict',
  'collections.Counter',
  'torch.nn.parameter.Parameter',
  'torch.serialization._get_layout',
  'torch.Size',
  'torch.Tensor',
  'torch.device',
  '_codecs.encode',
  'builtins.bytearray',
  'builtins.set',
  'builtins.complex',
  'torch.per_tensor_affine',
  'torch.per_tensor_symmetric',
  'torch.per_channel_affine',
  'torch.per_channel_symmetric',
  'torch.per_channel_affine_float_qparams',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._utils._rebuild_device_tensor_from_numpy',
  'torch._utils._rebuild_device_tensor_from_cpu_tensor',
  'torch._tensor._rebuild_from_type_v2',
  'torch.storage.TypedStorage',
  'torch.storage.UntypedStorage',
]);

// dtypes (str(torch.float32) == "torch.float32"), the legacy tensor and storage classes (torch.FloatTensor,
// torch.cuda.HalfStorage, ...): families torch adds to the allowlist in loops.
const TORCH_DTYPE = /^torch\.(?:float(?:16|32|64|8_\w+)|bfloat16|u?int(?:[1-8]|16|32|64)|bool|complex(?:32|64|128)|c?q(?:u?int\d+(?:x\d+)?)|bits\w+)$/;
const TORCH_CLASS = /^torch\.(?:cuda\.)?[A-Z]\w*(?:Tensor|Storage)$/;

/** Whether torch.load(weights_only=True) accepts a pickle GLOBAL `module.name` without help. */
export function weightsOnlyAllows(module: string, name: string): boolean {
  const full = `${canonicalModule(module)}.${name}`;
  return TORCH_ALLOWED.has(full) || TORCH_DTYPE.test(full) || TORCH_CLASS.test(full);
}

/** The globals a pickled checkpoint references that weights_only loading would refuse, in file order. */
export function weightsOnlyRefusals(findings: readonly Finding[]): string[] {
  const out: string[] = [];
  for (const f of findings) {
    if (f.kind !== 'pickle-global' || f.module === undefined || f.name === undefined) continue;
    if (weightsOnlyAllows(f.module, f.name)) continue;
    const full = `${canonicalModule(f.module)}.${f.name}`;
    if (!out.includes(full)) out.push(full);
  }
  return out;
}

/**
 * "torch.load will refuse this file unless argparse.Namespace is allowlisted", or undefined when it loads.
 * Dangerous globals are not something to allowlist: then it only says torch.load refuses the file.
 */
export function weightsOnlyNote(refused: readonly string[], dangerous: boolean): string | undefined {
  if (refused.length === 0) return undefined;
  if (dangerous) return 'torch.load(weights_only=True), the default since PyTorch 2.6, refuses this file: it references code.';
  const shown = refused.slice(0, 3);
  const more = refused.length - shown.length;
  const list = shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]!}`;
  return `torch.load will refuse this file unless ${list}${more > 0 ? ` (and ${more} more)` : ''} ${shown.length === 1 && more === 0 ? 'is' : 'are'} allowlisted (weights_only=True is the default since PyTorch 2.6; torch.serialization.add_safe_globals).`;
}
