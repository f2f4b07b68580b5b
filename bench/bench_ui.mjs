#!/usr/bin/env node
// The web UI with 10,000 jobs (make bench): how long the list takes to load and
// draw, to scroll, to search; how many rows exist in the DOM; the page's heap.
//   node bench/bench_ui.mjs build/ovsched [jobs]
import { launch, startDaemon } from '../tests/browser/lib.mjs';

const bin = process.argv[2] || 'build/ovsched';
const count = Number(process.argv[3] || 10000);
const d = await startDaemon(bin);
const browser = await launch();
try {
  let t = Date.now();
  for (let i = 0; i < count; i += 32) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 32); j++)
      batch.push(d.api('CreateJob', { job: { id: `job-${String(j).padStart(5, '0')}`, name: `Job ${j}`, labels: { team: `t${j % 20}` }, executor: { type: 'noop' }, metadata: { scheduling: { cron: `${j % 60} ${j % 24} * * *`, timezone: 'Europe/Berlin' } } } }));
    const res = await Promise.all(batch);
    if (res.some((r) => r.status !== 200)) throw new Error(`create failed: ${JSON.stringify(res.find((r) => r.status !== 200))}`);
  }
  console.log(`bench_ui: created ${count} jobs through the API in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  t = Date.now();
  await page.goto(`${d.url}/#token=${d.token}`);
  await page.getByRole('status').filter({ hasText: `${count} of ${count} jobs` }).waitFor({ timeout: 120000 });
  console.log(`bench_ui: sign-in to ${count} jobs listed: ${Date.now() - t} ms`);

  const scroll = await page.evaluate(async () => {
    const el = document.querySelector('.vlist');
    const frame = () => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
    const times = [];
    for (let i = 0; i < 60; i++) {
      const s = performance.now();
      el.scrollTop = (i * 5237) % el.scrollHeight;
      await frame();
      times.push(performance.now() - s);
    }
    const idle = [];
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      await frame();
      idle.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    idle.sort((a, b) => a - b);
    return { median: times[30], max: times[59], idle: idle[10], rows: document.querySelectorAll('.vlist-rows .jrow').length };
  });
  console.log(`bench_ui: scroll jump + two frames: median ${scroll.median.toFixed(1)} ms, max ${scroll.max.toFixed(1)} ms (two idle frames: ${scroll.idle.toFixed(1)} ms); ${scroll.rows} rows in the DOM`);

  t = Date.now();
  await page.getByLabel('Search jobs').fill('job-0999');
  await page.getByRole('status').filter({ hasText: `10 of ${count}` }).waitFor({ timeout: 30000 });
  console.log(`bench_ui: search over ${count} jobs to 10 hits: ${Date.now() - t} ms (including Playwright's round trips)`);

  const heap = await page.evaluate(() => performance.memory ? performance.memory.usedJSHeapSize : 0);
  if (heap) console.log(`bench_ui: page JS heap ${(heap / 1048576).toFixed(1)} MiB`);
} finally {
  await browser.close();
  await d.stop();
}
