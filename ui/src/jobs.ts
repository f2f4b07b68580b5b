// The job list: every job in memory, filtered and searched on the client, drawn
// with virtual scrolling (only the rows on screen exist in the DOM), so 10,000
// jobs scroll as smoothly as 10.
import { JobRow, store } from './state';
import { badge, clear, fmtTime, h, liveTime } from './dom';

const ROW_HEIGHT = 34;
const OVERSCAN = 8;
const STATUSES = ['', 'ACTIVE', 'PAUSED', 'DISABLED', 'COMPLETED', 'FAILED'];
const RUN_FILTERS = ['', 'RUNNING', 'WAITING', 'COMPLETED', 'FAILED', 'RETRYING', 'SKIPPED', 'UPSTREAM_FAILED'];

// Filters survive navigation to a job and back.
const filters = { q: '', status: '', run: '' };

export function jobsView(root: HTMLElement): () => void {
  const search = h('input', {
    type: 'search', id: 'job-search', placeholder: 'Search id, name, owner, label…', value: filters.q,
    'aria-controls': 'job-rows', autocomplete: 'off',
  });
  const statusSel = h('select', { id: 'job-status-filter' }, STATUSES.map((s) => h('option', { value: s }, s || 'any status')));
  statusSel.value = filters.status;
  const runSel = h('select', { id: 'job-run-filter' }, RUN_FILTERS.map((s) => h('option', { value: s }, s || 'any run state')));
  runSel.value = filters.run;
  const count = h('span', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const viewport = h('div', { class: 'vlist', id: 'job-rows', role: 'rowgroup', tabindex: '0', 'aria-label': 'Jobs' });
  const spacer = h('div', { class: 'vlist-spacer' });
  const rowsEl = h('div', { class: 'vlist-rows' });
  viewport.append(spacer, rowsEl);
  const empty = h('div', { class: 'empty', hidden: true });

  root.append(
    h('div', { class: 'page-head' },
      h('h1', {}, 'Jobs'),
      h('div', { class: 'toolbar', role: 'search' },
        h('label', { for: 'job-search', class: 'sr-only' }, 'Search jobs'), search,
        h('label', { for: 'job-status-filter', class: 'sr-only' }, 'Job status'), statusSel,
        h('label', { for: 'job-run-filter', class: 'sr-only' }, 'Run state'), runSel,
        count,
        h('a', { class: 'button primary needs-operator', href: '#/new' }, 'New job'))),
    h('div', { class: 'table jobs-table', role: 'table', 'aria-label': 'Jobs', 'aria-describedby': 'job-count' },
      h('div', { class: 'jrow head', role: 'row' },
        ['Job', 'Status', 'Schedule', 'Next run', 'Last run'].map((c, i) =>
          h('div', { role: 'columnheader', class: `c${i}` }, c))),
      viewport, empty),
  );

  let visible: JobRow[] = [];
  let computedFor = '';
  const compute = () => {
    const q = filters.q.trim().toLowerCase();
    const terms = q ? q.split(/\s+/) : [];
    // Filter and sort only when something they depend on changed; a run
    // state changing (the common event) just repaints the rows on screen.
    const key = `${store.shapeVersion}|${filters.run ? store.runVersion : '-'}|${filters.status}|${filters.run}|${q}|${store.loaded}|${store.loadError}`;
    if (key === computedFor) {
      draw();
      return;
    }
    computedFor = key;
    visible = [];
    for (const row of store.jobs.values()) {
      if (filters.status && row.status !== filters.status) continue;
      if (filters.run && row.run_status !== filters.run) continue;
      if (terms.length && !terms.every((t) => row.search.includes(t))) continue;
      visible.push(row);
    }
    visible.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
    count.id = 'job-count';
    count.textContent = store.loaded
      ? `${visible.length} of ${store.jobs.size} job${store.jobs.size === 1 ? '' : 's'}`
      : store.loadError ? '' : 'loading…';
    spacer.style.height = `${visible.length * ROW_HEIGHT}px`;
    empty.hidden = !(store.loaded && visible.length === 0) && !store.loadError;
    empty.textContent = store.loadError ? `Could not load jobs: ${store.loadError}` : store.jobs.size ? 'No job matches the filters.' : 'No jobs yet. Create one with “New job”.';
    draw();
  };

  const draw = () => {
    const top = viewport.scrollTop;
    const height = viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(visible.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    // Rows are rebuilt on every change: keep keyboard focus on the same job.
    const focusedId = (document.activeElement as HTMLElement | null)?.closest?.('.jrow')?.getAttribute('data-job-id');
    clear(rowsEl);
    const now = Date.now();
    const ids: string[] = [];
    for (let i = first; i < last; i++) {
      const r = visible[i];
      ids.push(r.id);
      rowsEl.append(
        h('div', { class: 'jrow', role: 'row', style: `transform:translateY(${i * ROW_HEIGHT}px)`, 'data-job-id': r.id, 'aria-rowindex': i + 2 },
          h('div', { role: 'cell', class: 'c0' },
            h('a', { href: `#/jobs/${encodeURIComponent(r.id)}`, class: 'job-link' }, r.name),
            r.name !== r.id ? h('span', { class: 'muted id' }, r.id) : null),
          h('div', { role: 'cell', class: 'c1' }, badge(r.status)),
          h('div', { role: 'cell', class: 'c2 mono', title: r.timezone }, r.schedule, r.timezone !== 'UTC' ? h('span', { class: 'muted' }, ` ${r.timezone}`) : null),
          h('div', { role: 'cell', class: 'c3', title: fmtTime(r.next_run_time) }, liveTime(r.next_run_time, now)),
          h('div', { role: 'cell', class: 'c4 run-cell', 'data-run-status': r.run_status || '' },
            r.run_status ? badge(r.run_status) : h('span', { class: 'muted' }, r.statusKnown ? 'never' : '…'),
            r.run_at ? liveTime(r.run_at, now, { class: 'muted run-at' }) : null)));
    }
    if (focusedId) rowsEl.querySelector<HTMLAnchorElement>(`.jrow[data-job-id="${CSS.escape(focusedId)}"] a.job-link`)?.focus({ preventScroll: true });
    store.wantStatus(ids);
  };

  let frame = 0;
  viewport.addEventListener('scroll', () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); });
  });
  // Arrow keys move between row links; the list itself scrolls with PgUp/PgDn.
  viewport.addEventListener('keydown', (e) => {
    const links = Array.from(rowsEl.querySelectorAll<HTMLAnchorElement>('a.job-link'));
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = links[Math.max(0, Math.min(links.length - 1, at + (e.key === 'ArrowDown' ? 1 : -1)))];
      next?.focus();
      next?.scrollIntoView({ block: 'nearest' });
    }
  });
  search.addEventListener('input', () => { filters.q = search.value; viewport.scrollTop = 0; compute(); });
  statusSel.addEventListener('change', () => { filters.status = statusSel.value; compute(); });
  runSel.addEventListener('change', () => { filters.run = runSel.value; compute(); });
  const onResize = () => draw();
  window.addEventListener('resize', onResize);
  const unsub = store.subscribe(compute);
  // "in 10s" stays honest through the page's one-second ticker (dom.ts
  // liveTime); the data itself comes from events.
  compute();
  return () => { unsub(); window.removeEventListener('resize', onResize); };
}
