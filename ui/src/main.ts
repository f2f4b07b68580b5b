// ovsched web UI: sign-in, then a hash router over the views.  Data comes from
// the JSON API; changes arrive on the event WebSocket (no polling).
import './style.css';
import { ApiError, getToken, rpc, setToken, setUnauthorizedHandler } from './api';
import { StreamState, store, stream } from './state';
import { clear, h, startLiveTimes } from './dom';
import { jobsView } from './jobs';
import { detailView } from './detail';
import { editorView } from './editor';
import { graphView } from './graph';
import { feedView } from './feed';

const app = document.getElementById('app')!;
let teardown: (() => void) | null = null;
let started = false;

// A token handed in the URL fragment (#token=...) never reaches the server;
// keep it for this tab and take it out of the address bar.
function takeTokenFromFragment(): void {
  const m = /^#token=([^&]*)/.exec(location.hash);
  if (!m) return;
  setToken(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search + '#/jobs');
}

function signIn(message = ''): void {
  stream.stop();
  started = false;
  teardown?.();
  teardown = null;
  clear(app);
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const err = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message);
  const form = h('form', { class: 'signin panel', 'aria-labelledby': 'signin-h' },
    h('h1', { id: 'signin-h' }, 'ovsched'),
    h('p', { class: 'muted' }, 'Sign in with an API token (an admin, operator or viewer token). It is kept in this tab only.'),
    h('p', { class: 'muted', id: 'signin-where' },
      'The admin token is in the file admin-token of the daemon\'s data folder (data/admin-token after make run, /var/lib/ovsched/admin-token for the system service), unless OVSCHED_ADMIN_TOKEN set one. An admin makes more with ovsched token create.'),
    h('label', { for: 'token' }, 'Token'), input, err,
    h('button', { type: 'submit', class: 'primary', id: 'signin' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const token = input.value.trim();
    try {
      await rpc('ListJobs', { page_size: 1 }, token);
      setToken(token);
      if (!location.hash || location.hash === '#/signin') location.hash = '#/jobs';
      start();
    } catch (ex) {
      err.textContent = ex instanceof ApiError && ex.status === 401 ? 'That token was not accepted.' : (ex as Error).message;
    }
  });
  app.append(h('main', { class: 'signin-wrap' }, form));
  input.focus();
}

function shell(): HTMLElement {
  const conn = h('span', { class: 'conn', id: 'conn', role: 'status', title: 'Live event stream' });
  const setConn = (s: StreamState) => {
    conn.className = `conn ${s}`;
    conn.textContent = { connecting: 'connecting', live: 'live', reconnecting: 'reconnecting…', unavailable: 'no live events' }[s];
  };
  setConn(stream.state);
  stream.onState(setConn);
  const link = (href: string, text: string) => h('a', { href, 'data-nav': href }, text);
  const main = h('main', { id: 'main', tabindex: '-1' });
  app.append(
    h('a', { class: 'skip', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, 'Skip to content'),
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '#/jobs' }, 'ovsched'),
      h('nav', { 'aria-label': 'Main' }, link('#/jobs', 'Jobs'), link('#/graph', 'Graph'), link('#/events', 'Events'), h('a', { href: '#/new', 'data-nav': '#/new', class: 'needs-operator' }, 'New job')),
      h('div', { class: 'spacer' }), conn,
      h('button', { class: 'ghost', onclick: () => { setToken(null); signIn('Signed out.'); } }, 'Sign out')),
    main);
  return main;
}

function route(): void {
  if (!started) return;
  const main = document.getElementById('main')!;
  teardown?.();
  teardown = null;
  clear(main);
  const path = location.hash.replace(/^#/, '') || '/jobs';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('header nav a')) {
    const on = path === a.dataset.nav!.slice(1) || (a.dataset.nav === '#/jobs' && parts[0] === 'jobs');
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (parts[0] === 'jobs' && parts[1] && parts[2] === 'edit') teardown = editorView(main, parts[1]);
  else if (parts[0] === 'jobs' && parts[1]) teardown = detailView(main, parts[1]);
  else if (parts[0] === 'new') teardown = editorView(main, null);
  else if (parts[0] === 'graph') teardown = graphView(main, parts[1] || null);
  else if (parts[0] === 'events') teardown = feedView(main);
  else teardown = jobsView(main);
  document.title = `ovsched · ${parts[0] === 'jobs' && parts[1] ? parts[1] : parts[0] || 'jobs'}`;
}

// What the token may do (WhoAmI): a viewer is not offered the buttons that
// change jobs (the daemon would answer 403).  CSS hides `.needs-operator`.
function learnRole(): void {
  rpc<{ role?: string }>('WhoAmI', {})
    .then((me) => { document.body.dataset.role = me.role || ''; })
    .catch(() => { delete document.body.dataset.role; });
}

function start(): void {
  clear(app);
  started = true;
  startLiveTimes();
  learnRole();
  shell();
  // Subscribe before loading: an event that races the first page is applied
  // to the fresh rows (each event handler fetches the job it names).
  stream.start();
  void store.loadAll();
  route();
}

setUnauthorizedHandler(() => signIn('Your token was refused (expired or revoked?). Sign in again.'));
window.addEventListener('hashchange', () => {
  if (/^#token=/.test(location.hash)) {
    takeTokenFromFragment();
    start();
    return;
  }
  route();
});
// Test hook: drop the WebSocket as a network failure would.
(window as unknown as { ovsched: object }).ovsched = { dropEvents: () => stream.drop(), stream };

takeTokenFromFragment();
(async () => {
  const token = getToken();
  // A daemon without auth answers without a token too.
  try {
    await rpc('ListJobs', { page_size: 1 }, token);
    start();
  } catch (e) {
    signIn(token && e instanceof ApiError && e.status === 401 ? 'Your token was refused. Sign in again.' : e instanceof ApiError && e.status !== 401 ? e.message : '');
  }
})();
