#!/usr/bin/env python3
"""End to end: the real `ovsched serve` binary on an ephemeral port with a
temporary data folder, driven over HTTP as a client would.  Prints one
PASS:/FAIL: line per check.  Usage: test_daemon.py [path/to/ovsched]

Covers: CRUD and optimistic concurrency, a `* * * * * *` job running every
second, UpdateJob moving next_run_time at once, shell output and exit codes,
a timed-out job's whole process tree gone, an HTTP job against a local server,
retry attempts, bad input, the admin token, kill -9 mid-run and restart.
"""
import calendar
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgserver  # noqa: E402  OVSCHED_TEST_STORE=postgres: each data folder gets a database

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
RPC = "/scheduler.v1.SchedulerService/"
# Auth is mandatory (docs/security.md): every daemon here gets an admin token.
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef0123"
DEFAULT = object()  # call(): send the daemon's admin token
failures = 0


def check(name, ok, detail=""):
    global failures
    if ok:
        print("PASS: " + name)
    else:
        failures += 1
        print("FAIL: " + name + ("\n  " + str(detail)[:2000] if detail else ""))
    sys.stdout.flush()


class Daemon:
    def __init__(self, data, env=None, args=()):
        self.data = data
        self.args = list(args)
        self.env = dict(os.environ, OVSCHED_ADMIN_TOKEN=ADMIN_TOKEN)
        self.env.update(env or {})
        self.token = self.env["OVSCHED_ADMIN_TOKEN"]
        self.start()

    def start(self):
        self.log = open(os.path.join(self.data + ".log"), "a")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--data", self.data]
            + pgserver.store_args(self.data) + self.args,
            stdout=subprocess.PIPE, stderr=self.log, env=self.env, text=True)
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            raise RuntimeError("daemon did not start: " + line)
        self.base = line.split("listening on ")[1].split()[0]
        self.banner = line

    def call(self, method, body=None, token=DEFAULT, raw=None, timeout=10):
        token = self.token if token is DEFAULT else token
        data = raw if raw is not None else json.dumps(body or {}).encode()
        req = urllib.request.Request(self.base + RPC + method, data=data, method="POST")
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, {"raw": text.decode(errors="replace")}

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def runs_of(d, job_id, page_size=100):
    status, body = d.call("ListJobRuns", {"job_id": job_id, "page_size": page_size})
    return body.get("runs", []) if status == 200 else []


FINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED", "INTERRUPTED"}


def final_run(d, job_id, timeout=10.0):
    def done():
        runs = runs_of(d, job_id)
        return runs[0] if runs and runs[0]["status"] in FINAL else None
    return wait_for(done, timeout)


def pids_with(marker):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_crud(d):
    seed_a = {"job": {"name": "Weekly Report", "metadata": {"scheduling": {
        "cron": "0 9 * * 1", "timezone": "America/New_York",
        "dependencies": ["job_id_data_refresh"],
        "retry_policy": {"max_attempts": 5, "backoff": "exponential"}}}}}
    # Dependencies must name existing jobs (SPEC section 5): create it first.
    d.call("CreateJob", {"job": {"id": "job_id_data_refresh", "executor": {"type": "noop"}}})
    status, body = d.call("CreateJob", seed_a)
    job = body.get("job", {})
    check("CreateJob accepts the seed's example A verbatim", status == 200 and job.get("id"), body)
    check("a created job has version 1 and a next_run_time at 09:00 New York",
          job.get("version") == 1 and job.get("next_run_time", "")[11:13] in ("13", "14"), job)
    jid = job.get("id")
    status, body = d.call("GetJob", {"job_id": jid})
    check("GetJob returns the document, unknown keys kept",
          status == 200 and body["job"]["metadata"]["scheduling"]["dependencies"]
          == ["job_id_data_refresh"], body)
    d.call("CreateJob", {"job": {"id": "labelled", "campaign_id": 9, "labels": {"team": "data"}}})
    status, body = d.call("ListJobs", {"labels": {"team": "data"}})
    check("ListJobs filters by labels", status == 200 and body["total_count"] == 1
          and body["jobs"][0]["id"] == "labelled", body)
    status, body = d.call("ListJobs", {"campaign_id": 9, "page_size": 1})
    check("ListJobs filters by campaign and pages", status == 200 and body["total_pages"] == 1
          and len(body["jobs"]) == 1, body)
    job["name"] = "Weekly Report v2"
    status, body = d.call("UpdateJob", {"job": job})
    check("UpdateJob with the current version bumps it", status == 200
          and body["job"]["version"] == 2 and body["job"]["name"] == "Weekly Report v2", body)
    job["name"] = "stale edit"
    status, body = d.call("UpdateJob", {"job": job})  # still carries version 1
    check("UpdateJob with a stale version is refused (409 aborted)",
          status == 409 and body.get("code") == "aborted", body)
    status, body = d.call("GetJob", {"job_id": jid})
    check("a refused update changes nothing", body["job"]["name"] == "Weekly Report v2", body)
    status, body = d.call("CreateJob", {"job": {"id": "labelled"}})
    check("CreateJob with a taken id is refused (409)", status == 409, body)
    status, body = d.call("DeleteJob", {"job_id": jid})
    check("DeleteJob answers success", status == 200 and body.get("success") is True, body)
    status, body = d.call("GetJob", {"job_id": jid})
    check("a deleted job is gone (404)", status == 404 and body.get("code") == "not_found", body)
    d.call("DeleteJob", {"job_id": "job_id_data_refresh"})


