// The UI's picture of the daemon: every job (loaded in pages of 1000, then kept
// current by events), the run state of each, and the event feed.
import { ApiError, Job, JobStatus, Run, getToken, rpc } from './api';

export interface JobRow {
  id: string;
  name: string;
  status: string;
  schedule: string;
  timezone: string;
  next_run_time: string | null;
  run_status: string | null; // the current run's, else the last run's
  run_at: string | null;
  deps: string[];
  labels: Record<string, string>;
  owner: string;
  statusKnown: boolean; // run_status came from GetJobStatus or an event
  search: string; // lower-case text the search box matches
}

export interface SchedEvent {
  type: string;
  payload: Record<string, any>;
  metadata: { event_id?: string; seq?: number; timestamp?: string; campaign_id?: number; [k: string]: unknown };
}

type Listener = () => void;

export function scheduleText(job: Job): string {
  const s = job.metadata?.scheduling || {};
  if (s.cron) return s.cron;
  if (s.interval) return s.interval;
  if (s.at) return `at ${s.at}`;
  if (s.dependencies?.length) return 'after dependencies';
  return 'manual';
}

// The run a person means by "the job's run": the one in flight, else the last
// that finished.  A run written ahead of its slot (PENDING, its slot still to
// come: the daemon records the next run a few seconds early) is the next run,
// not the last one.
export function shownRun(s: JobStatus, now = Date.now()): Run | null {
  const cur = s.current_run;
  const upcoming = cur && cur.status === 'PENDING' && cur.scheduled_at && Date.parse(cur.scheduled_at) > now;
  return (upcoming ? null : cur) || s.last_run || null;
}

export function rowOf(job: Job, old?: JobRow): JobRow {
  const s = job.metadata?.scheduling || {};
  const row: JobRow = {
    id: job.id,
    name: job.name || job.id,
    status: job.status || 'ACTIVE',
    schedule: scheduleText(job),
    timezone: s.timezone || 'UTC',
    next_run_time: job.next_run_time ?? null,
    run_status: old?.run_status ?? null,
    run_at: old?.run_at ?? null,
    deps: Array.isArray(s.dependencies) ? s.dependencies.filter((d) => typeof d === 'string') : [],
    labels: job.labels || {},
    owner: job.owner || '',
    statusKnown: old?.statusKnown ?? false,
    search: '',
  };
  row.search = [row.id, row.name, row.owner, row.schedule, ...Object.entries(row.labels).map(([k, v]) => `${k}=${v}`)]
    .join(' ')
    .toLowerCase();
  return row;
}

const RUN_STATUS_OF_EVENT: Record<string, string> = {
  'scheduler.job_started': 'RUNNING',
  'scheduler.job_completed': 'COMPLETED',
  'scheduler.job_failed': 'FAILED',
  'scheduler.job_retrying': 'RETRYING',
  'scheduler.job_skipped': 'SKIPPED',
};

