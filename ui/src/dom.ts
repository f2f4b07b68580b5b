// A tiny DOM builder: h('div', {class: 'x', onclick: f}, child, ...).
export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (key === 'class') {
      el.className = String(value);
    } else if (key === 'value' && 'value' in el) {
      (el as HTMLInputElement).value = String(value);
    } else if (key === 'checked' && 'checked' in el) {
      (el as HTMLInputElement).checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Node[]): SVGElement {
  const el = document.createElementNS(SVG, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(c);
  return el;
}

// "3m ago", "in 2h": relative times for dense tables; the exact time is in the title.
export function relTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((t - now) / 1000);
  const a = Math.abs(s);
  const text = a < 60 ? `${a}s` : a < 3600 ? `${Math.round(a / 60)}m` : a < 86400 ? `${Math.round(a / 3600)}h` : `${Math.round(a / 86400)}d`;
  return s >= 0 ? `in ${text}` : `${text} ago`;
}

// A relative time that stays current: the element keeps its instant in
// data-rel and one ticker a second rewrites the text of those on the page
// (a few dozen text nodes: only the rows on screen exist).
export function liveTime(iso: string | null | undefined, now = Date.now(), attrs: Record<string, unknown> = {}): HTMLElement {
  return h('span', { ...attrs, 'data-rel': iso || '', title: fmtTime(iso) }, relTime(iso, now));
}

export function refreshLiveTimes(root: ParentNode = document, now = Date.now()): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-rel]')) {
    const text = relTime(el.dataset.rel || null, now);
    if (el.textContent !== text) el.textContent = text;
  }
}

let ticker: number | undefined;
export function startLiveTimes(): void {
  if (ticker === undefined) ticker = window.setInterval(() => refreshLiveTimes(), 1000);
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : t.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}

export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): (...a: A) => void {
  let timer: number | undefined;
  return (...a: A) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = window.setTimeout(() => fn(...a), ms);
  };
}

export function badge(status: string | null | undefined): HTMLElement {
  const s = status || 'NONE';
  return h('span', { class: `badge s-${s.toLowerCase()}` }, status || '—');
}
