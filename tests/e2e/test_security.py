#!/usr/bin/env python3
"""End to end: the attacks of the security review, each kept as a case against the
real `ovsched serve` binary (docs/security.md).  Prints one PASS:/FAIL: line per
check.  Usage: test_security.py [path/to/ovsched]

- A shell job prints its environment: nothing of the daemon's (no
  OVSCHED_ADMIN_TOKEN) beyond PATH, HOME, LANG, TZ and the OVSCHED_* run variables.
- run_as: a throwaway user (useradd, removed at the end) runs the job; it cannot
  open the database, sees the data folder empty, gets its groups and HOME; run_as
  is refused when written by a tenant admin, for an unknown user, and by a daemon
  that cannot switch users; a daemon holding only CAP_SETUID/CAP_SETGID (the
  packaged unit) runs jobs as another user that cannot read its data.
- The connection wedge: cap+100 connections held then closed, /healthz answers
  within 1 s, 20 times; at the default cap of 1,024 too; accept() failing with
  EMFILE; one client holding every slot does not lock out another.
- The bench hook is gone (404), a short OVSCHED_ADMIN_TOKEN is refused, the data
  folder's secret files are 0600 under umask 022, env keys must be POSIX names.
"""
import json
import os
import pwd
import grp
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import e2e_util
from e2e_util import check, wait_for

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
RPC = "/scheduler.v1.SchedulerService/"
TOKEN = "sec-test-admin-token-0123456789abcdef"  # 37 characters
FINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED", "INTERRUPTED"}


