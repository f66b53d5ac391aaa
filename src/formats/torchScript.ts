// TorchScript archives (torch.jit.save; the official OpenAI CLIP `.pt` releases). Their data.pkl pickles the
// module tree: each module is an instance of a `__torch__.<qualified name>` class, made by NEWOBJ with no
// arguments and filled by BUILD from a dict of its attributes (parameters, buffers, submodules, `training`,
// ...). The classes are defined by the Python-like source in the archive's code/ folder; reading that would
// mean interpreting code, so it is never opened: the class names are opaque markers, the tree is walked as
// inert records, and every tensor attribute becomes a state-dict entry named by its attribute path.
import type { Finding } from './checkpoint';
import { ModelLensError } from './errors';
import { PyDict, PyGlobal, PyObject, PyTensor, type GlobalRef, type PyValue } from './pickle';
import { weightsOnlyAllows } from './weightsOnly';
import type { ZipArchive } from './zip';

/** Module nesting deeper than this is refused (CLIP is 5 deep; the deepest real models stay under 20). */
export const MAX_MODULE_DEPTH = 64;
/** Modules visited (a submodule shared by several parents counts once per parent, as in state_dict). */
export const MAX_MODULE_VISITS = 200_000;
export const MAX_SCRIPT_TENSORS = 1_000_000;

// What torch.jit.save's pickler writes besides class names and tensor rebuilds: the constructors of typed
// List/Dict attributes (torch/jit/_pickle.py). The VM keeps them as inert calls; none is resolved.
const SCRIPT_PICKLE_HELPERS = new Set(['build_intlist', 'build_tensorlist', 'build_doublelist', 'build_boollist', 'restore_type_tag']);

function isScriptClass(module: string): boolean {
  return module === '__torch__' || module.startsWith('__torch__.');
}