def post_huge_body(d, size):
    """POST SIZE bytes as a raw client would; the answer may come (and the
    connection close) before the body is sent, as HTTP allows."""
    host, port = d.base.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(("POST %sCreateJob HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                   % (RPC, size)).encode())
        try:
            s.sendall(b"x" * size)
        except OSError:
            pass  # the daemon answered and hung up first
        reply = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except OSError:
            pass
        return reply


def test_bad_input(d):
    status, body = d.call("CreateJob", {"job": {"metadata": {"scheduling": {"cron": "0 0 32 * *"}}}})
    check("a bad cron names the field and the reason", status == 400 and body.get("message", "")
          .startswith("metadata.scheduling.cron: field 3 (day of month): 32 is out of range 1-31"),
          body)
    status, body = d.call("CreateJob", raw=b'{"job": {')
    check("malformed JSON gets 400", status == 400 and body.get("code") == "invalid_argument", body)
    reply = post_huge_body(d, 2 * 1024 * 1024)
    check("a huge body gets 413, before the daemon reads it", reply.startswith(b"HTTP/1.1 413")
          and b"request body is larger than" in reply, reply[:200])
    status, body = d.call("FlyToTheMoon", {})
    check("an unknown method gets 404", status == 404, body)
    status, body = d.call("GetJob", {"job_id": "no-such-job"})
    check("an unknown job id gets 404", status == 404, body)
    status, body = d.call("GetJob", {"job_id": "\u00e9" * 500})
    check("an error quoting odd client text is still JSON", status == 404
          and body.get("code") == "not_found", body)
    status, body = d.call("ListJobs", {"page": 4611686018427387904, "page_size": 4})
    check("an absurd page number gets 400", status == 400, body)
    status, body = d.call("UpdateJob", {"job": {"id": "labelled", "version": "99"}})
    check("a version that is not an integer gets 400", status == 400, body)
    status, body = d.call("ListJobs", {})
    check("bad input never changed state", status == 200 and all(
        j["id"] != "" for j in body["jobs"]) and body["total_count"] == 1, body)


def test_every_second(d):
    d.call("CreateJob", {"job": {"id": "tick", "metadata": {"scheduling": {"cron": "* * * * * *"}}}})
    time.sleep(3.5)
    d.call("PauseJob", {"job_id": "tick"})
    runs = runs_of(d, "tick")
    slots = sorted(r["scheduled_at"] for r in runs)
    check("a * * * * * * job runs every second", len(runs) >= 3 and all(
        r["status"] == "COMPLETED" for r in runs) and len(set(slots)) == len(slots), runs)
    status, body = d.call("GetJobStatus", {"job_id": "tick"})
    check("a paused job reports why it does not run", status == 200 and body["status"] == "PAUSED"
          and body["reason"] and body["next_run_time"] is None, body)


def test_update_moves_next_run(d):
    d.call("CreateJob", {"job": {"id": "yearly", "metadata": {"scheduling": {"cron": "0 0 1 1 *"}}}})
    status, body = d.call("GetJob", {"job_id": "yearly"})
    far = body["job"]["next_run_time"]
    job = body["job"]
    job["metadata"]["scheduling"]["cron"] = "*/5 * * * * *"
    status, body = d.call("UpdateJob", {"job": job})
    near = body.get("job", {}).get("next_run_time", "")
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 6))
    check("UpdateJob moves next_run_time at once", status == 200 and far.endswith("-01-01T00:00:00Z")
          and near <= now, (far, near))
    d.call("DeleteJob", {"job_id": "yearly"})