class Daemon:
    def __init__(self, data, env=None, args=(), token=TOKEN, preexec=None, wrap=()):
        self.data = data
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OVSCHED_")}
        self.env.pop("NOTIFY_SOCKET", None)
        if token:
            self.env["OVSCHED_ADMIN_TOKEN"] = token
        self.env.update(env or {})
        self.token = token
        self.errpath = data + ".stderr"
        self.err = open(self.errpath, "w")
        self.proc = subprocess.Popen(
            list(wrap) + [BIN, "serve", "--listen", "127.0.0.1:0", "--data", data] + list(args),
            stdout=subprocess.PIPE, stderr=self.err, env=self.env, text=True,
            preexec_fn=preexec)
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            self.stop()
            raise RuntimeError("daemon did not start: " + line + self.stderr())
        self.base = line.split("listening on ")[1].split()[0]
        self.port = int(self.base.rsplit(":", 1)[1])

    def stderr(self):
        with open(self.errpath) as f:
            return f.read()

    def request(self, path, body=None, token=None, method="POST"):
        token = self.token if token is None else token
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                text = resp.read()
                return resp.status, json.loads(text or b"{}")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, {"raw": text.decode(errors="replace")}

    def call(self, method, body=None, token=None):
        return self.request(RPC + method, body or {}, token)

    def run(self, job_id, timeout=15.0):
        """RunJob, then the run once it ended (or None)."""
        self.call("RunJob", {"job_id": job_id})

        def done():
            status, body = self.call("ListJobRuns", {"job_id": job_id, "page_size": 1})
            runs = body.get("runs", []) if status == 200 else []
            return runs[0] if runs and runs[0]["status"] in FINAL else None
        return wait_for(done, timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()
        return self.proc.returncode


def shell_job(job_id, script, **executor):
    ex = {"type": "shell", "command": script}
    ex.update(executor)
    return {"job": {"id": job_id, "executor": ex}}


def start_fails(data, env=None, args=(), token=TOKEN):
    """Run `serve` expecting it to refuse to start: (exit code, stderr)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("OVSCHED_")}
    if token is not None:
        e["OVSCHED_ADMIN_TOKEN"] = token
    e.update(env or {})
    try:
        p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--data", data] + list(args),
                           env=e, capture_output=True, text=True, timeout=20)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as exc:
        return None, str(exc)


# ---- throwaway users --------------------------------------------------------------

USERS = []
GROUPS = []


def make_user(name, groups=()):
    subprocess.run(["userdel", "-r", name], capture_output=True)
    cmd = ["useradd", "--create-home", "--shell", "/bin/sh", "--user-group"]
    if groups:
        cmd += ["-G", ",".join(groups)]
    subprocess.run(cmd + [name], check=True, capture_output=True)
    USERS.append(name)
    return pwd.getpwnam(name)


def make_group(name):
    subprocess.run(["groupdel", name], capture_output=True)
    subprocess.run(["groupadd", name], check=True, capture_output=True)
    GROUPS.append(name)
    return grp.getgrnam(name)


def remove_users():
    for name in USERS:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run(["userdel", "-r", name], capture_output=True)
    for name in GROUPS:
        subprocess.run(["groupdel", name], capture_output=True)


# ---- finding 3: what a shell job can reach ---------------------------------------

MINIMAL = {"PATH", "HOME", "LANG", "TZ", "OVSCHED_JOB_ID", "OVSCHED_RUN_ID", "OVSCHED_ATTEMPT"}
SHELL_OWN = {"PWD", "SHLVL", "_", "OLDPWD"}  # what /bin/sh itself sets


def env_of(output):
    env = {}
    for line in output.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def test_environment(tmp):
    d = Daemon(os.path.join(tmp, "env"), env={"DAEMON_SECRET": "hunter2", "LANG": "C.UTF-8",
                                              "OVSCHED_UI_DIR": "/nonexistent"})
    try:
        d.call("CreateJob", shell_job("printenv", "env",
                                      env={"MINE": "1", "OVSCHED_RUN_ID": "forged"}))
        run = d.run("printenv")
        env = env_of(run["output"]) if run else {}
        check("env: a shell job runs", run and run["status"] == "COMPLETED", run)
        check("env: OVSCHED_ADMIN_TOKEN is not in a job's environment",
              "OVSCHED_ADMIN_TOKEN" not in env and TOKEN not in (run or {}).get("output", ""), env)
        check("env: nothing of the daemon's environment beyond the minimal set",
              set(env) - MINIMAL - SHELL_OWN == {"MINE"}, sorted(env))
        check("env: the daemon's other variables stay out (DAEMON_SECRET, OVSCHED_UI_DIR)",
              "DAEMON_SECRET" not in env and "OVSCHED_UI_DIR" not in env, sorted(env))
        check("env: PATH and LANG come from the daemon", env.get("PATH") == os.environ.get(
            "PATH", env.get("PATH")) and env.get("LANG") == "C.UTF-8", env)
        check("env: the run variables name the job, run and attempt, and the job cannot "
              "forge them", env.get("OVSCHED_JOB_ID") == "printenv"
              and env.get("OVSCHED_RUN_ID") == str(run["id"]) and env.get("OVSCHED_ATTEMPT") == "1",
              env)
        # Without run_as the job is the daemon's user (root here): documented, not hidden.
        d.call("CreateJob", shell_job("peek", "test -r %s/ovsched.db && echo readable" % d.data))
        run = d.run("peek")
        check("without run_as a job runs as the daemon's user (it can read the database: "
              "docs/security.md says so)", run and "readable" in run["output"], run)
    finally:
        d.stop()


def test_run_as(tmp):
    group = make_group("ovst-extra")
    user = make_user("ovst-job", groups=[group.gr_name])
    data = os.path.join(tmp, "runas")
    d = Daemon(data, args=["--run-as-tenant", "7=ovst-job"])
    try:
        script = ("id -u; id -G; echo HOME=$HOME; "
                  "cat %s/ovsched.db >/dev/null 2>&1 && echo DB-OPENED || echo DB-REFUSED; "
                  "ls -A %s | wc -l" % (data, data))
        status, body = d.call("CreateJob", shell_job("as-user", script, run_as="ovst-job"))
        check("run_as: an admin bound to no tenant sets it", status == 200, body)
        run = d.run("as-user")
        lines = (run or {}).get("output", "").splitlines()
        check("run_as: the job runs with the user's uid", run and run["status"] == "COMPLETED"
              and lines and lines[0] == str(user.pw_uid), run)
        check("run_as: with its supplementary groups",
              len(lines) > 1 and str(group.gr_gid) in lines[1].split(), lines)
        check("run_as: HOME is the user's", "HOME=" + user.pw_dir in lines, lines)
        check("run_as: the job cannot open the database", "DB-REFUSED" in lines, lines)
        check("run_as: the data folder is hidden (empty) in the job's mount namespace",
              lines and lines[-1].strip() == "0", lines)
        # --run-as-tenant: a tenant's job with no run_as of its own.
        d.call("CreateJob", {"job": {"id": "tenant7", "campaign_id": 7, "executor": {
            "type": "shell", "command": "id -u"}}})
        run = d.run("tenant7")
        check("run_as: --run-as-tenant runs that tenant's jobs as its user",
              run and run["output"].strip() == str(user.pw_uid), run)
        # Who may set it.
        status, body = d.call("CreateToken", {"name": "t7-admin", "role": "admin",
                                              "campaign_id": 7})
        t7 = body.get("secret", "")
        status, body = d.call("CreateJob", shell_job("t7-job", "id", run_as="root"), token=t7)
        check("run_as: a tenant-bound admin cannot set it (403 naming the field)",
              status == 403 and "executor.run_as" in body.get("message", ""), (status, body))
        d.call("CreateJob", {"job": {"id": "t7-owned", "campaign_id": 7, "executor": {
            "type": "shell", "command": "id", "run_as": "ovst-job"}}})
        status, body = d.call("UpdateJob", {"job": {"id": "t7-owned", "campaign_id": 7,
                                                    "executor": {"type": "shell",
                                                                 "command": "cat /etc/shadow",
                                                                 "run_as": "ovst-job"}}}, token=t7)
        check("run_as: a tenant-bound admin cannot change a job an admin gave a user",
              status == 403, (status, body))
        status, body = d.call("CreateJob", shell_job("nobody-such", "id", run_as="ovst-nosuch"))
        check("run_as: an unknown user is refused at write time (400 naming the field)",
              status == 400 and "executor.run_as" in body.get("message", "")
              and "ovst-nosuch" in body.get("message", ""), (status, body))
        status, body = d.call("CreateJob", shell_job("bad-name", "id", run_as="-x"))
        check("run_as: a malformed name is refused", status == 400, (status, body))
    finally:
        d.stop()
    code, text = start_fails(os.path.join(tmp, "runas-bad"), args=["--run-as", "ovst-nosuch"])
    check("run_as: --run-as naming an unknown user refuses to start, naming the flag",
          code not in (0, None) and "--run-as" in text and "ovst-nosuch" in text, (code, text))


def drop_to(user):
    def preexec():
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    return preexec


def test_unprivileged_daemon(tmp):
    """The packaged unit's set-up: the daemon is an ordinary user; with CAP_SETUID and
    CAP_SETGID only, it runs jobs as another user, who cannot read its data."""
    owner = make_user("ovst-daemon")
    job_user = make_user("ovst-job2")
    base = os.path.join(tmp, "unpriv")
    os.mkdir(base)
    os.chown(base, owner.pw_uid, owner.pw_gid)
    os.chmod(tmp, 0o755)
    data = os.path.join(base, "data")
    # Without capabilities: run_as is refused when written, and --run-as at start.
    d = Daemon(data, preexec=drop_to(owner))
    try:
        status, body = d.call("CreateJob", shell_job("j", "id", run_as="ovst-job2"))
        check("unprivileged daemon: run_as is refused at write time, saying why",
              status == 400 and "executor.run_as" in body.get("message", "")
              and "cannot switch" in body.get("message", ""), (status, body))
        d.call("CreateJob", shell_job("self", "id -u; cat %s/ovsched.db >/dev/null && echo "
                                      "DB-OPENED" % data))
        run = d.run("self")
        check("unprivileged daemon: without run_as its job is its own user (and reads its data)",
              run and str(owner.pw_uid) in run["output"] and "DB-OPENED" in run["output"], run)
    finally:
        d.stop()
    wrap = ["setpriv", "--reuid=%d" % owner.pw_uid, "--regid=%d" % owner.pw_gid, "--clear-groups",
            "--inh-caps=-all,+setuid,+setgid", "--ambient-caps=-all,+setuid,+setgid",
            "--bounding-set=-all,+setuid,+setgid"]
    d = Daemon(data, wrap=wrap, args=["--run-as", "ovst-job2"])
    try:
        script = ("id -u; grep ^Cap /proc/self/status; "
                  "cat %s/ovsched.db >/dev/null 2>&1 && echo DB-OPENED || echo DB-REFUSED" % data)
        d.call("CreateJob", shell_job("capjob", script))
        run = d.run("capjob")
        out = (run or {}).get("output", "")
        check("packaged set-up: a daemon with CAP_SETUID/CAP_SETGID runs jobs as --run-as",
              run and run["status"] == "COMPLETED" and out.splitlines()[0] == str(job_user.pw_uid),
              run)
        check("packaged set-up: the job cannot open the database", "DB-REFUSED" in out, out)
        caps = {line.split(":")[0]: int(line.split(":")[1], 16) for line in out.splitlines()
                if line.startswith("Cap")}
        check("packaged set-up: the job holds no capability (none effective, permitted or "
              "ambient)", caps.get("CapEff") == 0 and caps.get("CapPrm") == 0
              and caps.get("CapAmb") == 0, caps)
    finally:
        d.stop()


# ---- finding 4: the connection wedge ---------------------------------------------

def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def open_idle(port, n, source="127.0.0.1"):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.bind((source, 0))
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks


def healthz_within(port, seconds, source="127.0.0.1"):
    """Whether GET /healthz on a new connection answers 200 within SECONDS."""
    deadline = time.monotonic() + seconds
    s = socket.socket()
    try:
        s.bind((source, 0))
        s.settimeout(seconds)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data and time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


def close_all(socks):
    for s in socks:
        s.close()


def wedge_cycles(d, cap, cycles, sources=("127.0.0.1",)):
    answered = 0
    for i in range(cycles):
        socks = []
        per = (cap + 100) // len(sources) + 1
        for src in sources:
            socks += open_idle(d.port, per, src)
        close_all(socks)
        if healthz_within(d.port, 1.0):
            answered += 1
        else:
            return answered, i
    return answered, cycles


def test_wedge(tmp):
    hard = raise_nofile()
    d = Daemon(os.path.join(tmp, "wedge"), args=["--max-connections", "64"])
    try:
        n, _ = wedge_cycles(d, 64, 20)
        check("wedge: cap+100 idle connections from one client, closed: /healthz answers within "
              "1 s, 20 times in a row (cap 64)", n == 20, "%d of 20" % n)
        # Many clients, none beyond its share (8): the cap refuses rather than evicts.
        srcs = ["127.0.0.%d" % i for i in range(2, 22)]
        n, _ = wedge_cycles(d, 64, 20, srcs)
        check("wedge: the same from 20 clients within their share (refused at the cap), 20 times",
              n == 20, "%d of 20" % n)
    finally:
        d.stop()
    if hard >= 1124 + 200:
        d = Daemon(os.path.join(tmp, "wedge-default"))
        try:
            n, _ = wedge_cycles(d, 1024, 3, ["127.0.0.1", "127.0.0.2"])
            check("wedge: at the default cap of 1,024, 1,124 connections held and closed: "
                  "/healthz within 1 s, 3 times", n == 3, "%d of 3" % n)
        finally:
            d.stop()
    else:
        check("wedge: the fd limit allows the default-cap case", False, hard)

    # accept() failing with EMFILE: MHD pulls its listening socket the same way.
    def low_fd_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))
    d = Daemon(os.path.join(tmp, "wedge-emfile"), preexec=low_fd_limit)
    try:
        ok = 0
        for _ in range(5):
            socks = open_idle(d.port, 300)
            close_all(socks)
            ok += healthz_within(d.port, 1.0)
        check("wedge: out of descriptors (EMFILE) and back: /healthz within 1 s, 5 times",
              ok == 5, "%d of 5" % ok)
    finally:
        d.stop()


def test_fair_share(tmp):
    raise_nofile()
    d = Daemon(os.path.join(tmp, "share"), args=["--max-connections", "64"])
    try:
        modest = open_idle(d.port, 7, "127.0.0.3")  # within its share of 64 / 8 = 8
        greedy = open_idle(d.port, 200, "127.0.0.2")
        answered = sum(healthz_within(d.port, 1.0) for _ in range(10))
        check("share: one client holding every slot with idle connections does not lock out "
              "another (/healthz within 1 s, 10 of 10)", answered == 10, answered)
        alive = 0
        for s in modest:
            try:
                s.settimeout(2)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                alive += s.recv(64).startswith(b"HTTP/1.1 200")
            except OSError:
                pass
        check("share: a client within its share keeps its idle connections", alive == 7, alive)
        close_all(modest + greedy)
    finally:
        d.stop()
    # No client beyond its share: the cap refuses the newcomer at once, never hangs it.
    d = Daemon(os.path.join(tmp, "share-full"), args=["--max-connections", "16"])
    try:
        held = []
        for i in range(8):
            held += open_idle(d.port, 2, "127.0.0.%d" % (10 + i))
        time.sleep(0.3)
        s = socket.socket()
        s.bind(("127.0.0.30", 0))
        s.settimeout(3)
        s.connect(("127.0.0.1", d.port))
        started = time.monotonic()
        try:
            refused = s.recv(16) == b""
        except ConnectionResetError:
            refused = True
        except OSError:
            refused = False
        s.close()
        check("share: at the cap with every client within its share, a new connection is "
              "closed at once", refused and time.monotonic() - started < 2, refused)
        held.pop().close()
        check("share: a freed slot is used again within 1 s", wait_for(
            lambda: healthz_within(d.port, 1.0, "127.0.0.30"), timeout=3), "")
        close_all(held)
    finally:
        d.stop()


# ---- finding 5: the bench hook ----------------------------------------------------

def test_bench_hook_gone(tmp):
    d = Daemon(os.path.join(tmp, "bench"), env={"OVSCHED_EVENTS_BENCH": "1"})
    try:
        status, body = d.request("/v1/events/_bench", {"count": 10, "jobs": 1}, token="")
        check("bench hook: POST /v1/events/_bench without a token is 404 or 401, never 200",
              status in (401, 404), (status, body))
        status, body = d.request("/v1/events/_bench", {"count": 10, "jobs": 1})
        check("bench hook: with the admin token it does not exist either (404)", status == 404,
              (status, body))
    finally:
        d.stop()


# ---- finding 6: tokens, file modes, env keys -------------------------------------

def test_short_token(tmp):
    for token in ("a", "x" * 31):
        code, text = start_fails(os.path.join(tmp, "short%d" % len(token)), token=token)
        check("token: OVSCHED_ADMIN_TOKEN of %d characters refuses to start, naming the "
              "variable" % len(token), code not in (0, None) and "OVSCHED_ADMIN_TOKEN" in text
              and "32" in text and (len(token) < 8 or token not in text),
              (code, text))
    d = Daemon(os.path.join(tmp, "long"), token="y" * 32)
    try:
        status, body = d.call("WhoAmI", {})
        check("token: 32 characters are accepted", status == 200, (status, body))
    finally:
        d.stop()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_file_modes(tmp):
    data = os.path.join(tmp, "modes")
    os.mkdir(data, 0o755)  # an existing folder, as an operator may have made it
    old = os.umask(0o022)
    try:
        d = Daemon(data, token=None)
        try:
            d.token = open(os.path.join(data, "admin-token")).read().strip()
            d.call("CreateJob", shell_job("sleeper", "sleep 30"))
            d.call("RunJob", {"job_id": "sleeper"})
            wait_for(lambda: os.path.exists(os.path.join(data, "process-groups")), timeout=10)
            files = ["ovsched.db", "ovsched.db-wal", "ovsched.db-shm", "admin-token",
                     "process-groups"]
            modes = {f: oct(mode(os.path.join(data, f))) if os.path.exists(
                os.path.join(data, f)) else None for f in files}
            check("modes: under umask 022 in an existing folder, the database, its WAL and shm, "
                  "admin-token and process-groups are 0600", all(
                      m == "0o600" for m in modes.values()), modes)
        finally:
            d.stop()
        for f in ("ovsched.db", "ovsched.db-wal", "ovsched.db-shm"):
            if os.path.exists(os.path.join(data, f)):
                os.chmod(os.path.join(data, f), 0o644)
        d = Daemon(data, token=None)
        d.stop()
        check("modes: a database left 0644 by an older version is made 0600 at start",
              mode(os.path.join(data, "ovsched.db")) == 0o600,
              oct(mode(os.path.join(data, "ovsched.db"))))
    finally:
        os.umask(old)


def test_env_keys(tmp):
    d = Daemon(os.path.join(tmp, "keys"))
    try:
        for key in ("", "A=B", "A\x01", "1A", "A B"):
            status, body = d.call("CreateJob", shell_job("k", "true", env={key: "v"}))
            message = body.get("message", "")
            check("env keys: %r is refused at write time, naming the field" % key,
                  status == 400 and message.startswith("executor.env: key ")
                  and "is not a valid name" in message, (status, body))
        status, body = d.call("CreateJob", shell_job("k", "echo $_Ok9", env={"_Ok9": "fine"}))
        check("env keys: a POSIX name is accepted", status == 200, (status, body))
    finally:
        d.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="ovsched-security-")
    os.chmod(tmp, 0o755)
    try:
        for test in (test_short_token, test_env_keys, test_bench_hook_gone, test_file_modes,
                     test_environment, test_run_as, test_unprivileged_daemon, test_fair_share,
                     test_wedge):
            try:
                test(tmp)
            except Exception as e:  # a crashed case is a failure, never a skip
                import traceback
                check(test.__name__ + " ran to its end", False, traceback.format_exc())
    finally:
        remove_users()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % e2e_util.failures)
    sys.exit(1 if e2e_util.failures else 0)


if __name__ == "__main__":
    main()
