// One job: metadata, schedule with the next 10 fire times and DST notes, status
// (current run, retry, what it waits for), run history with output, decisions.
import { ApiError, Job, JobStatus, Run, isUnimplemented, rpc } from './api';
import { shownRun, store } from './state';
import { badge, clear, debounce, fmtTime, h, liveTime } from './dom';
import { confirmDialog, toast } from './ui';

const RUNS_PAGE = 20;

export function detailView(root: HTMLElement, id: string): () => void {
  const head = h('div', { class: 'page-head' });
  const body = h('div', { class: 'detail-grid' });
  const runsBox = h('section', { class: 'panel wide', 'aria-labelledby': 'runs-h' });
  root.append(head, body, runsBox);
  let job: Job | null = null;
  let runsPage = 1;
  let alive = true;

  const load = async () => {
    try {
      const [j, s] = await Promise.all([
        rpc<{ job: Job }>('GetJob', { job_id: id }),
        rpc<JobStatus>('GetJobStatus', { job_id: id }),
      ]);
      if (!alive) return;
      job = j.job;
      store.applyStatus(s);
      drawHead(j.job, s);
      drawBody(j.job, s);
      void loadRuns();
    } catch (e) {
      if (!alive) return;
      clear(head);
      clear(body);
      head.append(h('h1', {}, id));
      body.append(h('p', { class: 'error', role: 'alert' }, (e as ApiError).message));
    }
  };

  const action = async (method: string, label: string) => {
    try {
      const r = await rpc(method, { job_id: id });
      toast(method === 'RunJob' ? `Run ${r.run?.id ?? ''} started` : `${label}: done`);
      void load();
    } catch (e) {
      toast((e as ApiError).message, true);
    }
  };

  const drawHead = (j: Job, s: JobStatus) => {
    clear(head);
    const paused = j.status === 'PAUSED';
    head.append(
      h('div', {},
        h('nav', { 'aria-label': 'Breadcrumb', class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' / ', j.id),
        h('h1', {}, j.name || j.id, ' ', h('span', { id: 'job-status' }, badge(j.status)))),
      h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Job actions' },
        h('button', { class: 'primary needs-operator', id: 'run-now', onclick: () => action('RunJob', 'Run now') }, 'Run now'),
        paused
          ? h('button', { id: 'resume', class: 'needs-operator', onclick: () => action('ResumeJob', 'Resumed') }, 'Resume')
          : h('button', { id: 'pause', class: 'needs-operator', onclick: () => action('PauseJob', 'Paused') }, 'Pause'),
        h('a', { class: 'button needs-operator', href: `#/jobs/${encodeURIComponent(j.id)}/edit` }, 'Edit'),
        h('a', { class: 'button', href: `#/graph/${encodeURIComponent(j.id)}` }, 'Graph'),
        h('button', {
          class: 'danger needs-operator', id: 'delete',
          onclick: async () => {
            if (!(await confirmDialog(`Delete job “${j.id}”?`, 'Its runs and decisions are deleted with it. This cannot be undone.', 'Delete'))) return;
            try {
              await rpc('DeleteJob', { job_id: id });
              store.jobs.delete(id);
              store.notify(true);
              toast(`Deleted ${id}`);
              location.hash = '#/jobs';
            } catch (e) {
              toast((e as ApiError).message, true);
            }
          },
        }, 'Delete')));
    void s;
  };

  const drawBody = (j: Job, s: JobStatus) => {
    clear(body);
    const sch = j.metadata?.scheduling || {};
    const ex = j.executor || {};
    const kv = (k: string, v: unknown) => [h('dt', {}, k), h('dd', {}, v === undefined || v === null || v === '' ? '—' : typeof v === 'object' ? h('code', {}, JSON.stringify(v)) : String(v))];
    const shown = shownRun(s);
    const current = shown && shown === s.current_run ? shown : null; // not the next one written ahead
    const deps = sch.dependencies || [];
    body.append(
      h('section', { class: 'panel', 'aria-labelledby': 'st-h' },
        h('h2', { id: 'st-h' }, 'Status'),
        h('dl', { class: 'kv' },
          h('dt', {}, 'Run state'), h('dd', { id: 'run-state' }, badge(shown?.status ?? null)),
          kv('Current run', current ? `${current.id} (${current.status}, attempt ${current.attempt ?? 1})` : null),
          h('dt', {}, 'Last run'), h('dd', { id: 'last-run' }, s.last_run ? [badge(s.last_run.status), ' ', liveTime(s.last_run.finished_at || s.last_run.started_at)] : '—'),
          h('dt', {}, 'Next run'), h('dd', { title: fmtTime(s.next_run_time) }, s.next_run_time ? [fmtTime(s.next_run_time), ' (', liveTime(s.next_run_time), ')'] : '—'),
          kv('Retry', s.retry),
          kv('Why not running', s.reason),
          null),
        h('h3', {}, 'Waits for'),
        deps.length
          ? h('ul', { class: 'deps', id: 'waits-for' }, deps.map((d) => {
              const row = store.jobs.get(d);
              // blocked_by (GetJobStatus) says why a dependency holds the job back.
              const b = (s.blocked_by || []).find((x) => (x as { job_id?: string })?.job_id === d) as Record<string, string> | undefined;
              return h('li', { class: b ? 'blocked' : 'satisfied' },
                h('a', { href: `#/jobs/${encodeURIComponent(d)}` }, d), ' ', badge(b?.last_run_status ?? row?.run_status ?? null),
                b ? h('span', { class: 'muted' }, blockedText(b))
                  : null);
            }))
          : h('p', { class: 'muted' }, 'No dependencies.')),
      h('section', { class: 'panel', 'aria-labelledby': 'md-h' },
        h('h2', { id: 'md-h' }, 'Job'),
        h('dl', { class: 'kv' },
          kv('Id', j.id), kv('Owner', j.owner), kv('Tenant (campaign_id)', j.campaign_id ?? 0),
          kv('Labels', j.labels && Object.keys(j.labels).length ? Object.entries(j.labels).map(([k, v]) => `${k}=${v}`).join(', ') : null),
          kv('Executor', ex.type), ex.command ? kv('Command', ex.command) : null, ex.url ? kv('URL', `${ex.method || 'GET'} ${ex.url}`) : null,
          kv('Timeout', ex.timeout), kv('Retry policy', sch.retry_policy), kv('Concurrency', sch.concurrency_policy || 'allow'),
          kv('Misfire', sch.misfire_policy || 'run_once'), kv('Version', j.version),
          kv('Created', fmtTime(j.created_at)), kv('Updated', fmtTime(j.updated_at)))),
      scheduleSection(j),
      decisionsSection(id),
    );
  };

  const loadRuns = async () => {
    clear(runsBox);
    runsBox.append(h('h2', { id: 'runs-h' }, 'Run history'));
    try {
      const r = await rpc<{ runs: Run[]; total_count: number; total_pages: number }>('ListJobRuns', { job_id: id, page: runsPage, page_size: RUNS_PAGE });
      if (!alive) return;
      if (!r.runs.length) {
        runsBox.append(h('p', { class: 'muted' }, 'No runs yet.'));
        return;
      }
      runsBox.append(
        h('table', { class: 'runs', id: 'runs-table' },
          h('caption', { class: 'sr-only' }, 'Runs of this job, newest first'),
          h('thead', {}, h('tr', {}, ['Run', 'Status', 'Trigger', 'Attempt', 'Scheduled', 'Started', 'Duration', 'Exit', 'Output'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, r.runs.map((run) => h('tr', { 'data-run-id': run.id },
            h('td', { class: 'mono' }, run.id),
            h('td', {}, badge(run.status)),
            h('td', {}, run.trigger || ''),
            h('td', {}, String(run.attempt ?? '')),
            h('td', {}, liveTime(run.scheduled_at)),
            h('td', {}, liveTime(run.started_at)),
            h('td', {}, duration(run)),
            h('td', {}, run.exit_code ?? ''),
            h('td', { class: 'output-cell' }, run.output || run.error
              ? h('details', {}, h('summary', {}, run.error ? 'error + output' : 'output'),
                  run.error ? h('pre', { class: 'error' }, run.error) : null,
                  run.output ? h('pre', {}, run.output) : null)
              : h('span', { class: 'muted' }, '—')))))),
        h('div', { class: 'pager' },
          h('button', { disabled: runsPage <= 1, onclick: () => { runsPage--; void loadRuns(); } }, 'Newer'),
          h('span', { class: 'muted' }, `page ${r.total_pages ? runsPage : 0} of ${r.total_pages} (${r.total_count} runs)`),
          h('button', { disabled: runsPage >= r.total_pages, onclick: () => { runsPage++; void loadRuns(); } }, 'Older')));
    } catch (e) {
      runsBox.append(h('p', { class: 'error' }, (e as ApiError).message));
    }
  };

  // Events about this job refresh the page (debounced: a burst is one reload).
  const reload = debounce(() => { if (alive) void load(); }, 250);
  const unsub = store.onEvent((ev) => { if (ev.payload?.job_id === id) reload(); });
  void load();
  return () => { alive = false; unsub(); void job; };
}

// A blocked_by entry as words: "not completed since 2026-11-27 05:29:56 UTC".
function blockedText(b: Record<string, string>): string {
  const state = String(b.state || 'blocking').replace(/_/g, ' ').replace(/ since$/, '');
  return ` ${state}${b.since ? ` since ${fmtTime(b.since)}` : ''}`;
}

function duration(run: Run): string {
  if (!run.started_at) return '';
  const end = run.finished_at ? Date.parse(run.finished_at) : Date.now();
  const ms = end - Date.parse(run.started_at);
  if (ms < 1000) return `${Math.max(0, ms)}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60000)}m${Math.round((ms % 60000) / 1000)}s`;
}

export function previewList(times: string[], notes: string[], zone: string): HTMLElement {
  const fmt = (() => {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    } catch {
      return null;
    }
  })();
  return h('ol', { class: 'fires' }, times.map((t, i) => h('li', {},
    h('time', { datetime: t }, fmt ? fmt.format(new Date(t)) : t),
    h('span', { class: 'muted utc' }, fmtTime(t)),
    notes[i] ? h('div', { class: 'dst-note', role: 'note' }, notes[i]) : null)));
}

function scheduleSection(j: Job): HTMLElement {
  const sch = j.metadata?.scheduling || {};
  const box = h('section', { class: 'panel', 'aria-labelledby': 'sch-h' }, h('h2', { id: 'sch-h' }, 'Schedule'));
  const what = sch.cron ? `cron ${sch.cron}` : sch.interval ? `every ${sch.interval}` : sch.at ? `once at ${sch.at}` : sch.dependencies?.length ? 'when its dependencies complete' : 'manual only';
  box.append(h('p', {}, h('code', {}, what), ' ', sch.cron ? h('span', { class: 'muted' }, sch.timezone || 'UTC') : null));
  if (sch.cron) {
    const list = h('div', { 'aria-live': 'polite' }, 'loading next fire times…');
    box.append(h('h3', {}, 'Next 10 fire times'), list);
    const req: Record<string, unknown> = { cron: sch.cron, count: 10 };
    if (sch.timezone) req.timezone = sch.timezone;
    if (sch.dst_policy) req.dst_policy = sch.dst_policy;
    rpc<{ times: string[]; notes: string[]; timezone: string }>('PreviewSchedule', req)
      .then((r) => { clear(list); list.append(previewList(r.times, r.notes || [], r.timezone || sch.timezone || 'UTC')); })
      .catch((e) => { clear(list); list.append(h('p', { class: 'error' }, (e as ApiError).message)); });
  }
  return box;
}

// The scheduler's decision log (why a slot ran or not).  The method comes with
// the graph work; until the daemon has it the section says so.
function decisionsSection(id: string): HTMLElement {
  const box = h('section', { class: 'panel', 'aria-labelledby': 'dec-h' }, h('h2', { id: 'dec-h' }, 'Decisions'));
  const content = h('div', {}, 'loading…');
  box.append(content);
  rpc<{ decisions: Record<string, unknown>[] }>('ListJobDecisions', { job_id: id, limit: 20 })
    .then((r) => {
      clear(content);
      const list = r.decisions || [];
      if (!list.length) {
        content.append(h('p', { class: 'muted' }, 'No decisions recorded.'));
        return;
      }
      content.append(h('ul', { class: 'decisions', id: 'decisions' }, list.map((d) => {
        const first = (d.first_slot as string) || null, last = (d.last_slot as string) || null;
        return h('li', {},
          h('strong', {}, String(d.kind ?? '')), ' ',
          h('span', { class: 'muted' }, fmtTime(first), last && last !== first ? ` – ${fmtTime(last)}` : ''),
          d.count && Number(d.count) > 1 ? ` (${d.count} slots)` : '',
          d.run_id ? h('span', { class: 'muted' }, ` run ${d.run_id}`) : null,
          d.reason ? h('div', {}, String(d.reason)) : null);
      })));
    })
    .catch((e) => {
      clear(content);
      content.append(h('p', { class: 'muted' }, isUnimplemented(e) ? 'This daemon does not serve the decision log yet.' : (e as ApiError).message));
    });
  return box;
}
