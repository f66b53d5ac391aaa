// Number and size formatting for the inspector; pure functions so tests can pin them.

/** 1536 → "1.5 KiB"; exact bytes below 1 KiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

/** 86_567_656 → "86.6 M" (parameter counts, the way model cards write them). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a < 1000) return String(n);
  const units: Array<[number, string]> = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [d, u] of units) {
    if (a >= d) {
      const v = n / d;
      return `${Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)} ${u}`;
    }
  }
  return String(n);
}

/** 1234567 → "1,234,567" (locale-independent so screenshots and tests agree). */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const s = Math.trunc(Math.abs(n)).toString();
  const groups: string[] = [];
  for (let i = s.length; i > 0; i -= 3) groups.unshift(s.slice(Math.max(0, i - 3), i));
  return `${n < 0 ? '-' : ''}${groups.join(',')}`;
}

/** [768, 3, 16, 16] → "768 × 3 × 16 × 16"; scalars → "scalar". */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'scalar' : shape.join(' × ');
}

/** Statistics values: 4 significant digits, exponent for tiny/huge magnitudes. */
export function formatStat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}

/** 0.1234 → "12.34 %". */
export function formatPercent(f: number): string {
  if (!Number.isFinite(f)) return '—';
  return `${(f * 100).toFixed(f === 0 || f === 1 ? 0 : 2)} %`;
}

/** Milliseconds for humans: "12 ms", "3.4 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** [16, 16] → "16 × 16"; null → "unknown". */
export function formatPair(p: readonly [number, number] | null | undefined): string {
  if (!p) return 'unknown';
  return `${p[0]} × ${p[1]}`;
}
