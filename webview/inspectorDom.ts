// Tiny DOM builder: every file-derived string goes through textContent, never innerHTML.

type Child = Node | string | null | undefined | false;

/** Creates an element with classes, attributes and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  opts?: { cls?: string; attrs?: Record<string, string>; title?: string },
  ...children: Child[]
): HTMLElementTagNameMap[K];
export function el(tag: string, opts?: { cls?: string; attrs?: Record<string, string>; title?: string }, ...children: Child[]): HTMLElement;
export function el(tag: string, opts: { cls?: string; attrs?: Record<string, string>; title?: string } = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  if (opts.cls) e.className = opts.cls;
  if (opts.title) e.title = opts.title;
  for (const [k, v] of Object.entries(opts.attrs ?? {})) e.setAttribute(k, v);
  append(e, ...children);
  return e;
}

/** Appends children; strings are inserted as text. */
export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Removes every child of `e`. */
export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}

/** Reads a theme colour from the VS Code CSS variables, with a fallback for plain browsers. */
export function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v.length > 0 ? v : fallback;
}