def test_shell_output(d):
    d.call("CreateJob", {"job": {"id": "talker", "executor": {"type": "shell", "command": [
        "sh", "-c", "echo hello from the job; echo oops >&2; exit 3"]}}})
    status, body = d.call("RunJob", {"job_id": "talker"})
    check("RunJob answers the run", status == 200 and body["run"]["job_id"] == "talker", body)
    run = final_run(d, "talker")
    check("shell output and exit code are recorded", run and run["status"] == "FAILED"
          and run["exit_code"] == 3 and "hello from the job" in run["output"]
          and "oops" in run["output"], run)
    d.call("CreateJob", {"job": {"id": "noglob", "executor": {"type": "shell",
                                                              "command": ["echo", "*"]}}})
    d.call("RunJob", {"job_id": "noglob"})
    run = final_run(d, "noglob")
    check("argv runs without a shell (no globbing)", run and run["output"] == "*\n", run)


def test_timeout_kills_tree(d):
    d.call("CreateJob", {"job": {"id": "sleepy", "executor": {
        "type": "shell", "timeout": "1s",
        "command": ["sh", "-c", "sleep 3011 & sleep 3012 & wait"]}}})
    d.call("RunJob", {"job_id": "sleepy"})
    wait_for(lambda: pids_with("sleep 3011"), 5)
    run = final_run(d, "sleepy", 15)
    check("a job past its timeout ends TIMED_OUT", run and run["status"] == "TIMED_OUT", run)
    gone = wait_for(lambda: not pids_with("sleep 3011") and not pids_with("sleep 3012"), 5)
    check("a timed-out job's whole process tree is gone", gone,
          pids_with("sleep 3011") + pids_with("sleep 3012"))


