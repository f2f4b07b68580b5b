// The daemon's JSON API (docs/daemon.md): POST /scheduler.v1.SchedulerService/<Method>.
const PREFIX = '/scheduler.v1.SchedulerService/';
const TOKEN_KEY = 'ovsched.token';

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

export interface Job {
  id: string;
  name?: string;
  status?: string;
  owner?: string;
  campaign_id?: number;
  labels?: Record<string, string>;
  executor?: Record<string, unknown>;
  payload?: string;
  metadata?: {
    scheduling?: Scheduling;
    service_specific?: { scheduler?: Record<string, unknown> };
    [k: string]: unknown;
  };
  version?: number;
  created_at?: string | null;
  updated_at?: string | null;
  next_run_time?: string | null;
  [k: string]: unknown;
}

export interface Scheduling {
  cron?: string;
  timezone?: string;
  interval?: string;
  at?: string;
  dependencies?: string[];
  retry_policy?: Record<string, unknown>;
  concurrency_policy?: string;
  misfire_policy?: string;
  [k: string]: unknown;
}

export interface Run {
  id: string;
  job_id: string;
  status: string;
  trigger?: string;
  attempt?: number;
  scheduled_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  exit_code?: number | null;
  output?: string | null;
  error?: string | null;
  correlation_id?: string | null;
}

export interface JobStatus {
  job_id: string;
  status: string;
  next_run_time: string | null;
  current_run: Run | null;
  last_run: Run | null;
  retry: Record<string, unknown> | null;
  blocked_by: unknown[];
  reason: string | null;
}

export interface GraphNode {
  id: string;
  name?: string;
  status?: string;
  last_run_status?: string | null;
  next_run_time?: string | null;
}
export interface Graph {
  nodes: GraphNode[];
  edges: { from: string; to: string }[];
  levels?: string[][];
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export async function rpc<T = any>(method: string, body: object = {}, token = getToken()): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let resp: Response;
  try {
    resp = await fetch(PREFIX + method, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'unavailable', `the daemon cannot be reached (${(e as Error).message})`);
  }
  const text = await resp.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(resp.status, 'bad_response', `${method}: the daemon answered ${resp.status} with no JSON`);
  }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data?.code || 'error', data?.message || `${method} failed (${resp.status})`);
    if (resp.status === 401 && token === getToken()) onUnauthorized();
    throw err;
  }
  return data as T;
}

// True when the daemon has no such method yet (404 unimplemented).
export function isUnimplemented(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && (e.code === 'unimplemented' || /unknown method/.test(e.message));
}
