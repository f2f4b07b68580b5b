#!/usr/bin/env node
// Browser tests of the web UI against the real daemon (docs/ui.md):
//   node tests/browser/test_ui.mjs build/ovsched
// Prints one PASS:/FAIL: line per check; screenshots go to build/test-artifacts/.
import { artifacts, assert, check, finish, launch, startDaemon } from './lib.mjs';

const bin = process.argv[2] || 'build/ovsched';
const shot = (page, name) => page.screenshot({ path: `${artifacts}/ui-${name}.png`, fullPage: false });
const T = 15000; // bounded waits: every wait below polls up to this long

// The live checks need the event WebSocket; say so plainly when it is not up.
async function liveStream(page) {
  try {
    await page.waitForFunction(() => window.ovsched.stream.state === 'live', null, { timeout: T });
  } catch {
    const state = await page.evaluate(() => window.ovsched.stream.state);
    throw new Error(`the event WebSocket /v1/events/ws is not live (state: ${state}); the UI sends the token as ?access_token=`);
  }
}

const d = await startDaemon(bin);
const browser = await launch();
let failedEarly = false;
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await check('the daemon serves index.html, hashed assets with long caching, and nothing outside the folder', async () => {
    const index = await fetch(`${d.url}/`);
    assert(index.status === 200, `GET / -> ${index.status}`);
    assert(/text\/html/.test(index.headers.get('content-type')), 'index content type');
    assert(index.headers.get('cache-control') === 'no-cache', `index cache ${index.headers.get('cache-control')}`);
    const html = await index.text();
    const js = /src="(\/assets\/app-[^"]+\.js)"/.exec(html)?.[1];
    assert(js, 'index names the bundle');
    const asset = await fetch(d.url + js);
    assert(asset.status === 200 && /javascript/.test(asset.headers.get('content-type')), 'bundle served as JavaScript');
    assert(/immutable/.test(asset.headers.get('cache-control')), 'bundle cached as immutable');
    for (const bad of ['/assets/..%2Findex.html', '/assets/.hidden', '/assets/nope.js'])
      assert((await fetch(d.url + bad)).status === 404, `${bad} is 404`);
    assert((await d.api('ListJobs', {}, null)).status === 401, 'the API still wants the token');
  });

  await check('a daemon whose UI folder has no index.html answers / with 503 and says how to build it', async () => {
    const bare = await startDaemon(bin, { OVSCHED_UI_DIR: '/nonexistent/ui' });
    try {
      const r = await fetch(`${bare.url}/`);
      const text = await r.text();
      assert(r.status === 503 && /not built/.test(text), `GET / -> ${r.status} ${text}`);
      assert((await bare.api('ListJobs', {})).status === 200, 'the API works without the UI');
    } finally {
      await bare.stop();
    }
  });

  await check('sign-in: a wrong token is refused, the right one opens the job list', async () => {
    await page.goto(`${d.url}/`);
    await page.getByLabel('Token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error', { hasText: 'not accepted' }).waitFor({ timeout: T });
    await shot(page, 'signin-refused');
    await page.getByLabel('Token').fill(d.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: T });
    assert(await page.evaluate(() => sessionStorage.getItem('ovsched.token')) === d.token, 'token kept in sessionStorage');
  });

  await check('a token in the URL fragment signs in and leaves the address bar', async () => {
    const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await other.goto(`${d.url}/#token=${encodeURIComponent(d.token)}`);
    await other.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: T });
    assert(!other.url().includes(d.token), `token still in ${other.url()}`);
    await other.close();
  });

  await check('editor: the preview follows the cron expression and zone, errors appear inline', async () => {
    await page.getByRole('link', { name: 'New job' }).first().click();
    await page.getByLabel('Cron expression').fill('30 2 * 3 0');
    await page.getByLabel('Time zone').fill('America/New_York');
    const first = page.locator('#preview ol.fires li').first();
    await first.waitFor({ timeout: T });
    assert((await page.locator('#preview ol.fires li').count()) === 10, 'ten fire times');
    await page.locator('#preview .dst-note').first().waitFor({ timeout: T }); // 02:30 does not exist on the second Sunday of March
    await shot(page, 'editor-preview-dst');
    await page.getByLabel('Cron expression').fill('0 9 32 * *');
    await page.locator('#preview-error', { hasText: 'day of month' }).waitFor({ timeout: T });
    await shot(page, 'editor-preview-error');
  });

  await check('create a job with the form and see it listed', async () => {
    await page.getByLabel('Id', { exact: true }).fill('ui-hello');
    await page.getByLabel('Name', { exact: true }).fill('Hello from the UI');
    await page.getByLabel('Command line').fill(`sh -c 'echo hello from the ui; sleep 1'`);
    await page.getByLabel('Cron expression').fill('0 9 * * 1');
    await page.getByLabel('Time zone').fill('America/New_York');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { name: /Hello from the UI/ }).waitFor({ timeout: T });
    const stored = await d.api('GetJob', { job_id: 'ui-hello' });
    assert(stored.status === 200, 'the daemon has the job');
    assert(JSON.stringify(stored.body.job.executor.command) === JSON.stringify(['sh', '-c', 'echo hello from the ui; sleep 1']), 'argv as typed');
    assert(stored.body.job.metadata.scheduling.timezone === 'America/New_York', 'zone saved');
    await page.getByRole('link', { name: 'Jobs', exact: true }).first().click();
    await page.locator('.jrow[data-job-id="ui-hello"]').waitFor({ timeout: T });
    await shot(page, 'jobs-list');
  });

  await check('run now: the status turns COMPLETED live, without reloading (WebSocket events)', async () => {
    await page.goto(`${d.url}/#/jobs/ui-hello`);
    await page.getByRole('button', { name: 'Run now' }).waitFor({ timeout: T });
    await liveStream(page);
    await page.evaluate(() => { window.__noReload = true; });
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.locator('#run-state .badge', { hasText: 'COMPLETED' }).waitFor({ timeout: T });
    await page.locator('#runs-table details summary').first().click();
    await page.locator('#runs-table pre', { hasText: 'hello from the ui' }).waitFor({ timeout: T });
    assert(await page.evaluate(() => window.__noReload === true), 'the page was reloaded');
    await shot(page, 'job-detail-completed');
  });

  await check('the job list shows the run state live', async () => {
    await page.getByRole('link', { name: 'Jobs', exact: true }).first().click();
    await page.evaluate(() => { window.__noReload = true; });
    const row = page.locator('.jrow[data-job-id="ui-hello"] .run-cell');
    await row.locator('.badge', { hasText: 'COMPLETED' }).waitFor({ timeout: T });
    await d.api('RunJob', { job_id: 'ui-hello' }); // from outside the browser
    await page.locator('.jrow[data-job-id="ui-hello"] .run-cell[data-run-status="RUNNING"]').waitFor({ timeout: T });
    await page.locator('.jrow[data-job-id="ui-hello"] .run-cell[data-run-status="COMPLETED"]').waitFor({ timeout: T });
    assert(await page.evaluate(() => window.__noReload === true), 'the page was reloaded');
  });

  await check('after a disconnect the stream resumes with since and misses no event', async () => {
    await page.goto(`${d.url}/#/events`);
    await liveStream(page);
    const before = await page.evaluate(() => window.ovsched.stream.lastSeq);
    await page.evaluate(() => window.ovsched.dropEvents());
    await d.api('PauseJob', { job_id: 'ui-hello' }); // happens while the socket is down
    await d.api('ResumeJob', { job_id: 'ui-hello' });
    await page.locator('#feed-list li', { hasText: 'job_resumed' }).waitFor({ timeout: T });
    const seqs = await page.evaluate(() => window.ovsched.stream && [...document.querySelectorAll('#feed-list li .mono')].map((e) => Number(e.textContent.slice(1))));
    const after = seqs.filter((s) => before === null || s > before).sort((a, b) => a - b);
    for (let i = 1; i < after.length; i++) assert(after[i] === after[i - 1] + 1, `gap in seq: ${after.join(',')}`);
    assert(after.length >= 2, `paused and resumed events after seq ${before}: ${after.join(',')}`);
    await shot(page, 'events-feed');
  });

  await check('graph of a three-job chain: nodes, edges, click opens a job', async () => {
    for (const [id, deps] of [['chain-a', []], ['chain-b', ['chain-a']], ['chain-c', ['chain-b']]]) {
      const r = await d.api('CreateJob', { job: { id, name: id.toUpperCase(), executor: { type: 'noop' }, metadata: { scheduling: { dependencies: deps } } } });
      assert(r.status === 200, `create ${id}: ${JSON.stringify(r.body)}`);
    }
    await page.goto(`${d.url}/#/graph/chain-b`);
    for (const id of ['chain-a', 'chain-b', 'chain-c'])
      await page.locator(`svg.graph g.node[data-job-id="${id}"]`).waitFor({ timeout: T });
    assert((await page.locator('svg.graph g.node').count()) === 3, 'exactly the three jobs of the closure');
    assert((await page.locator('svg.graph path.edge[data-from="chain-a"][data-to="chain-b"]').count()) === 1, 'edge a -> b');
    assert((await page.locator('svg.graph path.edge[data-from="chain-b"][data-to="chain-c"]').count()) === 1, 'edge b -> c');
    assert((await page.locator('svg.graph path.edge').count()) === 2, 'two edges');
    // layered: a left of b left of c
    const x = async (id) => (await page.locator(`g.node[data-job-id="${id}"]`).boundingBox()).x;
    assert((await x('chain-a')) < (await x('chain-b')) && (await x('chain-b')) < (await x('chain-c')), 'left-to-right layers');
    await shot(page, 'graph-chain');
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.locator('g.node[data-job-id="chain-c"]').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /CHAIN-C/ }).waitFor({ timeout: T });
  });

  await check('graph nodes take the colour of their run state live', async () => {
    await page.goto(`${d.url}/#/graph/chain-b`);
    await page.locator('g.node[data-job-id="chain-a"]').waitFor({ timeout: T });
    await d.api('RunJob', { job_id: 'chain-a' });
    await page.locator('g.node[data-job-id="chain-a"][data-run-status="COMPLETED"]').waitFor({ timeout: T });
    await shot(page, 'graph-live');
  });

  await check('editor: a dependency that closes a cycle is refused before saving', async () => {
    await page.goto(`${d.url}/#/jobs/chain-a/edit`);
    await page.locator('input[data-dep="chain-c"]').check({ timeout: T });
    await page.locator('#cycle-error', { hasText: 'chain-a -> chain-c -> chain-b -> chain-a' }).waitFor({ timeout: T });
    assert(await page.getByRole('button', { name: 'Save changes' }).isDisabled(), 'save is disabled');
    await shot(page, 'editor-cycle');
    await page.locator('input[data-dep="chain-c"]').uncheck();
    assert((await page.locator('#cycle-error').textContent()) === '', 'error gone once the dependency is removed');
  });

  await check('editor: the JSON view shows the same job and edits from it are saved', async () => {
    await page.goto(`${d.url}/#/jobs/chain-a/edit`);
    await page.getByLabel('Name', { exact: true }).fill('Chain A renamed');
    await page.getByRole('tab', { name: 'JSON' }).click();
    const text = await page.getByLabel('Job as JSON').inputValue();
    const j = JSON.parse(text);
    assert(j.name === 'Chain A renamed' && j.id === 'chain-a', 'the form edit is in the JSON');
    j.labels = { team: 'ui' };
    await page.getByLabel('Job as JSON').fill(JSON.stringify(j, null, 2));
    await page.getByRole('tab', { name: 'Form' }).click();
    assert((await page.getByLabel('Labels').inputValue()) === 'team=ui', 'the JSON edit is in the form');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /Chain A renamed/ }).waitFor({ timeout: T });
    const stored = await d.api('GetJob', { job_id: 'chain-a' });
    assert(stored.body.job.labels.team === 'ui' && stored.body.job.version === 2, 'saved as version 2');
  });

  await check('pause, resume and delete (with confirmation) from the job page', async () => {
    await page.goto(`${d.url}/#/jobs/chain-c`);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#job-status .badge', { hasText: 'PAUSED' }).waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#job-status .badge', { hasText: 'ACTIVE' }).waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').waitFor({ timeout: T });
    await shot(page, 'delete-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert((await d.api('GetJob', { job_id: 'chain-c' })).status === 200, 'cancel keeps the job');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.locator('#confirm-ok').click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: T });
    assert((await d.api('GetJob', { job_id: 'chain-c' })).status === 404, 'deleted in the daemon');
  });

  await check('a viewer token is not offered the buttons that change jobs; an admin is', async () => {
    const made = await d.api('CreateToken', { name: 'ui-viewer', role: 'viewer' });
    assert(made.status === 200, `CreateToken: ${made.status}`);
    const viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await viewer.goto(`${d.url}/#token=${encodeURIComponent(made.body.secret)}`);
    await viewer.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: T });
    await viewer.waitForFunction(() => document.body.dataset.role === 'viewer', null, { timeout: T });
    await viewer.goto(`${d.url}/#/jobs/chain-a`);
    await viewer.getByRole('heading', { name: /chain-a|CHAIN-A|A/ }).first().waitFor({ timeout: T });
    await viewer.locator('#job-status').waitFor({ timeout: T });
    for (const name of ['Run now', 'Pause', 'Delete']) {
      const n = await viewer.getByRole('button', { name, exact: true }).count();
      assert(n === 0, `a viewer sees "${name}"`);
    }
    assert(await viewer.getByRole('link', { name: 'New job' }).count() === 0, 'a viewer sees "New job"');
    await shot(viewer, 'viewer-detail');
    await viewer.close();
    await page.goto(`${d.url}/#/jobs/chain-a`);
    await page.getByRole('button', { name: 'Run now', exact: true }).waitFor({ timeout: T });
  });

  await check('search and filters; only the rows on screen are in the DOM', async () => {
    const jobs = [];
    for (let i = 0; i < 400; i++) jobs.push(d.api('CreateJob', { job: { id: `bulk-${String(i).padStart(4, '0')}`, executor: { type: 'noop' }, labels: { tier: i % 2 ? 'odd' : 'even' }, status: i % 10 ? 'ACTIVE' : 'PAUSED' } }));
    await Promise.all(jobs);
    await page.goto(`${d.url}/#/jobs`);
    await page.reload();
    await page.getByRole('status').filter({ hasText: /of 40[0-9] jobs/ }).waitFor({ timeout: T });
    const rows = await page.locator('.vlist-rows .jrow').count();
    assert(rows > 10 && rows < 80, `${rows} rows in the DOM for 400+ jobs`);
    await page.getByLabel('Search jobs').fill('bulk-01');
    await page.getByRole('status').filter({ hasText: /^100 of/ }).waitFor({ timeout: T });
    await page.getByLabel('Search jobs').fill('tier=odd');
    await page.getByLabel('Job status').selectOption('PAUSED');
    await page.getByRole('status').filter({ hasText: /^0 of/ }).waitFor({ timeout: T });
    await page.getByLabel('Search jobs').fill('tier=even');
    await page.getByRole('status').filter({ hasText: /^40 of/ }).waitFor({ timeout: T });
    await page.locator('.vlist').evaluate((el) => { el.scrollTop = 1e6; });
    await page.locator('.jrow[data-job-id="bulk-0380"]').waitFor({ timeout: T });
    await shot(page, 'jobs-filtered');
    // Beyond 400 jobs the whole graph is not drawn; one job's closure is.
    await page.goto(`${d.url}/#/graph`);
    await page.getByText(/too many to draw at once/).waitFor({ timeout: T });
    await page.getByLabel('Closure of').fill('chain-b');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('svg.graph g.node[data-job-id="chain-a"]').waitFor({ timeout: T });
    assert((await page.locator('svg.graph g.node').count()) === 2, 'chain-a and chain-b (chain-c was deleted)');
    await page.goto(`${d.url}/#/jobs`);
    await page.getByLabel('Search jobs').fill('');
    await page.getByLabel('Job status').selectOption('');
  });

  await check('keyboard: skip link, labelled controls, Tab reaches the first job link', async () => {
    await page.goto(`${d.url}/#/jobs`);
    await page.reload(); // a fresh page: focus starts at the top
    await page.locator('.jrow[data-job-id]').first().waitFor({ timeout: T });
    await page.keyboard.press('Tab');
    assert(await page.evaluate(() => document.activeElement.textContent) === 'Skip to content', 'skip link first');
    await page.keyboard.press('Enter');
    assert(await page.evaluate(() => document.activeElement.id) === 'main', 'skip link focuses main');
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input,select,textarea')].filter((el) => !el.labels?.length && !el.getAttribute('aria-label')).map((el) => el.id));
    assert(unlabelled.length === 0, `unlabelled controls: ${unlabelled}`);
    await page.locator('a.job-link').first().focus();
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement.className);
    assert(focused === 'job-link', 'arrow keys move between jobs');
  });

  await check('narrow window (400x800): the list and a job page fit without sideways scrolling', async () => {
    await page.setViewportSize({ width: 400, height: 800 });
    await page.goto(`${d.url}/#/jobs`);
    await page.locator('.jrow[data-job-id]').first().waitFor({ timeout: T });
    const overflow = await page.evaluate(() => document.querySelector('main').scrollWidth - document.querySelector('main').clientWidth);
    assert(overflow <= 1, `main overflows by ${overflow}px`);
    await shot(page, 'narrow-jobs');
    await page.goto(`${d.url}/#/jobs/ui-hello`);
    await page.locator('#run-state').waitFor({ timeout: T });
    await shot(page, 'narrow-detail');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await check('no script errors in the page', async () => {
    assert(errors.length === 0, errors.join(' | '));
  });
} catch (e) {
  failedEarly = true;
  console.log(`FAIL: browser tests stopped: ${e.stack || e}`);
} finally {
  await finish(d, browser, failedEarly);
}
