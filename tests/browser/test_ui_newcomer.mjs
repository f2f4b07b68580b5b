#!/usr/bin/env node
// Browser tests of what a newcomer tripped over in the web UI (docs/ui.md),
// each against the real daemon:
//   node tests/browser/test_ui_newcomer.mjs build/ovsched
// the icon, where the admin token is, "Last run" never showing the run written
// ahead of its slot, relative times that tick every second (on Playwright's
// fake clock), graph nodes with name and id, UPSTREAM_FAILED in the legend,
// badges at 400 px, the command line split into argv (both ways), fire times
// that fit the editor at 1280 px, retry delays and env in the form.
// Prints one PASS:/FAIL: line per check; screenshots go to build/test-artifacts/.
import { artifacts, assert, check, finish, launch, startDaemon } from './lib.mjs';

const bin = process.argv[2] || 'build/ovsched';
const shot = (page, name) => page.screenshot({ path: `${artifacts}/newcomer-${name}.png`, fullPage: false });
const T = 15000; // bounded waits

const d = await startDaemon(bin);
const browser = await launch();
let failedEarly = false;

// A signed-in page of its own context (so a fake clock stays in its test).
async function openPage(width = 1280, height = 800, before = async () => {}) {
  const ctx = await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await before(page);
  await page.goto(`${d.url}/#token=${encodeURIComponent(d.token)}`);
  await page.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: T });
  return page;
}

