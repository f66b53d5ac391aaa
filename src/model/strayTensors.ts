// "Never silently wrong": every tensor under an encoder's prefix is either read by the rebuilt forward pass
// or on its family's list of tensors known not to change it (heads, final norms, decoders, mask tokens).
// Anything else means the file holds a model the rebuilt graph would compute differently (qk-norm, an
// extra projection, a bias the layout does not know), so the model is refused, naming what was not explained.

/** Names under `prefix` that are neither in `used` nor match one of `unused` (patterns on the name after the prefix). */
export function unexplainedTensors(names: readonly string[], prefix: string, used: ReadonlySet<string>, unused: readonly RegExp[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix) || used.has(n)) continue;
    const rest = n.slice(prefix.length);
    if (unused.some((re) => re.test(rest))) continue;
    out.push(n);
  }
  return out;
}

/** The first `max` names, then how many more. */
export function listNames(names: readonly string[], max = 4): string {
  return `${names.slice(0, max).join(', ')}${names.length > max ? ` and ${names.length - max} more` : ''}`;
}

/** Why a model with unexplained encoder tensors is refused. */
export function strayRefusal(family: string, stray: readonly string[]): string {
  return `${stray.length} tensor(s) in the encoder that the ${family} layout does not explain (${listNames(stray)}); the analysis would not compute the model's forward pass, so it is refused`;
}

/** Every string anywhere inside a spec's weights object: the tensor names the graph builder reads. */
export function namesIn(weights: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.add(v);
    else if (Array.isArray(v)) for (const x of v) walk(x);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) walk(x);
  };
  walk(weights);
  return out;
}
