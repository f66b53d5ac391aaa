// Colours and fonts of the charts, read from the theme's CSS variables (VS Code sets them on the
// webview's html element and a vscode-light / vscode-dark / vscode-high-contrast class on body; the
// standalone report defines the same variables itself).

/** Everything the charts need from the theme. */
export interface ChartTheme {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  border: string;
  fontFamily: string;
  fontSize: number;
  /** Model A, model B. */
  series: [string, string];
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

/** Theme kind from the body classes VS Code sets. */
export function themeKind(body: HTMLElement): ChartTheme['kind'] {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-dark')) return 'dark';
  return 'light';
}

/** Reads the current theme. */
export function readTheme(): ChartTheme {
  const style = getComputedStyle(document.body);
  const kind = themeKind(document.body);
  const dark = kind === 'dark' || kind === 'high-contrast';
  const hc = kind === 'high-contrast' || kind === 'high-contrast-light';
  const fg = cssVar(style, '--vscode-editor-foreground', cssVar(style, '--vscode-foreground', dark ? '#cccccc' : '#333333'));
  const fontSize = parseFloat(cssVar(style, '--vscode-font-size', '13px')) || 13;
  // In high contrast, grid lines and borders use the contrast border so they stay visible.
  const contrast = cssVar(style, '--vscode-contrastBorder', '');
  return {
    kind,
    foreground: fg,
    muted: cssVar(style, '--vscode-descriptionForeground', dark ? '#a0a0a0' : '#616161'),
    background: cssVar(style, '--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    grid: hc && contrast ? contrast : cssVar(style, '--vscode-editorWidget-border', dark ? 'rgba(255,255,255,0.12)' : 'rgba(0,0,0,0.1)'),
    border: hc && contrast ? contrast : cssVar(style, '--vscode-panel-border', dark ? '#444444' : '#d0d0d0'),
    fontFamily: cssVar(style, '--vscode-font-family', 'system-ui, -apple-system, "Segoe UI", sans-serif'),
    fontSize,
    series: seriesColors(kind, cssVar(style, '--vscode-charts-blue', dark ? '#3794ff' : '#1a85ff'), cssVar(style, '--vscode-charts-orange', dark ? '#d18616' : '#d18616')),
  };
}

/**
 * Model A and B. High-contrast light maps charts.orange to a blue (both read as "blue" next to each
 * other), so it gets a fixed dark blue / dark red pair, both above 6:1 on white.
 */
export function seriesColors(kind: ChartTheme['kind'], blue: string, orange: string): [string, string] {
  if (kind === 'high-contrast-light') return ['#0f4a85', '#b5200d'];
  return [blue, orange];
}

/** `rgba()` of a CSS hex or rgb colour with the given alpha; other syntaxes are returned unchanged. */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(c);
  if (m) {
    const [r, g, b] = m[1]!.split('').map((h) => parseInt(h + h, 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  m = /^#([0-9a-f]{6})(?:[0-9a-f]{2})?$/i.exec(c);
  if (m) {
    const n = parseInt(m[1]!, 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/i.exec(c);
  if (m) return `rgba(${m[1]}, ${m[2]}, ${m[3]}, ${alpha})`;
  return c;
}

/** Calls `onChange` whenever the body's theme class changes (VS Code swaps it on theme switches). */
export function watchTheme(onChange: () => void): MutationObserver {
  let last = document.body.className;
  const obs = new MutationObserver(() => {
    if (document.body.className === last) return;
    last = document.body.className;
    onChange();
  });
  obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return obs;
}
