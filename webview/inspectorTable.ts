// A virtualised, sortable, filterable table: only the rows in view exist in the DOM, so 10,000+
// tensors scroll and filter without jank. Cells are filled with textContent only.
import { el, clear } from './inspectorDom';

export interface Column<R> {
  id: string;
  label: string;
  /** CSS grid track, e.g. "minmax(16em, 1fr)". */
  width: string;
  align?: 'left' | 'right';
  text(row: R): string;
  /** Full text for the tooltip when the cell may be truncated. */
  title?(row: R): string;
  compare(a: R, b: R): number;
  /** Direction of the first click on this header: sizes and counts read largest first. */
  firstSort?: 'asc' | 'desc';
}

/** The narrowest the row can be: the sum of each track's minimum ("52px", "minmax(200px, 1fr)" → 200). */
export function minTableWidth(widths: readonly string[]): number {
  return widths.reduce((sum, w) => sum + Number(/(\d+(?:\.\d+)?)px/.exec(w)?.[1] ?? 0), 0);
}

export interface VirtualTableOptions<R> {
  rowHeight: number;
  /** Selection moved (click, arrows); undefined when the selected row was filtered out. */
  onSelect(row: R | undefined): void;
  /** Enter or double click on a row. */
  onActivate(row: R): void;
  /** Shown when no row passes the filter. */
  emptyText: string;
}

type SortDir = 'asc' | 'desc';

export class VirtualTable<R> {
  readonly element: HTMLElement;
  private readonly header: HTMLElement;
  private readonly headerClip: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private all: R[] = [];
  private view: R[] = [];
  private filter: ((r: R) => boolean) | undefined;
  private sortCol: Column<R> | undefined;
  private sortDir: SortDir = 'asc';
  private selected: R | undefined;
  private frame = 0;
  private readonly headerButtons = new Map<string, HTMLButtonElement>();

  constructor(
    private readonly columns: Column<R>[],
    private readonly opts: VirtualTableOptions<R>,
  ) {
    const template = columns.map((c) => c.width).join(' ');
    this.header = el('div', { cls: 'vt-head', attrs: { role: 'row' } });
    this.header.style.gridTemplateColumns = template;
    for (const c of columns) {
      const b = el('button', { cls: `vt-hcell ${c.align === 'right' ? 'num' : ''}`, attrs: { type: 'button', role: 'columnheader', 'aria-sort': 'none' } }, c.label);
      b.addEventListener('click', () => this.toggleSort(c.id));
      this.headerButtons.set(c.id, b);
      this.header.appendChild(b);
    }
    this.spacer = el('div', { cls: 'vt-spacer' });
    this.empty = el('div', { cls: 'vt-empty' }, opts.emptyText);
    this.empty.hidden = true;
    this.scroller = el('div', { cls: 'vt-scroll', attrs: { tabindex: '0', role: 'rowgroup', 'aria-label': 'Tensors' } }, this.spacer, this.empty);
    // The header sits in its own clipping box that follows the body's horizontal scroll, so in a narrow
    // column the labels stay above their cells.
    this.headerClip = el('div', { cls: 'vt-head-clip' }, this.header);
    this.element = el('div', { cls: 'vt', attrs: { role: 'grid' } }, this.headerClip, this.scroller);
    this.element.style.setProperty('--vt-template', template);
    this.element.style.setProperty('--vt-row', `${opts.rowHeight}px`);
    this.element.style.setProperty('--vt-min-width', `${minTableWidth(columns.map((c) => c.width)) + 16}px`);
    this.scroller.addEventListener('scroll', () => {
      if (this.headerClip.scrollLeft !== this.scroller.scrollLeft) this.headerClip.scrollLeft = this.scroller.scrollLeft;
      this.schedule();
      this.onViewChange?.();
    });
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    this.spacer.addEventListener('click', (e) => {
      const row = this.rowFromEvent(e);
      if (row !== undefined) this.select(row, false);
    });
    this.spacer.addEventListener('dblclick', (e) => {
      const row = this.rowFromEvent(e);
      if (row !== undefined) opts.onActivate(row);
    });
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
  }

  /** Replaces the rows; keeps sort, filter and (if still present) the selection. */
  setRows(rows: R[]): void {
    this.all = rows;
    this.refresh();
  }

  setFilter(filter: ((r: R) => boolean) | undefined): void {
    this.filter = filter;
    this.refresh();
  }

  /** Rows passing the filter, in display order. */
  get visibleCount(): number {
    return this.view.length;
  }

  get totalCount(): number {
    return this.all.length;
  }

  get selection(): R | undefined {
    return this.selected;
  }

  /** Current sort, for persisting the view state. */
  get sort(): { column: string | undefined; dir: SortDir } {
    return { column: this.sortCol?.id, dir: this.sortDir };
  }

  get scrollTop(): number {
    return this.scroller.scrollTop;
  }

  set scrollTop(v: number) {
    this.scroller.scrollTop = v;
    this.schedule();
  }