class Store {
  jobs = new Map<string, JobRow>();
  // Bumped when the set of jobs or what the list sorts and filters on changes
  // (shape), or when a run state changes (runs): the list re-sorts only then.
  shapeVersion = 0;
  runVersion = 0;
  loaded = false;
  loadError: string | null = null;
  events: SchedEvent[] = [];
  private listeners = new Set<Listener>();
  private eventListeners = new Set<(e: SchedEvent) => void>();
  private pendingStatus = new Set<string>();
  private statusInFlight = 0;
  private notifyQueued = false;

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  onEvent(fn: (e: SchedEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  // Coalesce bursts of changes into one repaint per frame.
  notify(shape = false): void {
    if (shape) this.shapeVersion++;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    requestAnimationFrame(() => {
      this.notifyQueued = false;
      for (const fn of this.listeners) fn();
    });
  }

  async loadAll(): Promise<void> {
    const fresh = new Map<string, JobRow>();
    try {
      for (let page = 1; ; page++) {
        const r = await rpc<{ jobs: Job[]; total_pages: number }>('ListJobs', { page, page_size: 1000 });
        for (const j of r.jobs) fresh.set(j.id, rowOf(j, this.jobs.get(j.id)));
        if (page >= r.total_pages) break;
      }
      this.jobs = fresh;
      this.loaded = true;
      this.loadError = null;
    } catch (e) {
      this.loadError = (e as ApiError).message;
    }
    this.notify(true);
  }

  async refreshJob(id: string): Promise<void> {
    try {
      const r = await rpc<{ job: Job }>('GetJob', { job_id: id });
      this.jobs.set(id, rowOf(r.job, this.jobs.get(id)));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) this.jobs.delete(id);
    }
    this.notify(true);
  }

  // Fill in the run state of rows on screen, a few requests at a time; events
  // keep them current afterwards.
  wantStatus(ids: string[]): void {
    // Only what is on screen now: rows scrolled past are not worth a request.
    this.pendingStatus.clear();
    for (const id of ids) {
      const row = this.jobs.get(id);
      if (row && !row.statusKnown) this.pendingStatus.add(id);
    }
    this.pumpStatus();
  }

  private pumpStatus(): void {
    while (this.statusInFlight < 6 && this.pendingStatus.size) {
      const id = this.pendingStatus.values().next().value as string;
      this.pendingStatus.delete(id);
      const row = this.jobs.get(id);
      if (!row || row.statusKnown) continue;
      row.statusKnown = true;
      this.statusInFlight++;
      rpc<JobStatus>('GetJobStatus', { job_id: id })
        .then((s) => this.applyStatus(s))
        .catch(() => {})
        .finally(() => {
          this.statusInFlight--;
          this.pumpStatus();
        });
    }
  }

  applyStatus(s: JobStatus): void {
    const row = this.jobs.get(s.job_id);
    if (!row) return;
    const run = shownRun(s);
    row.run_status = run?.status ?? null;
    row.run_at = run ? run.finished_at || run.started_at || run.scheduled_at || null : null;
    row.next_run_time = s.next_run_time;
    row.status = s.status || row.status;
    row.statusKnown = true;
    this.runVersion++;
    this.notify();
  }

  handleEvent(ev: SchedEvent): void {
    this.events.push(ev);
    if (this.events.length > 1000) this.events.splice(0, this.events.length - 1000);
    const id = ev.payload?.job_id as string | undefined;
    const type = ev.type;
    if (id) {
      const row = this.jobs.get(id);
      if (type === 'scheduler.job_deleted') {
        this.jobs.delete(id);
        this.shapeVersion++;
      } else if (type === 'scheduler.job_created' || type === 'scheduler.job_updated' || !row) {
        void this.refreshJob(id);
      } else if (type === 'scheduler.job_paused' || type === 'scheduler.job_resumed') {
        row.status = type === 'scheduler.job_paused' ? 'PAUSED' : 'ACTIVE';
        this.shapeVersion++;
        void this.refreshJob(id);
      } else if (RUN_STATUS_OF_EVENT[type]) {
        const final = type !== 'scheduler.job_started' && type !== 'scheduler.job_retrying';
        row.run_status = (final && ev.payload.status) || RUN_STATUS_OF_EVENT[type];
        row.run_at = ev.metadata?.timestamp || new Date().toISOString();
        row.statusKnown = true;
        this.runVersion++;
        if (final) this.refreshNext(id);
      }
    }
    for (const fn of this.eventListeners) fn(ev);
    this.notify();
  }

  // After a run ends the next fire time may have moved.
  private refreshNext(id: string): void {
    rpc<JobStatus>('GetJobStatus', { job_id: id })
      .then((s) => {
        const row = this.jobs.get(id);
        if (row) {
          row.next_run_time = s.next_run_time;
          this.notify();
        }
      })
      .catch(() => {});
  }
}

export const store = new Store();

// ---- the live event stream ------------------------------------------------

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unavailable';

// The event WebSocket (docs/events.md).  After a disconnect it reconnects with
// since=<last seq seen>, so no event still in the daemon's log is missed
// (seq may skip numbers: a tenant-bound token sees only its tenant's events).
export class EventStream {
  lastSeq: number | null = null;
  state: StreamState = 'connecting';
  private ws: WebSocket | null = null;
  private delay = 500;
  private stopped = false;
  private stateListeners = new Set<(s: StreamState) => void>();
  private failures = 0;

  onState(fn: (s: StreamState) => void): void {
    this.stateListeners.add(fn);
  }

  private setState(s: StreamState): void {
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  url(): string {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = new URLSearchParams();
    if (this.lastSeq !== null) q.set('since', String(this.lastSeq));
    const token = getToken();
    // Browsers cannot set headers on a WebSocket: the token goes in the query
    // (RFC 6750 section 2.3's access_token), only over this same origin.
    if (token) q.set('access_token', token);
    const qs = q.toString();
    return `${proto}//${location.host}/v1/events/ws${qs ? '?' + qs : ''}`;
  }

  start(): void {
    this.stop(); // one socket per tab, even after signing in again
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
    this.ws = null;
  }

  // For tests and the "reconnect" button: drop the connection as a network would.
  drop(): void {
    this.ws?.close();
  }

  private connect(): void {
    if (this.stopped) return;
    let opened = false;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      this.delay = 500;
      this.failures = 0;
      this.setState('live');
    };
    ws.onmessage = (m) => this.receive(String(m.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (!opened) this.failures++;
      this.setState(this.failures >= 3 ? 'unavailable' : 'reconnecting');
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  private receive(text: string): void {
    let ev: SchedEvent;
    try {
      ev = JSON.parse(text);
    } catch {
      return;
    }
    if (!ev || typeof ev.type !== 'string') return;
    if (ev.type === 'resync') {
      // Our since fell out of the daemon's bounded log: start live from now
      // and read the job list again, so nothing stays stale.
      this.lastSeq = null;
      void store.loadAll();
      return;
    }
    const seq = ev.metadata?.seq;
    if (typeof seq === 'number') {
      if (this.lastSeq !== null && seq <= this.lastSeq) return; // replayed twice
      this.lastSeq = seq;
    }
    store.handleEvent(ev);
  }
}

export const stream = new EventStream();
