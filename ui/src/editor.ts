// The job editor: a form and a JSON view of the same document.  As the cron
// expression and zone are typed the next fire times appear (PreviewSchedule);
// dependencies are picked from existing jobs and a cycle is shown before saving.
import { ApiError, Job, isUnimplemented, rpc } from './api';
import { store, stream } from './state';
import { badge, clear, debounce, h } from './dom';
import { previewList } from './detail';
import { toast } from './ui';
import { joinArgs, shellSyntax, splitArgs } from './argv';

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

let zones: string[] | null = null;
function zoneList(): string[] {
  if (!zones) {
    try {
      zones = (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
    } catch {
      zones = ['UTC'];
    }
    if (!zones.includes('UTC')) zones.unshift('UTC');
  }
  return zones;
}

// The dependency path that closes a cycle if JOB depended on DEPS, e.g.
// ["a", "c", "b", "a"] (a depends on c, c on b, b on a); null when none.
export function findCycle(job: string, deps: string[], depsOf: (id: string) => string[]): string[] | null {
  const seen = new Set<string>();
  const path: string[] = [job];
  const walk = (id: string): boolean => {
    if (id === job) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    path.push(id);
    for (const d of depsOf(id)) if (walk(d)) return true;
    path.pop();
    return false;
  };
  for (const d of deps) {
    if (walk(d)) return [...path, job];
  }
  return null;
}

// NAME=value lines as an env object, or the first line that is not one.
function envOf(text: string): { env: Record<string, string> | null; error: string | null } {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    const name = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      return { env: null, error: `Environment line ${i + 1}: expected NAME=value, got “${line}”` };
    env[name] = line.slice(eq + 1);
  }
  return { env, error: null };
}

// A number field's value as a number, or as typed (the daemon then names the
// field that is not a number), or undefined when empty.
function numberOrText(text: string): number | string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  return Number.isFinite(Number(t)) ? Number(t) : t;
}

function fieldRow(label: string, field: Field, help?: string, id = field.id): HTMLElement {
  const helpId = help ? `${id}-help` : undefined;
  if (helpId) field.setAttribute('aria-describedby', helpId);
  return h('div', { class: 'field' },
    h('label', { for: id }, label), field,
    help ? h('div', { class: 'help', id: helpId }, help) : null);
}