  /** Selects the first visible row matching `pred` (restoring a saved selection). */
  selectWhere(pred: (r: R) => boolean): void {
    const row = this.view.find(pred);
    if (row !== undefined) this.select(row, false);
  }

  /** Called after every sort, scroll or selection change (debounced by the caller if needed). */
  onViewChange: (() => void) | undefined;

  sortBy(columnId: string | undefined, dir: SortDir = 'asc'): void {
    this.sortCol = this.columns.find((c) => c.id === columnId);
    this.sortDir = dir;
    for (const [id, b] of this.headerButtons) {
      const active = this.sortCol?.id === id;
      b.setAttribute('aria-sort', active ? (dir === 'asc' ? 'ascending' : 'descending') : 'none');
      b.dataset['sort'] = active ? dir : '';
    }
    this.refresh();
    this.onViewChange?.();
  }

  focus(): void {
    this.scroller.focus();
  }

  private toggleSort(id: string): void {
    const first = this.columns.find((c) => c.id === id)?.firstSort ?? 'asc';
    if (this.sortCol?.id !== id) this.sortBy(id, first);
    else if (this.sortDir === first) this.sortBy(id, first === 'asc' ? 'desc' : 'asc');
    else this.sortBy(undefined);
  }

  private refresh(): void {
    let v = this.filter ? this.all.filter(this.filter) : this.all.slice();
    if (this.sortCol) {
      const c = this.sortCol;
      const sign = this.sortDir === 'asc' ? 1 : -1;
      v = v.sort((a, b) => sign * c.compare(a, b));
    }
    this.view = v;
    this.spacer.style.height = `${v.length * this.opts.rowHeight}px`;
    this.empty.hidden = v.length > 0 || this.all.length === 0;
    this.element.setAttribute('aria-rowcount', String(v.length));
    if (this.selected !== undefined && !v.includes(this.selected)) {
      this.selected = undefined;
      this.opts.onSelect(undefined);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const h = this.opts.rowHeight;
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / h) - 5);
    const last = Math.min(this.view.length, Math.ceil((top + height) / h) + 5);
    const needed = Math.max(0, last - first);
    while (this.pool.length < needed) {
      const r = el('div', { cls: 'vt-row', attrs: { role: 'row' } });
      for (const c of this.columns) r.appendChild(el('div', { cls: `vt-cell ${c.align === 'right' ? 'num' : ''}`, attrs: { role: 'gridcell' } }));
      this.pool.push(r);
      this.spacer.appendChild(r);
    }
    for (let k = 0; k < this.pool.length; k++) {
      const r = this.pool[k]!;
      const idx = first + k;
      if (k >= needed) {
        r.hidden = true;
        continue;
      }
      const row = this.view[idx]!;
      r.hidden = false;
      r.style.transform = `translateY(${idx * h}px)`;
      r.dataset['index'] = String(idx);
      r.setAttribute('aria-rowindex', String(idx + 1));
      r.classList.toggle('selected', row === this.selected);
      r.setAttribute('aria-selected', row === this.selected ? 'true' : 'false');
      this.columns.forEach((c, ci) => {
        const cell = r.children[ci] as HTMLElement;
        const t = c.text(row);
        if (cell.textContent !== t) cell.textContent = t;
        const title = c.title ? c.title(row) : '';
        if (cell.title !== title) cell.title = title;
      });
    }
  }

  private rowFromEvent(e: Event): R | undefined {
    const target = (e.target as HTMLElement | null)?.closest('.vt-row') as HTMLElement | null;
    const idx = Number(target?.dataset['index']);
    return Number.isInteger(idx) ? this.view[idx] : undefined;
  }

  private select(row: R, scroll: boolean): void {
    this.selected = row;
    if (scroll) {
      const idx = this.view.indexOf(row);
      const h = this.opts.rowHeight;
      const top = idx * h;
      if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
      else if (top + h > this.scroller.scrollTop + this.scroller.clientHeight) this.scroller.scrollTop = top + h - this.scroller.clientHeight;
    }
    this.schedule();
    this.opts.onSelect(row);
    this.onViewChange?.();
  }

  private onKey(e: KeyboardEvent): void {
    if (this.view.length === 0) return;
    const cur = this.selected !== undefined ? this.view.indexOf(this.selected) : -1;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / this.opts.rowHeight) - 1);
    let next: number | undefined;
    switch (e.key) {
      case 'ArrowDown': next = Math.min(this.view.length - 1, cur + 1); break;
      case 'ArrowUp': next = Math.max(0, cur - 1); break;
      case 'PageDown': next = Math.min(this.view.length - 1, cur + page); break;
      case 'PageUp': next = Math.max(0, cur - page); break;
      case 'Home': next = 0; break;
      case 'End': next = this.view.length - 1; break;
      case 'Enter':
        if (this.selected !== undefined) this.opts.onActivate(this.selected);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    const row = this.view[next];
    if (row !== undefined) this.select(row, true);
  }

  /** Removes every row element (used when the table is torn down). */
  dispose(): void {
    clear(this.spacer);
    this.pool.length = 0;
  }
}
