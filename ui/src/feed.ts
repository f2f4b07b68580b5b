// The event feed: the events received since the page loaded (newest first),
// filterable by type or job.
import { SchedEvent, store, stream } from './state';
import { clear, fmtTime, h } from './dom';

export function feedView(root: HTMLElement): () => void {
  const filter = h('input', { id: 'feed-filter', type: 'search', placeholder: 'type or job id…', autocomplete: 'off' });
  const paused = h('input', { id: 'feed-pause', type: 'checkbox' });
  const list = h('ol', { class: 'feed', id: 'feed-list', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const seqInfo = h('span', { class: 'muted' });
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Events'),
      h('div', { class: 'toolbar' },
        h('label', { for: 'feed-filter', class: 'sr-only' }, 'Filter events'), filter,
        h('span', { class: 'check' }, paused, h('label', { for: 'feed-pause' }, 'pause')), seqInfo)),
    list);
  const item = (ev: SchedEvent) => {
    const id = ev.payload?.job_id;
    const short = ev.type.replace(/^scheduler\./, '');
    return h('li', { class: `ev ev-${short}` },
      h('time', { datetime: ev.metadata?.timestamp || '' }, fmtTime(ev.metadata?.timestamp || null)),
      h('span', { class: 'mono muted' }, `#${ev.metadata?.seq ?? '?'}`),
      h('strong', {}, short),
      id ? h('a', { href: `#/jobs/${encodeURIComponent(id)}` }, id) : null,
      h('span', { class: 'muted' }, Object.entries(ev.payload || {}).filter(([k]) => k !== 'job_id').map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ')));
  };
  const matches = (ev: SchedEvent) => {
    const q = filter.value.trim().toLowerCase();
    return !q || ev.type.toLowerCase().includes(q) || String(ev.payload?.job_id || '').toLowerCase().includes(q);
  };
  const redraw = () => {
    clear(list);
    const evs = store.events.filter(matches).slice(-300).reverse();
    list.append(...evs.map(item));
    if (!evs.length) list.append(h('li', { class: 'muted' }, stream.state === 'live' ? 'Waiting for events…' : 'Not connected to the event stream.'));
    seqInfo.textContent = stream.lastSeq !== null ? `last seq ${stream.lastSeq}` : '';
  };
  filter.addEventListener('input', redraw);
  const unsub = store.onEvent((ev) => {
    if (paused.checked || !matches(ev)) return;
    if (list.firstElementChild?.classList.contains('muted')) clear(list);
    list.prepend(item(ev));
    while (list.children.length > 300) list.lastElementChild?.remove();
    seqInfo.textContent = `last seq ${stream.lastSeq ?? '?'}`;
  });
  redraw();
  return unsub;
}