class Hook(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hook.received.append((self.path, self.headers.get("X-Token"), body))
        self.send_response(201)
        self.end_headers()
        self.wfile.write(b"created")

    def log_message(self, *args):
        pass


def test_http_job(d):
    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/hook" % server.server_address[1]
    d.call("CreateJob", {"job": {"id": "caller", "executor": {
        "type": "http", "method": "POST", "url": url, "headers": {"X-Token": "t1"},
        "body": "{\"ping\": 1}", "accepted_statuses": [201]}}})
    d.call("RunJob", {"job_id": "caller"})
    run = final_run(d, "caller")
    server.shutdown()
    check("an HTTP job calls a local server and records the answer", run
          and run["status"] == "COMPLETED" and run["output"] == "created"
          and Hook.received and Hook.received[0] == ("/hook", "t1", b"{\"ping\": 1}"),
          (run, Hook.received))


def test_retries(d):
    d.call("CreateJob", {"job": {"id": "flaky", "executor": {"type": "shell", "command": ["false"]},
                                 "metadata": {"scheduling": {"retry_policy": {
                                     "max_attempts": 3, "backoff": "constant",
                                     "initial_interval": "200ms"}}}}})
    d.call("RunJob", {"job_id": "flaky"})
    run = final_run(d, "flaky")
    check("a failing job is retried per retry_policy and the attempts recorded",
          run and run["status"] == "FAILED" and run["attempt"] == 3, run)


def test_auth(tmp):
    d = Daemon(os.path.join(tmp, "auth"), {"OVSCHED_ADMIN_TOKEN": "s3cret-0123456789abcdef0123456789"})
    try:
        status, body = d.call("ListJobs", {}, token=None)
        check("without the admin token: 401", status == 401
              and body.get("code") == "unauthenticated", body)
        status, body = d.call("ListJobs", {}, token="wrong")
        check("a wrong token: 401", status == 401, body)
        status, body = d.call("ListJobs", {}, token="s3cret-0123456789abcdef0123456789")
        check("OVSCHED_ADMIN_TOKEN is accepted as a bearer token", status == 200, body)
    finally:
        d.stop()


def test_kill_and_restart(tmp):
    data = os.path.join(tmp, "crash")
    d = Daemon(data)
    try:
        d.call("CreateJob", {"job": {"id": "tick", "metadata": {"scheduling": {"cron": "* * * * * *"}}}})
        d.call("CreateJob", {"job": {"id": "long", "executor": {
            "type": "shell", "command": ["sh", "-c", "sleep 3013"]}}})
        d.call("CreateJob", {"job": {"id": "again", "executor": {
            "type": "shell", "command": ["sh", "-c", "sleep 3016"]},
            "metadata": {"scheduling": {"retry_policy": {"max_attempts": 2}}}}})
        d.call("RunJob", {"job_id": "long"})
        d.call("RunJob", {"job_id": "again"})
        wait_for(lambda: pids_with("sleep 3013") and pids_with("sleep 3016"), 5)
        time.sleep(2.2)
    finally:
        d.stop(signal.SIGKILL)
    check("kill -9 of the daemon leaves its job's process running (own session)",
          pids_with("sleep 3013"), "no orphan to clean up: the check below proves nothing")
    time.sleep(1.5)  # slots pass while the daemon is down
    d = Daemon(data)
    try:
        gone = wait_for(lambda: not pids_with("sleep 3013"), 5)
        check("a restart kills the process groups the dead daemon left", gone,
              pids_with("sleep 3013"))
        again = wait_for(lambda: [r for r in runs_of(d, "again") if r["trigger"] == "recovery"], 5)
        check("an interrupted run is retried when its retry_policy allows", again, runs_of(d, "again"))
        for pid in pids_with("sleep 3016"):
            os.kill(pid, signal.SIGKILL)
        status, body = d.call("GetJob", {"job_id": "tick"})
        check("after kill -9 and restart the job definitions are intact", status == 200
              and body["job"]["metadata"]["scheduling"]["cron"] == "* * * * * *", body)
        long_runs = runs_of(d, "long")
        check("the run in flight at the kill is accounted INTERRUPTED",
              long_runs and long_runs[0]["status"] == "INTERRUPTED", long_runs)
        time.sleep(2.5)
        runs = runs_of(d, "tick", 1000)
        slots = [r["scheduled_at"] for r in runs]
        check("history survives and no slot ran twice", len(runs) >= 3
              and len(slots) == len(set(slots)), slots)
    finally:
        d.stop()


def test_crash_before_slot(tmp):
    """A run written ahead of its slot, a kill -9 before the slot, a restart
    after it: the slot was never started, so it meets the misfire policy
    (run_once runs it) instead of being lost as interrupted."""
    data = os.path.join(tmp, "ahead")
    d = Daemon(data)
    try:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 4))
        d.call("CreateJob", {"job": {"id": "soon", "metadata": {"scheduling": {"at": at}}}})
        ahead = wait_for(lambda: [r for r in runs_of(d, "soon") if r["status"] == "PENDING"], 3)
        check("a run is written ahead of its slot (PENDING)", ahead, runs_of(d, "soon"))
    finally:
        d.stop(signal.SIGKILL)
    time.sleep(max(0, calendar.timegm(time.strptime(at, "%Y-%m-%dT%H:%M:%SZ")) - time.time()) + 1)
    d = Daemon(data)
    try:
        done = final_run(d, "soon")
        runs = runs_of(d, "soon")
        check("a slot missed while down after its run was written ahead still runs once",
              done and done["status"] == "COMPLETED" and len(runs) == 1, runs)
    finally:
        d.stop()


