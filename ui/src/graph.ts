// The dependency graph: GetJobGraph (or, on a daemon without it, the same graph
// built from the jobs' dependencies), laid out by elkjs's layered algorithm and
// drawn as SVG.  Nodes take the colour of their run state live; click or Enter
// opens a job; wheel or buttons zoom, dragging pans.  For a large graph the
// closure of one job is shown.
import { ApiError, Graph, GraphNode, isUnimplemented, rpc } from './api';
import { store, stream } from './state';
import { clear, h, svg } from './dom';

const NODE_W = 200;
const NODE_H = 60; // three lines: name, id, run state
const LABEL_CHARS = 25;
const WHOLE_GRAPH_LIMIT = 400;

type Direction = 'both' | 'upstream' | 'downstream';

// The closure of JOB (or the whole graph) from the jobs the UI holds.
export function localGraph(job: string | null, direction: Direction, depth: number): Graph {
  const edges: { from: string; to: string }[] = [];
  const dependents = new Map<string, string[]>();
  for (const row of store.jobs.values())
    for (const d of row.deps) {
      if (!dependents.has(d)) dependents.set(d, []);
      dependents.get(d)!.push(row.id);
    }
  let ids: Set<string>;
  if (!job) {
    ids = new Set(store.jobs.keys());
  } else {
    ids = new Set([job]);
    const walk = (next: (id: string) => string[]) => {
      let frontier = [job];
      for (let level = 0; frontier.length && (depth <= 0 || level < depth); level++) {
        const more: string[] = [];
        for (const id of frontier) for (const n of next(id)) if (!ids.has(n)) { ids.add(n); more.push(n); }
        frontier = more;
      }
    };
    if (direction !== 'downstream') walk((id) => store.jobs.get(id)?.deps || []);
    if (direction !== 'upstream') walk((id) => dependents.get(id) || []);
  }
  const nodes: GraphNode[] = [];
  for (const id of ids) {
    const row = store.jobs.get(id);
    nodes.push({ id, name: row?.name || id, status: row?.status, last_run_status: row?.run_status, next_run_time: row?.next_run_time });
    for (const d of row?.deps || []) if (ids.has(d)) edges.push({ from: d, to: id });
  }
  return { nodes, edges };
}

function cut(text: string): string {
  return text.length > LABEL_CHARS ? text.slice(0, LABEL_CHARS - 1) + '…' : text;
}

