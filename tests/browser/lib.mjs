// Helpers for the browser tests: start the real daemon on an ephemeral port
// with a temporary data folder and an admin token, drive Debian's chromium
// through playwright-core, print PASS:/FAIL: lines for tests/run-all.sh.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '..', '..');
const require = createRequire(join(root, 'ui', 'package.json'));
export const { chromium } = require('playwright-core');
export const artifacts = join(root, 'build', 'test-artifacts');
mkdirSync(artifacts, { recursive: true });

export async function startDaemon(bin, extraEnv = {}) {
  const data = mkdtempSync(join(tmpdir(), 'ovsched-ui-'));
  const token = randomBytes(24).toString('base64url');
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', data], {
    env: { ...process.env, OVSCHED_ADMIN_TOKEN: token, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d) => (log += d));
  const url = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`daemon did not start: ${out}${log}`)), 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(out);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    proc.on('exit', (c) => { clearTimeout(timer); fail(new Error(`daemon exited ${c}: ${log}`)); });
  });
  const api = async (method, body = {}, tok = token) => {
    const r = await fetch(`${url}/scheduler.v1.SchedulerService/${method}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...(tok ? { Authorization: `Bearer ${tok}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  // Stop the daemon; its exit status (a sanitizer report makes it non-zero).
  const stop = async () => {
    let code = proc.exitCode;
    if (code === null) {
      proc.kill('SIGTERM');
      code = await new Promise((ok) => {
        const t = setTimeout(() => { proc.kill('SIGKILL'); ok('killed: no exit 10 s after SIGTERM'); }, 10000);
        proc.on('exit', (c, sig) => { clearTimeout(t); ok(c ?? sig); });
      });
    }
    rmSync(data, { recursive: true, force: true });
    return code;
  };
  return { url, token, api, stop, log: () => log };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
}

let passed = 0, failed = 0;
export async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`PASS: ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL: ${name}: ${String(e && e.stack || e).split('\n').slice(0, 4).join(' | ')}`);
  }
}
export function summary() {
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}
export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// The end of a test file: close the browser, stop the daemon and check it
// exited cleanly (a sanitizer report makes its status non-zero), print the
// summary and exit 1 if anything failed.
export async function finish(d, browser, failedEarly) {
  await browser.close().catch(() => {});
  const code = await d.stop();
  await check('the daemon stops cleanly after the session (exit 0, no sanitizer report)', async () => {
    assert(code === 0, `exit ${code}: ${d.log().split('\n').filter((l) => /ERROR|Sanitizer|leak/i.test(l)).slice(0, 5).join(' | ')}`);
  });
  process.exit(summary() || failedEarly ? 1 : 0);
}