def test_queue_survives_stop(tmp):
    """Runs queued behind the global cap when SIGTERM comes are not started
    during the grace period; the next start runs them."""
    data = os.path.join(tmp, "queued")
    d = Daemon(data, args=["--max-in-flight", "1"])
    try:
        d.call("CreateJob", {"job": {"id": "q", "executor": {
            "type": "shell", "command": ["sh", "-c", "sleep 1"]}}})
        for _ in range(3):
            d.call("RunJob", {"job_id": "q"})
        queued = [r for r in runs_of(d, "q") if r["status"] == "PENDING"]
        check("two runs wait behind the cap of one", len(queued) == 2, runs_of(d, "q"))
    finally:
        code = d.stop()
    check("SIGTERM waits for the running attempt only (exit 0)", code == 0, code)
    d = Daemon(data)
    try:
        done = wait_for(lambda: [r for r in runs_of(d, "q") if r["status"] == "COMPLETED"]
                        if len([r for r in runs_of(d, "q") if r["status"] == "COMPLETED"]) >= 3
                        else None, 10)
        check("after the restart the queued runs run: three completed in all", done,
              runs_of(d, "q"))
    finally:
        d.stop()


def test_second_signal(tmp):
    data = os.path.join(tmp, "signals")
    d = Daemon(data)
    try:
        d.call("CreateJob", {"job": {"id": "slow", "executor": {
            "type": "shell", "command": ["sh", "-c", "sleep 3021"]}}})
        d.call("RunJob", {"job_id": "slow"})
        wait_for(lambda: pids_with("sleep 3021"), 5)
        d.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        check("after one SIGTERM a running attempt gets its grace period",
              d.proc.poll() is None and pids_with("sleep 3021"), d.proc.poll())
        start = time.time()
        d.proc.send_signal(signal.SIGTERM)
        try:
            code = d.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        check("a second SIGTERM stops what runs at once and exits 0",
              code == 0 and time.time() - start < 4, code)
        check("nothing the job started survives", wait_for(lambda: not pids_with("sleep 3021"), 3),
              pids_with("sleep 3021"))
    finally:
        d.stop(signal.SIGKILL)
    d = Daemon(data)
    try:
        runs = runs_of(d, "slow")
        check("the attempt stopped by the second signal is recorded INTERRUPTED",
              runs and runs[0]["status"] == "INTERRUPTED", runs)
    finally:
        d.stop()


def test_postgres_guards(tmp, d, store, second_stderr):
    """With --store postgres://: one daemon per database, and its password in
    no log line nor on stdout."""
    other = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--data",
                            os.path.join(tmp, "other")] + store, capture_output=True,
                           text=True, timeout=30)
    check("a second daemon on the same database (another data folder) is refused",
          other.returncode == 1 and "already using this database" in other.stderr,
          other.stderr)
    password = urllib.parse.urlsplit(store[1]).password
    with open(d.data + ".log") as f:
        log = f.read()
    check("the store is named on stdout with its password masked",
          ":***@127.0.0.1" in d.banner and password not in d.banner, d.banner)
    check("the database password is in no log line",
          bool(password) and password not in log + other.stderr + second_stderr
          and "postgres://postgres:***@" in log, log[-2000:])


def main():
    if not os.path.exists(BIN):
        check("binary exists", False, BIN)
        return 1
    tmp = tempfile.mkdtemp(prefix="ovsched-e2e-")
    d = Daemon(os.path.join(tmp, "main"))
    try:
        for test in (test_crud, test_bad_input, test_every_second, test_update_moves_next_run,
                     test_shell_output, test_timeout_kills_tree, test_http_job, test_retries):
            try:
                test(d)
            except Exception as e:  # a crash of the test is a failure, not an abort
                check(test.__name__ + " ran", False, repr(e))
        status, body = d.call("ListJobs", {})
        check("the daemon is still serving", status == 200, body)
        try:
            store = pgserver.store_args(os.path.join(tmp, "main"))
            second = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--data",
                                     os.path.join(tmp, "main")] + store, capture_output=True,
                                    text=True, timeout=10)
            check("a second daemon on the same data folder is refused",
                  second.returncode == 1 and "already using" in second.stderr, second.stderr)
            if store:
                test_postgres_guards(tmp, d, store, second.stderr)
        except subprocess.TimeoutExpired:
            check("a second daemon on the same data folder is refused", False, "it kept running")
    finally:
        code = d.stop()
        check("SIGTERM stops the daemon cleanly (exit 0)", code == 0, code)
    for test in (test_auth, test_kill_and_restart, test_second_signal, test_crash_before_slot,
                 test_queue_survives_stop):
        try:
            test(tmp)
        except Exception as e:
            check(test.__name__ + " ran", False, repr(e))
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