export function editorView(root: HTMLElement, id: string | null): () => void {
  let base: Job = { id: '', executor: { type: 'shell', command: ['echo', 'hello'] }, metadata: { scheduling: {} } };
  let version: number | undefined;
  let mode: 'form' | 'json' = 'form';
  let alive = true;

  const f = {
    id: h('input', { id: 'f-id', autocomplete: 'off', spellcheck: 'false', placeholder: 'generated when empty' }),
    name: h('input', { id: 'f-name', autocomplete: 'off' }),
    owner: h('input', { id: 'f-owner', autocomplete: 'off' }),
    campaign: h('input', { id: 'f-campaign', type: 'number', min: '0', step: '1' }),
    labels: h('input', { id: 'f-labels', autocomplete: 'off', placeholder: 'team=data, tier=1' }),
    status: h('select', { id: 'f-status' }, ['ACTIVE', 'PAUSED', 'DISABLED'].map((s) => h('option', { value: s }, s))),
    exType: h('select', { id: 'f-extype' }, ['shell', 'http', 'noop', 'event'].map((s) => h('option', { value: s }, s))),
    command: h('input', { id: 'f-command', class: 'mono', autocomplete: 'off', spellcheck: 'false', placeholder: "sh -c 'echo hello'" }),
    useShell: h('input', { id: 'f-useshell', type: 'checkbox' }),
    env: h('textarea', { id: 'f-env', class: 'mono', rows: '3', spellcheck: 'false', placeholder: 'NAME=value, one per line' }),
    method: h('select', { id: 'f-method' }, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((s) => h('option', { value: s }, s))),
    url: h('input', { id: 'f-url', type: 'url', placeholder: 'https://…' }),
    timeout: h('input', { id: 'f-timeout', placeholder: '10m', autocomplete: 'off' }),
    trigger: h('select', { id: 'f-trigger' }, [['cron', 'cron'], ['interval', 'interval (@every)'], ['at', 'once at a time'], ['none', 'manual / dependencies only']].map(([v, t]) => h('option', { value: v }, t))),
    cron: h('input', { id: 'f-cron', class: 'mono', autocomplete: 'off', spellcheck: 'false', placeholder: '0 9 * * 1' }),
    timezone: h('input', { id: 'f-timezone', list: 'zones', autocomplete: 'off', placeholder: 'UTC' }),
    interval: h('input', { id: 'f-interval', placeholder: '90s', autocomplete: 'off' }),
    at: h('input', { id: 'f-at', placeholder: '2026-12-01T09:00:00Z', autocomplete: 'off' }),
    maxAttempts: h('input', { id: 'f-attempts', type: 'number', min: '1', step: '1', placeholder: '1' }),
    backoff: h('select', { id: 'f-backoff' }, ['', 'none', 'constant', 'linear', 'exponential'].map((s) => h('option', { value: s }, s || 'default (exponential)'))),
    initialInterval: h('input', { id: 'f-initial-interval', autocomplete: 'off', placeholder: '500ms' }),
    maxInterval: h('input', { id: 'f-max-interval', autocomplete: 'off', placeholder: '60s' }),
    multiplier: h('input', { id: 'f-multiplier', type: 'number', min: '1', step: 'any', placeholder: '1.5' }),
    randomization: h('input', { id: 'f-randomization', type: 'number', min: '0', max: '1', step: 'any', placeholder: '0.5' }),
    maxElapsed: h('input', { id: 'f-max-elapsed', autocomplete: 'off', placeholder: '15m' }),
    concurrency: h('select', { id: 'f-concurrency' }, ['', 'allow', 'forbid', 'replace'].map((s) => h('option', { value: s }, s || 'default (allow)'))),
    misfire: h('select', { id: 'f-misfire' }, ['', 'skip', 'run_once', 'run_all'].map((s) => h('option', { value: s }, s || 'default (run_once)'))),
    depSearch: h('input', { id: 'f-depsearch', type: 'search', placeholder: 'filter jobs…', autocomplete: 'off' }),
  };
  const chosenDeps = new Set<string>();
  const depList = h('div', { class: 'dep-list', role: 'group', 'aria-labelledby': 'deps-label' });
  const depError = h('div', { class: 'error', id: 'cycle-error', role: 'alert' });
  const preview = h('div', { class: 'preview', id: 'preview', 'aria-live': 'polite' });
  const json = h('textarea', { id: 'f-json', class: 'mono', rows: '28', spellcheck: 'false', 'aria-label': 'Job as JSON' });
  const jsonError = h('div', { class: 'error', role: 'alert' });
  const saveError = h('div', { class: 'error', id: 'save-error', role: 'alert' });
  const saveBlock = h('div', { class: 'error', id: 'save-blocked' });
  const saveBtn = h('button', { type: 'submit', class: 'primary', id: 'save' }, id ? 'Save changes' : 'Create job');
  const argvView = h('div', { class: 'argv-view', id: 'argv-preview', 'aria-live': 'polite' });
  const envError = h('div', { class: 'error', id: 'env-error', role: 'alert' });
  const patternBox = h('div', { class: 'pattern-box', hidden: true });

  const formPane = h('div', { id: 'pane-form', role: 'tabpanel', 'aria-labelledby': 'tab-form' });
  const jsonPane = h('div', { id: 'pane-json', role: 'tabpanel', 'aria-labelledby': 'tab-json', hidden: true }, json, jsonError);
  const tabForm = h('button', { type: 'button', role: 'tab', id: 'tab-form', 'aria-selected': 'true', 'aria-controls': 'pane-form' }, 'Form');
  const tabJson = h('button', { type: 'button', role: 'tab', id: 'tab-json', 'aria-selected': 'false', 'aria-controls': 'pane-json', tabindex: '-1' }, 'JSON');

  const exFields = {
    shell: [fieldRow('Command line', f.command, 'Split into arguments as a shell would (quotes, backslashes) and run without one, unless “through a shell” is ticked.'),
      argvView,
      h('div', { class: 'field check' }, f.useShell, h('label', { for: 'f-useshell' }, 'through a shell: /bin/sh -c LINE ("shell": true)')),
      fieldRow('Environment', f.env, 'NAME=value, one per line (executor.env).'), envError],
    http: [fieldRow('Method', f.method), fieldRow('URL', f.url)],
  };
  const shellBox = h('div', {}, exFields.shell);
  const httpBox = h('div', {}, exFields.http);
  const cronBox = h('div', {}, fieldRow('Cron expression', f.cron, '5 or 6 fields, descriptors like @daily, or @every 90s.'), fieldRow('Time zone', f.timezone, 'An IANA zone, e.g. America/New_York.'),
    h('h3', {}, 'Next fire times'));
  const intervalBox = h('div', {}, fieldRow('Interval', f.interval, 'A duration: 500ms, 90s, 1h30m.'));
  const atBox = h('div', {}, fieldRow('At (RFC 3339)', f.at));

  formPane.append(
    h('div', { class: 'form-grid' },
      h('fieldset', {}, h('legend', {}, 'Job'),
        fieldRow('Id', f.id), fieldRow('Name', f.name), fieldRow('Owner', f.owner),
        fieldRow('Tenant (campaign_id)', f.campaign), fieldRow('Labels', f.labels, 'key=value pairs, comma separated.'), fieldRow('Status', f.status)),
      h('fieldset', { class: 'sched' }, h('legend', {}, 'Schedule'),
        fieldRow('Trigger', f.trigger), cronBox, intervalBox, atBox, preview),
      h('fieldset', {}, h('legend', {}, 'Dependencies'),
        h('div', { id: 'deps-label', class: 'help' }, 'Runs wait until every job ticked here has completed.'),
        h('label', { for: 'f-depsearch', class: 'sr-only' }, 'Filter jobs'), f.depSearch, depList, depError),
      h('fieldset', {}, h('legend', {}, 'Executor'),
        fieldRow('Type', f.exType), shellBox, httpBox, fieldRow('Timeout', f.timeout, 'A duration; empty for none.')),
      h('fieldset', {}, h('legend', {}, 'Retries and policies'),
        fieldRow('Max attempts', f.maxAttempts, 'Total attempts; 1 means no retry.'), fieldRow('Backoff', f.backoff, 'The delay before each retry (docs/daemon.md).'),
        h('div', { class: 'field-pair' },
          fieldRow('Initial interval', f.initialInterval, 'First delay (500ms).'),
          fieldRow('Max interval', f.maxInterval, 'Longest delay (60s).')),
        h('div', { class: 'field-pair' },
          fieldRow('Multiplier', f.multiplier, 'Exponential growth (1.5).'),
          fieldRow('Randomization', f.randomization, 'Exponential jitter, 0-1 (0.5).')),
        fieldRow('Max elapsed', f.maxElapsed, 'No retry that would end later than this after the first attempt (15m; 0: no limit).'),
        fieldRow('Concurrency', f.concurrency), fieldRow('Misfire', f.misfire))));

  const form = h('form', { class: 'editor', novalidate: true },
    h('div', { role: 'tablist', 'aria-label': 'Editor view', class: 'tabs' }, tabForm, tabJson),
    formPane, jsonPane,
    h('div', { class: 'savebar' }, saveBtn, h('a', { class: 'button', href: id ? `#/jobs/${encodeURIComponent(id)}` : '#/jobs' }, 'Cancel'), saveBlock, saveError));
  root.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('nav', { 'aria-label': 'Breadcrumb', class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' / ', id ? h('a', { href: `#/jobs/${encodeURIComponent(id)}` }, id) : 'new'),
        h('h1', {}, id ? `Edit ${id}` : 'New job'))),
    patternBox, form,
    h('datalist', { id: 'zones' }, zoneList().map((z) => h('option', { value: z }))));

  // ---- form <-> document ----
  const toForm = (j: Job) => {
    const s = j.metadata?.scheduling || {};
    const ex = (j.executor || {}) as Record<string, any>;
    f.id.value = j.id || '';
    f.id.readOnly = Boolean(id);
    f.name.value = j.name || '';
    f.owner.value = j.owner || '';
    f.campaign.value = j.campaign_id ? String(j.campaign_id) : '';
    f.labels.value = Object.entries(j.labels || {}).map(([k, v]) => `${k}=${v}`).join(', ');
    f.status.value = ['ACTIVE', 'PAUSED', 'DISABLED'].includes(j.status || '') ? j.status! : 'ACTIVE';
    f.exType.value = ex.type || 'shell';
    // An argv array becomes one line that splits back into the same argv; a
    // string command runs through /bin/sh -c, as the daemon does with one.
    f.command.value = Array.isArray(ex.command) ? joinArgs(ex.command.map(String)) : typeof ex.command === 'string' ? ex.command : '';
    f.useShell.checked = Boolean(ex.shell) || typeof ex.command === 'string';
    f.env.value = ex.env && typeof ex.env === 'object' ? Object.entries(ex.env as Record<string, unknown>).map(([k, v]) => `${k}=${v}`).join('\n') : '';
    f.method.value = ex.method || 'GET';
    f.url.value = ex.url || '';
    f.timeout.value = ex.timeout || '';
    f.trigger.value = s.cron ? 'cron' : s.interval ? 'interval' : s.at ? 'at' : id ? 'none' : 'cron';
    f.cron.value = s.cron || '';
    f.timezone.value = s.timezone || '';
    f.interval.value = s.interval || '';
    f.at.value = s.at || '';
    const rp = (s.retry_policy || {}) as Record<string, any>;
    f.maxAttempts.value = rp.max_attempts ? String(rp.max_attempts) : '';
    f.backoff.value = rp.backoff || '';
    f.initialInterval.value = rp.initial_interval ?? '';
    f.maxInterval.value = rp.max_interval ?? '';
    f.multiplier.value = rp.multiplier !== undefined ? String(rp.multiplier) : '';
    f.randomization.value = rp.randomization_factor !== undefined ? String(rp.randomization_factor) : '';
    f.maxElapsed.value = rp.max_elapsed ?? '';
    f.concurrency.value = s.concurrency_policy || '';
    f.misfire.value = s.misfire_policy || '';
    chosenDeps.clear();
    for (const d of s.dependencies || []) chosenDeps.add(d);
    sync();
  };

  const set = (obj: Record<string, any>, key: string, value: unknown) => {
    if (value === '' || value === undefined || value === null) delete obj[key];
    else obj[key] = value;
  };

  // The form's fields laid over BASE: keys the form does not show are kept.
  const fromForm = (): Job => {
    const j: Job = structuredClone(base);
    set(j, 'id', f.id.value.trim());
    set(j, 'name', f.name.value.trim());
    set(j, 'owner', f.owner.value.trim());
    set(j, 'campaign_id', f.campaign.value ? Number(f.campaign.value) : undefined);
    const labels: Record<string, string> = {};
    for (const part of f.labels.value.split(',')) {
      const [k, ...v] = part.split('=');
      if (k.trim()) labels[k.trim()] = v.join('=').trim();
    }
    set(j, 'labels', Object.keys(labels).length ? labels : undefined);
    j.status = f.status.value;
    const oldEx = (j.executor || {}) as Record<string, any>;
    const ex: Record<string, any> = oldEx.type === f.exType.value ? { ...oldEx } : {};
    ex.type = f.exType.value;
    if (ex.type === 'shell') {
      const line = f.command.value.trim();
      ex.command = f.useShell.checked ? line : splitArgs(line).argv || [];
      set(ex, 'shell', f.useShell.checked || undefined);
      const env = envOf(f.env.value).env;
      set(ex, 'env', env && Object.keys(env).length ? env : undefined);
    }
    if (ex.type === 'http') {
      set(ex, 'method', f.method.value);
      set(ex, 'url', f.url.value.trim());
    }
    set(ex, 'timeout', f.timeout.value.trim());
    j.executor = ex;
    j.metadata = j.metadata || {};
    const s: Record<string, any> = { ...(j.metadata.scheduling || {}) };
    for (const k of ['cron', 'timezone', 'interval', 'at']) delete s[k];
    if (f.trigger.value === 'cron') {
      set(s, 'cron', f.cron.value.trim());
      set(s, 'timezone', f.timezone.value.trim());
    } else if (f.trigger.value === 'interval') {
      set(s, 'interval', f.interval.value.trim());
    } else if (f.trigger.value === 'at') {
      set(s, 'at', f.at.value.trim());
    }
    set(s, 'dependencies', chosenDeps.size ? [...chosenDeps] : undefined);
    const rp: Record<string, any> = { ...(s.retry_policy || {}) };
    set(rp, 'max_attempts', f.maxAttempts.value ? Number(f.maxAttempts.value) : undefined);
    set(rp, 'backoff', f.backoff.value);
    set(rp, 'initial_interval', f.initialInterval.value.trim());
    set(rp, 'max_interval', f.maxInterval.value.trim());
    set(rp, 'multiplier', numberOrText(f.multiplier.value));
    set(rp, 'randomization_factor', numberOrText(f.randomization.value));
    set(rp, 'max_elapsed', f.maxElapsed.value.trim());
    set(s, 'retry_policy', Object.keys(rp).length ? rp : undefined);
    set(s, 'concurrency_policy', f.concurrency.value);
    set(s, 'misfire_policy', f.misfire.value);
    j.metadata.scheduling = s;
    for (const k of ['version', 'created_at', 'updated_at', 'next_run_time']) delete j[k];
    return j;
  };

  // ---- dependencies and cycles ----
  const depsOf = (other: string) => store.jobs.get(other)?.deps || [];
  const drawDeps = () => {
    clear(depList);
    const q = f.depSearch.value.trim().toLowerCase();
    const self = f.id.value.trim();
    const all = [...store.jobs.values()].filter((r) => r.id !== self && (!q || r.search.includes(q) || chosenDeps.has(r.id)));
    all.sort((a, b) => Number(chosenDeps.has(b.id)) - Number(chosenDeps.has(a.id)) || (a.id < b.id ? -1 : 1));
    const shown = all.slice(0, 200);
    for (const r of shown) {
      const cb = h('input', { type: 'checkbox', id: `dep-${r.id}`, value: r.id, checked: chosenDeps.has(r.id), 'data-dep': r.id });
      cb.addEventListener('change', () => {
        if (cb.checked) chosenDeps.add(r.id);
        else chosenDeps.delete(r.id);
        checkCycle();
      });
      depList.append(h('div', { class: 'dep' }, cb, h('label', { for: `dep-${r.id}` }, r.id, r.name !== r.id ? h('span', { class: 'muted' }, ` ${r.name}`) : null), ' ', badge(r.status)));
    }
    if (all.length > shown.length) depList.append(h('div', { class: 'muted' }, `${all.length - shown.length} more: type to filter`));
    if (!all.length) depList.append(h('div', { class: 'muted' }, q ? 'No job matches.' : 'No other jobs yet.'));
  };
  const checkCycle = (): boolean => {
    const self = f.id.value.trim();
    const missing = [...chosenDeps].filter((d) => store.loaded && !store.jobs.has(d));
    const cycle = self ? findCycle(self, [...chosenDeps], depsOf) : null;
    depError.textContent = cycle
      ? `Dependency cycle: ${cycle.join(' -> ')} (each job waits for the next). Remove one of these dependencies.`
      : missing.length ? `Unknown job${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}` : '';
    saveBtn.disabled = Boolean(cycle);
    saveBlock.textContent = cycle ? `Cannot save: dependency cycle ${cycle.join(' -> ')}` : '';
    return !cycle;
  };

  // ---- live preview ----
  let previewSeq = 0;
  const runPreview = debounce(async () => {
    const seq = ++previewSeq;
    if (f.trigger.value !== 'cron' || !f.cron.value.trim()) {
      clear(preview);
      preview.append(h('p', { class: 'muted' }, f.trigger.value === 'cron' ? 'Type a cron expression to see when it fires.' : 'The preview covers cron schedules.'));
      return;
    }
    const req: Record<string, unknown> = { cron: f.cron.value.trim(), count: 10 };
    if (f.timezone.value.trim()) req.timezone = f.timezone.value.trim();
    const dst = base.metadata?.scheduling?.dst_policy;
    if (dst) req.dst_policy = dst;
    try {
      const r = await rpc<{ times: string[]; notes: string[]; timezone: string }>('PreviewSchedule', req);
      if (seq !== previewSeq || !alive) return;
      clear(preview);
      f.cron.removeAttribute('aria-invalid');
      preview.append(r.times.length ? previewList(r.times, r.notes || [], r.timezone || 'UTC') : h('p', { class: 'muted' }, 'This schedule never fires.'));
    } catch (e) {
      if (seq !== previewSeq || !alive) return;
      clear(preview);
      f.cron.setAttribute('aria-invalid', 'true');
      preview.append(h('p', { class: 'error', id: 'preview-error' }, (e as ApiError).message));
    }
  }, 200);

  // The argv the daemon will run, as the line is typed.
  const drawArgv = (): boolean => {
    clear(argvView);
    const line = f.command.value.trim();
    if (f.useShell.checked) {
      argvView.append(h('span', { class: 'muted' }, 'runs '), h('ol', { class: 'argv' }, ['/bin/sh', '-c', line].map((a) => h('li', {}, h('code', {}, a)))));
      return true;
    }
    const r = splitArgs(line);
    if (r.error !== null) {
      argvView.append(h('p', { class: 'error', id: 'argv-error' }, `Command line: ${r.error}.`));
      return false;
    }
    argvView.append(h('span', { class: 'muted' }, `argv (${r.argv.length}) `), h('ol', { class: 'argv' }, r.argv.map((a) => h('li', {}, h('code', {}, a)))));
    const op = shellSyntax(line);
    if (op) argvView.append(h('p', { class: 'help', id: 'argv-note' }, `“${op}” is passed to the program as it is: tick “through a shell” for pipes, redirections and variables.`));
    return true;
  };
  const checkEnv = (): boolean => {
    const r = envOf(f.env.value);
    envError.textContent = r.error || '';
    return !r.error;
  };

  const sync = () => {
    const t = f.exType.value;
    shellBox.hidden = t !== 'shell';
    httpBox.hidden = t !== 'http';
    cronBox.hidden = f.trigger.value !== 'cron';
    intervalBox.hidden = f.trigger.value !== 'interval';
    atBox.hidden = f.trigger.value !== 'at';
    drawDeps();
    checkCycle();
    drawArgv();
    checkEnv();
    runPreview();
  };
  for (const el of [f.exType, f.trigger]) el.addEventListener('change', sync);
  f.command.addEventListener('input', () => drawArgv());
  f.useShell.addEventListener('change', () => drawArgv());
  f.env.addEventListener('input', () => checkEnv());
  for (const el of [f.cron, f.timezone]) el.addEventListener('input', () => runPreview());
  f.depSearch.addEventListener('input', drawDeps);
  f.id.addEventListener('input', () => checkCycle());

  // ---- tabs ----
  const switchTo = (next: 'form' | 'json') => {
    if (next === mode) return;
    if (next === 'json') {
      json.value = JSON.stringify(fromForm(), null, 2);
      jsonError.textContent = '';
    } else {
      try {
        const parsed = JSON.parse(json.value);
        const j = parsed && parsed.job ? parsed.job : parsed;
        if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error('the JSON must be a job object');
        base = j;
        toForm(base);
      } catch (e) {
        jsonError.textContent = `Cannot show this JSON in the form: ${(e as Error).message}`;
        return;
      }
    }
    mode = next;
    formPane.hidden = mode !== 'form';
    jsonPane.hidden = mode !== 'json';
    tabForm.setAttribute('aria-selected', String(mode === 'form'));
    tabJson.setAttribute('aria-selected', String(mode === 'json'));
    tabForm.tabIndex = mode === 'form' ? 0 : -1;
    tabJson.tabIndex = mode === 'json' ? 0 : -1;
    (mode === 'form' ? tabForm : tabJson).focus();
  };
  tabForm.addEventListener('click', () => switchTo('form'));
  tabJson.addEventListener('click', () => switchTo('json'));
  for (const tab of [tabForm, tabJson])
    tab.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') switchTo(mode === 'form' ? 'json' : 'form');
    });

  // ---- save ----
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    saveError.textContent = '';
    let j: Job;
    if (mode === 'json') {
      try {
        const parsed = JSON.parse(json.value);
        j = parsed && parsed.job ? parsed.job : parsed;
      } catch (err) {
        saveError.textContent = `JSON: ${(err as Error).message}`;
        return;
      }
      const deps = j?.metadata?.scheduling?.dependencies;
      const cycle = j?.id && Array.isArray(deps) ? findCycle(j.id, deps, depsOf) : null;
      if (cycle) {
        saveError.textContent = `Dependency cycle: ${cycle.join(' -> ')}`;
        return;
      }
    } else {
      if (!checkCycle()) return;
      if (f.exType.value === 'shell' && (!drawArgv() || !checkEnv())) {
        saveError.textContent = 'Fix the command line and the environment first.';
        return;
      }
      j = fromForm();
    }
    saveBtn.disabled = true;
    try {
      const body: Record<string, unknown> = { job: j };
      if (id && version !== undefined) body.version = version;
      const r = await rpc<{ job: Job }>(id ? 'UpdateJob' : 'CreateJob', body);
      await store.refreshJob(r.job.id);
      toast(id ? `Saved ${r.job.id}` : `Created ${r.job.id}`);
      location.hash = `#/jobs/${encodeURIComponent(r.job.id)}`;
    } catch (err) {
      saveError.textContent = (err as ApiError).message;
    } finally {
      saveBtn.disabled = false;
    }
  });

  // ---- patterns: only when the daemon serves them ----
  rpc<{ patterns: Record<string, any>[] }>('ListPatterns', {})
    .then((r) => {
      if (!alive || id) return;
      const patterns = r.patterns || [];
      if (!patterns.length) return;
      const sel = h('select', { id: 'f-pattern' }, h('option', { value: '' }, 'choose a pattern…'),
        patterns.map((p) => h('option', { value: String(p.pattern_id ?? p.id) }, `${p.pattern_id ?? p.id}${p.version ? ` v${p.version}` : ''}`)));
      const params = h('textarea', { id: 'f-params', rows: '3', class: 'mono', placeholder: '{"name": "value"}' });
      const use = h('button', { type: 'button', onclick: () => {
        let parameters: unknown = {};
        try {
          parameters = params.value.trim() ? JSON.parse(params.value) : {};
        } catch (e) {
          toast(`Parameters: ${(e as Error).message}`, true);
          return;
        }
        const j = mode === 'json' ? JSON.parse(json.value) : fromForm();
        j.metadata = j.metadata || {};
        j.metadata.service_specific = j.metadata.service_specific || {};
        j.metadata.service_specific.scheduler = { ...(j.metadata.service_specific.scheduler || {}), pattern_id: sel.value, parameters };
        base = j;
        toForm(base);
        toast(`The job will be rendered from pattern ${sel.value}`);
      } }, 'Use pattern');
      patternBox.append(h('details', {}, h('summary', {}, 'Create from a pattern'),
        fieldRow('Pattern', sel), fieldRow('Parameters (JSON)', params), use));
      patternBox.hidden = false;
    })
    .catch((e) => { if (!isUnimplemented(e)) console.warn('ListPatterns', e); });

  const unsub = store.subscribe(() => { if (mode === 'form') { drawDeps(); checkCycle(); } });
  // The cycle check reads every job's dependencies: without live events the
  // list may be stale, so read it again.
  if (!store.loaded || stream.state !== 'live') void store.loadAll();
  if (id) {
    rpc<{ job: Job }>('GetJob', { job_id: id })
      .then((r) => {
        if (!alive) return;
        version = r.job.version;
        base = r.job;
        toForm(base);
      })
      .catch((e) => { saveError.textContent = (e as ApiError).message; });
  } else {
    toForm(base);
  }
  setTimeout(() => (id ? f.name : f.id).focus(), 0);
  return () => { alive = false; unsub(); };
}