async function create(job) {
  const r = await d.api('CreateJob', { job });
  assert(r.status === 200, `CreateJob ${job.id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.job;
}

async function until(what, fn) {
  const deadline = Date.now() + T;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

try {
  await check('the icon is served at /favicon.ico and /favicon.svg, and a page load asks for nothing that is missing', async () => {
    for (const path of ['/favicon.ico', '/favicon.svg']) {
      const r = await fetch(d.url + path);
      assert(r.status === 200, `GET ${path} -> ${r.status}`);
      assert(r.headers.get('content-type') === 'image/svg+xml', `${path} content type ${r.headers.get('content-type')}`);
      assert((await r.text()).includes('<svg'), `${path} is the SVG icon`);
    }
    const missing = [];
    const page = await openPage(1280, 800, async (p) => p.on('response', (resp) => { if (resp.status() === 404) missing.push(resp.url()); }));
    await page.waitForLoadState('networkidle', { timeout: T }).catch(() => {});
    assert(missing.length === 0, `404 during a page load: ${missing.join(', ')}`);
    assert(await page.locator('link[rel="icon"]').count() === 1, 'index.html names its icon');
    await page.context().close();
  });

  await check('the sign-in page says where the admin token is', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${d.url}/`);
    const text = await page.locator('#signin-where').textContent({ timeout: T });
    assert(/data\/admin-token/.test(text) && /OVSCHED_ADMIN_TOKEN/.test(text), `sign-in text: ${text}`);
    await shot(page, 'signin');
    await ctx.close();
  });

  await check('"Last run" shows the last run, never the next one written ahead of its slot (PENDING)', async () => {
    // Every 2 s: the daemon always holds the next slots' runs, written 5 s
    // ahead as PENDING, and GetJobStatus answers the newest as current_run.
    await create({ id: 'tick', name: 'Tick', executor: { type: 'noop' }, metadata: { scheduling: { cron: '*/2 * * * * *' } } });
    await until('a completed run', async () => (await d.api('GetJobStatus', { job_id: 'tick' })).body.last_run);
    const st = await until('a run written ahead', async () => {
      const b = (await d.api('GetJobStatus', { job_id: 'tick' })).body;
      return b.current_run?.status === 'PENDING' && b;
    });
    assert(Date.parse(st.current_run.scheduled_at) > Date.now() - 1000, 'the PENDING run is the next slot');
    const page = await openPage(1280, 800, async (p) => p.addInitScript(() => {
      // Every state the cell and the job page's badge ever show, however briefly.
      window.__seen = new Set();
      new MutationObserver(() => {
        for (const e of document.querySelectorAll('.jrow[data-job-id="tick"] .run-cell')) window.__seen.add(`list:${e.dataset.runStatus}`);
        const b = document.querySelector('#run-state .badge');
        if (b) window.__seen.add(`page:${b.textContent}`);
      }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    }));
    await page.getByLabel('Search jobs').fill('tick');
    await page.locator('.jrow[data-job-id="tick"] .run-cell .badge').waitFor({ timeout: T });
    await page.goto(`${d.url}/#/jobs/tick`);
    await page.locator('#run-state .badge').waitFor({ timeout: T });
    await page.waitForTimeout(500); // a redraw or two after the first
    const seen = await page.evaluate(() => [...window.__seen]);
    assert(seen.some((s) => s.startsWith('list:') && s !== 'list:'), `the list showed a run state: ${seen}`);
    assert(!seen.some((s) => /PENDING/.test(s)), `PENDING was shown as the last run: ${seen}`);
    await shot(page, 'last-run');
    await page.context().close();
    await d.api('DeleteJob', { job_id: 'tick' });
  });

  await check('relative times redraw every second (one ticker, on the page\'s clock)', async () => {
    const at = new Date(Date.now() + 2 * 3600e3);
    at.setMilliseconds(0);
    await create({ id: 'later', name: 'Later', executor: { type: 'noop' }, metadata: { scheduling: { at: at.toISOString() } } });
    const page = await openPage(1280, 800, (p) => p.clock.install());
    await page.getByLabel('Search jobs').fill('later');
    const cell = page.locator('.jrow[data-job-id="later"] .c3');
    await cell.filter({ hasText: /in 2h/ }).waitFor({ timeout: T });
    await page.clock.pauseAt(new Date(at.getTime() - 50000));
    await page.clock.runFor(1000);
    const one = (await cell.textContent()).trim();
    await page.clock.runFor(1000);
    const two = (await cell.textContent()).trim();
    assert(one === 'in 49s' && two === 'in 48s', `after 1 s: "${one}", after 2 s: "${two}"`);
    await page.context().close();
  });

  await check('graph nodes show name and id: two "Weekly Report" jobs can be told apart', async () => {
    await create({ id: 'report-eu', name: 'Weekly Report', executor: { type: 'noop' } });
    await create({ id: 'report-us', name: 'Weekly Report', executor: { type: 'noop' }, metadata: { scheduling: { dependencies: ['report-eu'] } } });
    const page = await openPage();
    await page.goto(`${d.url}/#/graph/report-eu`);
    const texts = {};
    for (const id of ['report-eu', 'report-us']) {
      const node = page.locator(`svg.graph g.node[data-job-id="${id}"]`);
      await node.waitFor({ timeout: T });
      texts[id] = await node.locator('text').allTextContents();
      assert(texts[id].includes('Weekly Report') && texts[id].includes(id), `node ${id} shows ${JSON.stringify(texts[id])}`);
    }
    assert(JSON.stringify(texts['report-eu']) !== JSON.stringify(texts['report-us']), 'the two nodes read differently');
    await shot(page, 'graph-same-names');
    await page.context().close();
  });

  await check('the graph legend has UPSTREAM_FAILED, in the colour of such a node', async () => {
    await create({ id: 'up-fails', name: 'Fails', executor: { type: 'shell', command: ['sh', '-c', 'exit 3'] } });
    await create({ id: 'down-waits', name: 'Waits', executor: { type: 'noop' }, metadata: { scheduling: { dependencies: ['up-fails'] } } });
    await d.api('RunJob', { job_id: 'up-fails' });
    await until('down-waits UPSTREAM_FAILED', async () => (await d.api('GetJobStatus', { job_id: 'down-waits' })).body.last_run?.status === 'UPSTREAM_FAILED');
    const page = await openPage();
    await page.goto(`${d.url}/#/graph/down-waits`);
    const node = page.locator('g.node[data-job-id="down-waits"][data-run-status="UPSTREAM_FAILED"]');
    await node.waitFor({ timeout: T });
    const legend = page.locator('.legend .lg.s-upstream_failed');
    assert((await legend.textContent()) === 'UPSTREAM_FAILED', 'legend entry');
    const colour = async (loc, prop) => loc.evaluate((el, p) => getComputedStyle(el)[p], prop);
    const swatch = await colour(legend, 'color');
    assert(swatch === await colour(node.locator('.stripe'), 'fill'), `legend ${swatch} is the node's stripe colour`);
    assert(swatch !== await colour(page.locator('.legend .lg.s-failed'), 'color'), 'UPSTREAM_FAILED looks unlike FAILED');
    await shot(page, 'graph-upstream-failed');
    await page.context().close();
  });

  await check('400 px wide: every status badge is whole, in the list and on a job page', async () => {
    await create({ id: 'narrow-off', name: 'Disabled one', status: 'DISABLED', executor: { type: 'noop' } });
    const page = await openPage(400, 800);
    await page.getByLabel('Search jobs').fill('waits');
    await page.locator('.jrow[data-job-id="down-waits"] .run-cell[data-run-status="UPSTREAM_FAILED"] .badge').waitFor({ timeout: T });
    const clipped = () => page.evaluate(() => [...document.querySelectorAll('main .badge')].filter((b) => {
      const r = b.getBoundingClientRect();
      if (!r.width) return false; // not shown
      let cut = b.scrollWidth > b.clientWidth + 1 || r.right > window.innerWidth;
      for (let p = b.parentElement; p && !cut; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.overflowX !== 'visible' || s.overflow !== 'visible') cut = r.right > p.getBoundingClientRect().right + 0.5 || r.left < p.getBoundingClientRect().left - 0.5;
      }
      return cut;
    }).map((b) => b.textContent));
    let cut = await clipped();
    await shot(page, 'narrow-list');
    assert(cut.length === 0, `cut in the list: ${cut}`);
    for (const q of ['off', 'report', '']) {
      await page.getByLabel('Search jobs').fill(q);
      await page.waitForTimeout(200);
      cut = await clipped();
      assert(cut.length === 0, `cut in the list (search "${q}"): ${cut}`);
    }
    await page.goto(`${d.url}/#/jobs/down-waits`);
    await page.locator('#run-state .badge').waitFor({ timeout: T });
    cut = await clipped();
    await shot(page, 'narrow-detail');
    assert(cut.length === 0, `cut on the job page: ${cut}`);
    await page.context().close();
  });

  await check('editor: one command line, split as a shell would and shown as argv, saved as argv and loaded back', async () => {
    const page = await openPage();
    await page.goto(`${d.url}/#/new`);
    await page.getByLabel('Id', { exact: true }).fill('argv-job');
    const line = page.getByLabel('Command line');
    await line.fill(`printf '%s\\n' "a b" c\\ d`);
    const items = page.locator('#argv-preview ol.argv li');
    await until('the argv preview', async () => (await items.count()) === 4);
    assert(JSON.stringify(await items.allTextContents()) === JSON.stringify(['printf', '%s\\n', 'a b', 'c d']), `argv shown: ${await items.allTextContents()}`);
    await line.fill(`echo 'unclosed`);
    await page.locator('#argv-error', { hasText: 'not closed' }).waitFor({ timeout: T });
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.locator('#save-error', { hasText: 'command line' }).waitFor({ timeout: T });
    assert((await d.api('GetJob', { job_id: 'argv-job' })).status === 404, 'a bad line is not saved');
    await line.fill(`printf '%s\\n' "a b" c\\ d`);
    await shot(page, 'editor-argv');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { name: /argv-job/ }).waitFor({ timeout: T });
    const want = JSON.stringify(['printf', '%s\\n', 'a b', 'c d']);
    const stored = await d.api('GetJob', { job_id: 'argv-job' });
    assert(JSON.stringify(stored.body.job.executor.command) === want, `stored ${JSON.stringify(stored.body.job.executor.command)}`);
    // The reverse: an argv array loads as one line that splits back into it.
    await page.goto(`${d.url}/#/jobs/argv-job/edit`);
    await until('the loaded line', async () => (await line.inputValue()) !== '');
    assert((await line.inputValue()) === `printf '%s\\n' 'a b' 'c d'`, `loaded as: ${await line.inputValue()}`);
    await page.getByLabel('Name', { exact: true }).fill('Argv');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /Argv/ }).waitFor({ timeout: T });
    const again = await d.api('GetJob', { job_id: 'argv-job' });
    assert(JSON.stringify(again.body.job.executor.command) === want && again.body.job.version === 2, `after a save: ${JSON.stringify(again.body.job.executor)}`);
    // Through a shell: the line itself, run by /bin/sh -c.
    await page.goto(`${d.url}/#/jobs/argv-job/edit`);
    await until('the loaded line', async () => (await line.inputValue()) !== '');
    await line.fill('echo $HOME | tr a-z A-Z');
    await page.locator('#argv-note', { hasText: 'through a shell' }).waitFor({ timeout: T });
    await page.getByLabel(/through a shell/).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /Argv/ }).waitFor({ timeout: T });
    const shell = (await d.api('GetJob', { job_id: 'argv-job' })).body.job.executor;
    assert(shell.command === 'echo $HOME | tr a-z A-Z' && shell.shell === true, `through a shell: ${JSON.stringify(shell)}`);
    await page.context().close();
  });

  await check('editor at 1280 px: the next fire times (with a DST note) stay inside their panel', async () => {
    const page = await openPage(1280, 800);
    await page.goto(`${d.url}/#/new`);
    await page.getByLabel('Cron expression').fill('30 2 * 3 0');
    await page.getByLabel('Time zone').fill('America/New_York');
    await until('ten fire times', async () => (await page.locator('#preview ol.fires li').count()) === 10);
    await page.locator('#preview .dst-note').first().waitFor({ timeout: T });
    const out = await page.evaluate(() => {
      const box = document.querySelector('#preview').closest('fieldset').getBoundingClientRect();
      const bad = [];
      for (const li of document.querySelectorAll('#preview ol.fires li')) {
        if (li.scrollWidth > li.clientWidth + 1) bad.push(`li scrolls: ${li.textContent}`);
        for (const el of [li, ...li.children]) {
          const r = el.getBoundingClientRect();
          if (r.right > box.right + 0.5) bad.push(`${el.tagName} ends at ${r.right} > ${box.right}: ${el.textContent}`);
        }
      }
      return bad;
    });
    await shot(page, 'editor-preview-1280');
    assert(out.length === 0, out.slice(0, 3).join(' | '));
    await page.context().close();
  });

  await check('editor: retry delays and env are fields, saved in the job and shown again', async () => {
    const page = await openPage();
    await page.goto(`${d.url}/#/new`);
    await page.getByLabel('Id', { exact: true }).fill('retry-job');
    await page.getByLabel('Command line').fill('sh -c "exit 1"');
    await page.getByLabel('Environment').fill('A=1\nGREETING=hello world');
    await page.getByLabel('Max attempts').fill('4');
    await page.getByLabel('Backoff').selectOption('exponential');
    await page.getByLabel('Initial interval').fill('2s');
    await page.getByLabel('Max interval').fill('1m');
    await page.getByLabel('Multiplier').fill('2');
    await page.getByLabel('Randomization').fill('0.1');
    await page.getByLabel('Max elapsed').fill('10m');
    await shot(page, 'editor-retry-env');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { name: /retry-job/ }).waitFor({ timeout: T });
    const job = (await d.api('GetJob', { job_id: 'retry-job' })).body.job;
    const rp = job.metadata.scheduling.retry_policy;
    const wantRp = { max_attempts: 4, backoff: 'exponential', initial_interval: '2s', max_interval: '1m', multiplier: 2, randomization_factor: 0.1, max_elapsed: '10m' };
    for (const [k, v] of Object.entries(wantRp)) assert(rp[k] === v, `retry_policy.${k}: ${JSON.stringify(rp[k])}, want ${JSON.stringify(v)}`);
    assert(JSON.stringify(job.executor.env) === JSON.stringify({ A: '1', GREETING: 'hello world' }), `env ${JSON.stringify(job.executor.env)}`);
    await page.goto(`${d.url}/#/jobs/retry-job/edit`);
    await until('the loaded form', async () => (await page.getByLabel('Initial interval').inputValue()) === '2s');
    assert((await page.getByLabel('Randomization').inputValue()) === '0.1', 'randomization shown');
    assert((await page.getByLabel('Environment').inputValue()) === 'A=1\nGREETING=hello world', 'env shown');
    await page.getByLabel('Environment').fill('not an assignment');
    await page.locator('#env-error', { hasText: 'NAME=value' }).waitFor({ timeout: T });
    await page.context().close();
  });
} catch (e) {
  failedEarly = true;
  console.log(`FAIL: browser tests stopped: ${e.stack || e}`);
} finally {
  await finish(d, browser, failedEarly);
}