export function graphView(root: HTMLElement, job: string | null): () => void {
  let alive = true;
  const jobInput = h('input', { id: 'graph-job', list: 'graph-jobs', value: job || '', placeholder: 'whole graph', autocomplete: 'off' });
  const dirSel = h('select', { id: 'graph-direction' }, ['both', 'upstream', 'downstream'].map((d) => h('option', { value: d }, d)));
  const depthIn = h('input', { id: 'graph-depth', type: 'number', min: '0', value: '0', style: 'width:5em' });
  const info = h('span', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const canvas = h('div', { class: 'graph-canvas', id: 'graph-canvas' });
  const legend = h('div', { class: 'legend', 'aria-hidden': 'true' },
    ['RUNNING', 'WAITING', 'COMPLETED', 'FAILED', 'UPSTREAM_FAILED', 'RETRYING', 'SKIPPED'].map((s) => h('span', { class: `lg s-${s.toLowerCase()}` }, s)));
  const zoomIn = h('button', { type: 'button', 'aria-label': 'Zoom in', title: 'Zoom in (+)' }, '+');
  const zoomOut = h('button', { type: 'button', 'aria-label': 'Zoom out', title: 'Zoom out (−)' }, '−');
  const fit = h('button', { type: 'button', title: 'Fit to window (0)' }, 'Fit');
  root.append(
    h('div', { class: 'page-head' },
      h('h1', {}, job ? `Graph of ${job}` : 'Dependency graph'),
      h('form', { class: 'toolbar', onsubmit: (e: Event) => { e.preventDefault(); const v = jobInput.value.trim(); location.hash = v ? `#/graph/${encodeURIComponent(v)}` : '#/graph'; } },
        h('label', { for: 'graph-job' }, 'Closure of'), jobInput,
        h('label', { for: 'graph-direction' }, 'Direction'), dirSel,
        h('label', { for: 'graph-depth' }, 'Depth'), depthIn,
        h('button', { type: 'submit' }, 'Show'), zoomIn, zoomOut, fit, info)),
    legend, canvas,
    h('datalist', { id: 'graph-jobs' }, [...store.jobs.keys()].slice(0, 2000).map((id) => h('option', { value: id }))));

  let nodeEls = new Map<string, SVGElement>();
  let graph: Graph | null = null;
  const view = { k: 1, x: 0, y: 0 };
  let layer: SVGElement | null = null;
  let size = { w: 0, h: 0 };
  const apply = () => layer?.setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.k})`);
  const fitView = () => {
    const w = canvas.clientWidth || 800, hgt = canvas.clientHeight || 500;
    view.k = Math.min(1.2, Math.max(0.05, Math.min(w / (size.w + 40), hgt / (size.h + 40))));
    view.x = (w - size.w * view.k) / 2;
    view.y = (hgt - size.h * view.k) / 2;
    apply();
  };
  const zoom = (factor: number, cx = canvas.clientWidth / 2, cy = canvas.clientHeight / 2) => {
    const k = Math.min(4, Math.max(0.05, view.k * factor));
    view.x = cx - ((cx - view.x) * k) / view.k;
    view.y = cy - ((cy - view.y) * k) / view.k;
    view.k = k;
    apply();
  };
  zoomIn.onclick = () => zoom(1.25);
  zoomOut.onclick = () => zoom(0.8);
  fit.onclick = fitView;

  const runState = (n: GraphNode) => {
    const row = store.jobs.get(n.id);
    if (row?.statusKnown && row.run_status) return row.run_status;
    return n.last_run_status || row?.run_status || null;
  };
  const recolour = () => {
    if (!graph) return;
    for (const n of graph.nodes) {
      const el = nodeEls.get(n.id);
      if (!el) continue;
      const state = runState(n);
      const row = store.jobs.get(n.id);
      el.setAttribute('class', `node s-${(state || 'none').toLowerCase()}${row?.status === 'PAUSED' ? ' paused' : ''}${n.id === job ? ' focus' : ''}`);
      el.setAttribute('data-run-status', state || '');
      const who = n.name && n.name !== n.id ? `${n.name} (${n.id})` : n.id;
      el.setAttribute('aria-label', `${who}: ${state ? `last run ${state}` : 'no runs'}${row?.status === 'PAUSED' ? ', paused' : ''}. Open job.`);
      const st = el.querySelector('.node-status');
      if (st) st.textContent = state || 'no runs';
    }
  };

  const draw = async () => {
    clear(canvas);
    canvas.append(h('p', { class: 'muted pad' }, 'Laying out…'));
    const dir = dirSel.value as Direction;
    const depth = Number(depthIn.value) || 0;
    let g: Graph;
    try {
      const body: Record<string, unknown> = {};
      if (job) Object.assign(body, { job_id: job, direction: dir }, depth ? { depth } : {});
      g = await rpc<Graph>('GetJobGraph', body);
    } catch (e) {
      if (!isUnimplemented(e)) {
        clear(canvas);
        canvas.append(h('p', { class: 'error pad', role: 'alert' }, (e as ApiError).message));
        return;
      }
      // Without live events the list may be stale: read it again first.
      if (!store.loaded || stream.state !== 'live') await store.loadAll();
      g = localGraph(job, dir, depth); // a daemon without GetJobGraph yet
    }
    if (!alive) return;
    if (!job && g.nodes.length > WHOLE_GRAPH_LIMIT) {
      clear(canvas);
      canvas.append(h('p', { class: 'pad' }, `${g.nodes.length} jobs are too many to draw at once: type a job above to see its closure.`));
      return;
    }
    graph = g;
    store.wantStatus(g.nodes.map((n) => n.id));
    const { default: ELK } = await import('elkjs/lib/elk.bundled.js');
    const elk = new ELK();
    const ids = new Set(g.nodes.map((n) => n.id));
    const edges = g.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
    const laid = await elk.layout({
      id: 'root',
      layoutOptions: {
        'elk.algorithm': 'layered', 'elk.direction': 'RIGHT',
        'elk.layered.spacing.nodeNodeBetweenLayers': '70', 'elk.spacing.nodeNode': '24',
        'elk.edgeRouting': 'ORTHOGONAL', 'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      },
      children: g.nodes.map((n) => ({ id: n.id, width: NODE_W, height: NODE_H })),
      edges: edges.map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
    });
    if (!alive) return;
    clear(canvas);
    info.textContent = `${g.nodes.length} job${g.nodes.length === 1 ? '' : 's'}, ${edges.length} edge${edges.length === 1 ? '' : 's'}`;
    if (!g.nodes.length) {
      canvas.append(h('p', { class: 'muted pad' }, 'No jobs.'));
      return;
    }
    size = { w: laid.width || 0, h: laid.height || 0 };
    layer = svg('g');
    const defs = svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' })));
    const root = svg('svg', { class: 'graph', role: 'group', 'aria-label': `Dependency graph, ${g.nodes.length} jobs; each arrow points from a dependency to the job that waits for it` }, defs, layer);
    (laid.edges || []).forEach((e: any, i: number) => {
      const sec = e.sections?.[0];
      if (!sec) return;
      const pts = [sec.startPoint, ...(sec.bendPoints || []), sec.endPoint];
      const path = svg('path', { d: 'M' + pts.map((p: any) => `${p.x},${p.y}`).join(' L'), class: 'edge', 'marker-end': 'url(#arrow)', 'data-from': edges[i].from, 'data-to': edges[i].to });
      path.appendChild(svg('title', {})).textContent = `${edges[i].from} → ${edges[i].to}`;
      layer!.appendChild(path);
    });
    nodeEls = new Map();
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    for (const c of laid.children || []) {
      const n = byId.get(c.id)!;
      // Names need not be unique ("Weekly Report" twice): the id is always shown.
      const named = Boolean(n.name && n.name !== n.id);
      const name = svg('text', { x: 12, y: 18, class: 'node-name' });
      name.textContent = cut(named ? n.name! : n.id);
      const idText = svg('text', { x: 12, y: 34, class: 'node-id' });
      idText.textContent = named ? cut(n.id) : '';
      const status = svg('text', { x: 12, y: 51, class: 'node-status' });
      const el = svg('g', { transform: `translate(${c.x},${c.y})`, tabindex: 0, role: 'link', 'data-job-id': n.id },
        svg('rect', { width: NODE_W, height: NODE_H, rx: 6 }), svg('rect', { width: 6, height: NODE_H, rx: 2, class: 'stripe' }), name, idText, status);
      el.appendChild(svg('title', {})).textContent = named ? `${n.name} (${n.id})` : n.id;
      const open = () => { location.hash = `#/jobs/${encodeURIComponent(n.id)}`; };
      el.addEventListener('click', (e) => { if (!moved) open(); e.stopPropagation(); });
      el.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') { e.preventDefault(); open(); } });
      nodeEls.set(n.id, el);
      layer.appendChild(el);
    }
    canvas.append(root);
    recolour();
    fitView();
  };

  // Pan with the mouse, zoom with the wheel (around the cursor) or + / - / 0.
  let drag: { x: number; y: number; vx: number; vy: number } | null = null;
  let moved = false;
  canvas.addEventListener('pointerdown', (e) => { drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y }; moved = false; });
  window.addEventListener('pointermove', onMove);
  window.addEventListener('pointerup', onUp);
  function onMove(e: PointerEvent) {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    apply();
  }
  function onUp() { drag = null; }
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).closest('input,select,textarea')) return;
    if (e.key === '+' || e.key === '=') zoom(1.25);
    else if (e.key === '-') zoom(0.8);
    else if (e.key === '0') fitView();
  };
  window.addEventListener('keydown', onKey);
  dirSel.addEventListener('change', () => void draw());
  depthIn.addEventListener('change', () => void draw());
  // Jobs appearing or leaving redraw the layout; run states only recolour.
  let shape = '';
  const signature = () => [...store.jobs.values()].map((r) => `${r.id}:${r.deps.join(',')}`).join(';');
  const unsub = store.subscribe(() => {
    const s = signature();
    if (shape && s !== shape) { shape = s; void draw(); } else { shape = s; recolour(); }
  });
  shape = store.loaded ? signature() : '';
  void draw();
  return () => {
    alive = false;
    unsub();
    window.removeEventListener('pointermove', onMove);
    window.removeEventListener('pointerup', onUp);
    window.removeEventListener('keydown', onKey);
  };
}