function isScriptMarker(module: string, name: string): boolean {
  return isScriptClass(module) || (module === 'torch.jit._pickle' && SCRIPT_PICKLE_HELPERS.has(name));
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * Whether a torch zip archive is a TorchScript one: torch.load dispatches to torch.jit.load when the
 * archive has a constants.pkl record; torch.jit.save also always writes a code/ folder. Only the central
 * directory's names are looked at.
 */
export function isTorchScriptArchive(zip: ZipArchive, prefix: string, hasRecord: (record: string) => boolean): boolean {
  return hasRecord('constants.pkl') || scriptCodeEntries(zip, prefix) > 0;
}

/** How many entries the archive has under code/ (names from the central directory; none is read). */
export function scriptCodeEntries(zip: ZipArchive, prefix: string): number {
  const code = asciiLower(`${prefix}code/`);
  let n = 0;
  for (const name of zip.entries.keys()) if (asciiLower(name).startsWith(code)) n++;
  return n;
}

/**
 * Refuses a data.pkl that references anything torch.jit.save does not write: a global outside the
 * weights_only tensor-rebuild allowlist, the `__torch__` classes and the typed-list helpers means the file
 * was not made by torch.jit.save, and torch.jit.load would resolve that global.
 */
export function checkScriptGlobals(file: string, label: string, globals: readonly GlobalRef[]): void {
  for (const g of globals) {
    if (isScriptMarker(g.module, g.name) || weightsOnlyAllows(g.module, g.name)) continue;
    throw new ModelLensError(
      'corrupt',
      file,
      `${label} of this TorchScript archive references ${g.module}.${g.name}, which torch.jit.save never writes; refusing the archive (nothing was imported or run)`,
      g.offset,
    );
  }
}

export interface ScriptModuleTree {
  /** Attribute path → tensor, in the archive's attribute order (parameters, buffers, submodules). */
  tensors: Array<[string, PyTensor]>;
  /** Qualified class name of the root module. */
  rootClass: string;
  /** Distinct `__torch__` classes met in the tree. */
  classes: string[];
  /** Modules whose state is not an attribute dict (custom __getstate__): their tensors are not listed. */
  opaque: string[];
}

function scriptClass(v: PyValue): string | undefined {
  if (!(v instanceof PyObject) || !(v.callee instanceof PyGlobal) || !isScriptClass(v.callee.module)) return undefined;
  return v.callee.fullName;
}

/**
 * Flattens the pickled module tree to state-dict names. Tensors directly in a module's attribute dict are
 * entries; `__torch__` objects in it are submodules. Plain tensor attributes cannot be told from parameters
 * without the class source, so they are listed too (a traced module has none: tracing turns them into
 * constants). A module that contains itself is refused; so are trees too deep or too large.
 */
export function flattenScriptModule(file: string, label: string, root: PyValue): ScriptModuleTree {
  const rootClass = scriptClass(root);
  if (rootClass === undefined || !(root instanceof PyObject)) {
    throw new ModelLensError('corrupt', file, `${label} of this TorchScript archive holds ${root instanceof PyObject ? `an instance of ${root.calleeName}` : 'no object'}, not a __torch__ module`, root instanceof PyObject ? root.offset : undefined);
  }
  const tensors: Array<[string, PyTensor]> = [];
  const classes = new Set<string>();
  const opaque: string[] = [];
  const ancestors = new Set<PyObject>();
  let visits = 0;
  const visit = (obj: PyObject, cls: string, prefix: string, depth: number): void => {
    const where = prefix === '' ? 'the root module' : `module "${prefix.slice(0, -1)}"`;
    if (depth > MAX_MODULE_DEPTH) throw new ModelLensError('too-large', file, `${label}: modules nested deeper than ${MAX_MODULE_DEPTH} levels at ${where}`, obj.offset);
    if (++visits > MAX_MODULE_VISITS) throw new ModelLensError('too-large', file, `${label}: more than ${MAX_MODULE_VISITS} modules in the module tree`, obj.offset);
    if (obj.how !== 'newobj' || obj.args.length > 0) {
      throw new ModelLensError('corrupt', file, `${label}: ${where} (${cls}) is built by a call with arguments, not as torch.jit.save writes modules`, obj.offset);
    }
    classes.add(cls);
    const st = obj.state;
    if (!(st instanceof PyDict)) {
      opaque.push(prefix === '' ? '(root)' : prefix.slice(0, -1));
      return;
    }
    ancestors.add(obj);
    for (let i = 0; i < st.keys.length; i++) {
      const k = st.keys[i];
      const v = st.values[i]!;
      if (typeof k !== 'string') continue;
      if (v instanceof PyTensor) {
        if (tensors.length >= MAX_SCRIPT_TENSORS) throw new ModelLensError('too-large', file, `${label}: more than ${MAX_SCRIPT_TENSORS} tensors in the module tree`, v.offset);
        tensors.push([prefix + k, v]);
        continue;
      }
      const childClass = scriptClass(v);
      if (childClass === undefined || !(v instanceof PyObject)) continue;
      if (ancestors.has(v)) {
        throw new ModelLensError('corrupt', file, `${label}: the module tree has a cycle (${prefix}${k} is ${where} itself or one of its parents)`, v.offset);
      }
      visit(v, childClass, `${prefix}${k}.`, depth + 1);
    }
    ancestors.delete(obj);
  };
  visit(root, rootClass, '', 0);
  return { tensors, rootClass, classes: [...classes], opaque };
}

/**
 * The VM's findings for the `__torch__` class markers and the typed-list helpers (flagged as torch.jit
 * references when met in an ordinary pickle) say nothing true about an archive whose globals all passed
 * checkScriptGlobals; one summary finding replaces them.
 */
export function withoutScriptMarkerFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => !((f.kind === 'pickle-global' || f.kind === 'pickle-call') && f.module !== undefined && isScriptMarker(f.module, f.name ?? '')));
}

/** The finding that says what kind of file this is and what was (not) read. */
export function torchScriptFinding(tree: ScriptModuleTree, codeEntries: number, hasConstants: boolean): Finding {
  const skipped = [`its code/ folder (${codeEntries} file${codeEntries === 1 ? '' : 's'})`];
  if (hasConstants) skipped.push('constants.pkl (the code\'s tensor constants, not parameters)');
  const opaque = tree.opaque.length > 0 ? ` ${tree.opaque.length} module${tree.opaque.length === 1 ? ' keeps' : 's keep'} custom state whose tensors are not listed (${tree.opaque.slice(0, 3).join(', ')}).` : '';
  return {
    severity: 'info',
    kind: 'torchscript',
    message: `TorchScript archive (torch.jit.save): ${tree.tensors.length} tensors read from the module tree in data.pkl (${tree.classes.length} __torch__ classes kept as inert records, root ${tree.rootClass}); ${skipped.join(' and ')} were neither read nor executed.${opaque}`,
  };
}
