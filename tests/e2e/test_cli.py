#!/usr/bin/env python3
"""End to end: the `ovsched` client commands, the watched job folder and
crontab import, on the real binary (argv[1]) against a real daemon on an
ephemeral port with a temporary data folder.  Prints one PASS:/FAIL: line per
check.

Covers: every `job` subcommand with tables and --json, `runs`, exit codes
(usage 2, no server 3, unknown job 4, stale version 5, bad token 6), the
--server/--token flags and OVSCHED_SERVER/OVSCHED_TOKEN, `serve --jobs-dir`
(add, change, remove applied live; a bad file refused with the file named and
the schedule untouched; then fixed and applied; API jobs never touched), and
`import-crontab` (dry run, --json, create, re-import).
"""
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
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgserver  # noqa: E402  OVSCHED_TEST_STORE=postgres: each data folder gets a database

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
RPC = "/scheduler.v1.SchedulerService/"
# Every daemon here runs with an admin token and every call sends it: the
# daemon on main accepts that as it is, and so will one with the auth branch
# (which makes a token up when none is given).
TOKEN = "cli-test-admin-token-0123456789abcdef"
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
    def __init__(self, data, args=(), env=None):
        env = dict({"OVSCHED_ADMIN_TOKEN": TOKEN}, **(env or {}))
        self.log_path = data + ".log"
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--data", data] + pgserver.store_args(data) +
            (list(args) if "--listen" in args else ["--listen", "127.0.0.1:0"] + list(args)),
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env=dict(os.environ, **env))
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            raise RuntimeError("daemon did not start: " + line)
        self.base = line.split("listening on ")[1].split()[0]

    def call(self, method, body=None):
        req = urllib.request.Request(self.base + RPC + method,
                                     data=json.dumps(body or {}).encode(), method="POST")
        req.add_header("Authorization", "Bearer " + TOKEN)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()


def cli(*args, server=None, stdin=None, env=None):
    """Run the client; returns (exit code, stdout, stderr)."""
    full_env = dict(os.environ)
    full_env.pop("OVSCHED_SERVER", None)
    full_env["OVSCHED_TOKEN"] = TOKEN
    full_env.update(env or {})
    argv = [BIN] + list(args)
    if server:
        argv += ["--server", server]
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=full_env,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def read_events(server, types, seconds=3.0):
    """The envelopes of TYPES in the daemon's event log, read from its SSE
    stream for at most SECONDS."""
    host, port = server.split("//")[1].rstrip("/").split(":")
    found, buf = [], b""
    with socket.create_connection((host, int(port)), timeout=seconds) as sock:
        sock.sendall(("GET /v1/events?since=0&types=%s HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer %s\r\n\r\n" % (types, TOKEN)).encode())
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline and not found:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
                for line in buf.split(b"\n"):
                    if line.startswith(b"data: "):
                        found.append(json.loads(line[6:]))
        except OSError:
            pass
    return found


def poll(predicate, timeout=10.0):
    """Bounded wait for a condition the daemon reaches asynchronously."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_job_commands(d):
    s = d.base
    rc, out, err = cli("job", "create", "--id", "backup", "--name", "Nightly backup",
                       "--cron", "0 3 * * *", "--tz", "Europe/Paris",
                       "--command", "echo backing up; echo done", "--label", "team=ops",
                       server=s)
    check("job create from flags: exit 0", rc == 0, err)
    check("job create prints the job for a person",
          "backup" in out and "Europe/Paris" in out and "0 3 * * *" in out, out)

    doc = {"job": {"id": "report", "name": "Weekly Report", "executor": {
        "type": "shell", "command": ["/bin/echo", "report"]},
        "metadata": {"scheduling": {"cron": "0 9 * * 1", "timezone": "America/New_York"}}}}
    rc, out, err = cli("job", "create", "-", "--json", stdin=json.dumps(doc), server=s)
    body = json.loads(out) if rc == 0 else {}
    check("job create from stdin --json answers the API's {job}",
          body.get("job", {}).get("id") == "report" and body["job"].get("version") == 1,
          out + err)

    rc, out, err = cli("job", "create", "--id", "backup", "--cron", "* * * * *", server=s)
    check("job create of a taken id: exit 5 and the server's code",
          rc == 5 and "already_exists" in err, (rc, err))

    rc, out, err = cli("job", "create", "--id", "bad", "--cron", "0 9 32 * *", server=s)
    check("job create with a bad cron: exit 1, the field named",
          rc == 1 and "metadata.scheduling.cron" in err, (rc, err))

    rc, out, err = cli("job", "get", "backup", "--json", server=s)
    job = json.loads(out)["job"] if rc == 0 else {}
    check("job get --json", job.get("id") == "backup" and job.get("labels") == {"team": "ops"},
          out + err)
    rc, out, err = cli("job", "get", "backup", server=s)
    check("job get for a person shows the next run time in RFC 3339",
          rc == 0 and job.get("next_run_time", "?") in out and "next_run_time:" in out, out)

    rc, out, err = cli("job", "get", "nope", server=s)
    check("job get of an unknown job: exit 4, `ovsched: not_found: ...`",
          rc == 4 and err.startswith("ovsched: not_found: "), (rc, err))

    rc, out, err = cli("job", "list", server=s)
    lines = out.splitlines()
    check("job list: a table with a header and one row per job",
          rc == 0 and lines[0].split()[:3] == ["ID", "NAME", "STATUS"] and len(lines) == 3,
          out)
    header = lines[0]
    row = [l for l in lines if l.startswith("backup")][0]
    check("job list: columns aligned", row.index("ACTIVE") == header.index("STATUS"), out)

    rc, out, err = cli("job", "list", "--json", "--label", "team=ops", server=s)
    body = json.loads(out)
    check("job list --label filters, --json parses",
          [j["id"] for j in body["jobs"]] == ["backup"] and body["total_count"] == 1, out)
    rc, out, err = cli("job", "list", "--json", "--page-size", "1", "--page", "2", server=s)
    body = json.loads(out)
    check("job list pagination", body["page"] == 2 and body["total_pages"] == 2
          and len(body["jobs"]) == 1, out)
    rc, out, err = cli("job", "list", "--json", "--page-size", "1", "--all", server=s)
    check("job list --all follows every page", len(json.loads(out)["jobs"]) == 2, out)

    # Optimistic concurrency: the version read, a stale one refused.
    rc, out, err = cli("job", "update", "backup", "--cron", "30 4 * * *", "--json", server=s)
    body = json.loads(out) if rc == 0 else {}
    check("job update read-modify-write bumps the version",
          body.get("job", {}).get("version") == 2 and
          body["job"]["metadata"]["scheduling"]["cron"] == "30 4 * * *"
          and body["job"]["metadata"]["scheduling"]["timezone"] == "Europe/Paris", out + err)
    rc, out, err = cli("job", "update", "backup", "--name", "x", "--version", "1", server=s)
    check("job update with a stale version: exit 5", rc == 5 and "aborted" in err, (rc, err))
    changed = dict(job)
    changed["name"] = "From a file"
    changed["version"] = 2
    rc, out, err = cli("job", "update", "backup", "-", "--json",
                       stdin=json.dumps({"job": changed}), server=s)
    check("job update from a document with its version",
          rc == 0 and json.loads(out)["job"]["name"] == "From a file", out + err)
    rc, out, err = cli("job", "update", "backup", "-", stdin=json.dumps({"job": changed}),
                       server=s)
    check("the same document again is stale: exit 5", rc == 5, (rc, err))
    rc, out, err = cli("job", "update", "ghost", "--name", "x", server=s)
    check("job update of an unknown job: exit 4", rc == 4, (rc, err))

    rc, out, err = cli("job", "pause", "backup", "--json", server=s)
    check("job pause", rc == 0 and json.loads(out)["job"]["status"] == "PAUSED", out + err)
    rc, out, err = cli("job", "status", "backup", server=s)
    check("job status says why it does not run", rc == 0 and "not ACTIVE" in out, out)
    rc, out, err = cli("job", "resume", "backup", "--json", server=s)
    check("job resume", rc == 0 and json.loads(out)["job"]["status"] == "ACTIVE", out + err)

    rc, out, err = cli("job", "run", "backup", "--json", server=s)
    run = json.loads(out)["run"] if rc == 0 else {}
    check("job run starts a run", run.get("job_id") == "backup" and run.get("trigger") == "manual",
          out + err)

    def finished():
        rc, out, _ = cli("runs", "backup", "--json", server=s)
        runs = json.loads(out)["runs"] if rc == 0 else []
        return runs if runs and runs[0]["status"] == "COMPLETED" else None
    runs = poll(finished)
    check("runs --json shows the run completed", runs and runs[0]["exit_code"] == 0, runs)
    rc, out, err = cli("runs", "backup", server=s)
    check("runs: a table with status and times",
          rc == 0 and out.startswith("RUN") and "COMPLETED" in out and "manual" in out, out)
    rc, out, err = cli("runs", "nope", server=s)
    check("runs of an unknown job: exit 4", rc == 4, (rc, err))

    long_cmd = "echo " + "x" * 200
    cli("job", "create", "--id", "long", "--cron", "@daily", "--command", long_cmd, server=s)
    rc, out, err = cli("job", "list", server=s)
    row = [l for l in out.splitlines() if l.startswith("long")]
    check("long commands are cut in the table", row and row[0].endswith("...") and
          len(row[0]) < 200, out)

    rc, out, err = cli("job", "delete", "long", server=s)
    check("job delete", rc == 0 and "deleted" in out, out + err)
    rc, out, err = cli("job", "delete", "long", server=s)
    check("job delete twice: exit 4", rc == 4, (rc, err))

    # Where the server is: environment, flag, unreachable.
    rc, out, err = cli("job", "list", "--json", env={"OVSCHED_SERVER": s})
    check("OVSCHED_SERVER is used", rc == 0 and "backup" in out, err)
    rc, out, err = cli("job", "list", server="http://127.0.0.1:1")
    check("no server: exit 3 with a clear message",
          rc == 3 and "cannot reach http://127.0.0.1:1" in err, (rc, err))

    # Usage errors.
    for args in (["job"], ["job", "frobnicate"], ["job", "get"], ["job", "list", "--page", "0"],
                 ["job", "create", "--label", "novalue"], ["runs"], ["nonsense"],
                 ["events", "--since", "x"], ["graph", "--direction", "sideways"],
                 ["import-crontab"]):
        rc, out, err = cli(*args, server=s)
        check("usage error exits 2: " + " ".join(args), rc == 2 and "usage" in err, (rc, err))


def test_token(tmp):
    d = Daemon(os.path.join(tmp, "auth"), env={"OVSCHED_ADMIN_TOKEN": "s3cret-0123456789abcdef0123456789"})
    try:
        rc, out, err = cli("job", "list", server=d.base, env={"OVSCHED_TOKEN": ""})
        check("no token: exit 6", rc == 6 and "unauthenticated" in err, (rc, err))
        rc, out, err = cli("job", "list", "--token", "wrong", server=d.base)
        check("a wrong token: exit 6", rc == 6, (rc, err))
        rc, out, err = cli("job", "list", "--token", "s3cret-0123456789abcdef0123456789", server=d.base)
        check("--token is sent as a bearer token", rc == 0, (rc, err))
        rc, out, err = cli("job", "list", server=d.base, env={"OVSCHED_TOKEN": "s3cret-0123456789abcdef0123456789"})
        check("OVSCHED_TOKEN is used", rc == 0, (rc, err))
    finally:
        d.stop()


def write(path, obj):
    # As editors do: a temporary file renamed over the old one.
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    os.rename(tmp, path)


def folder_job(cron, command="echo hi", **extra):
    job = {"executor": {"type": "shell", "command": command},
           "metadata": {"scheduling": {"cron": cron}}}
    job.update(extra)
    return {"job": job}


def test_jobs_dir(tmp):
    jobs = os.path.join(tmp, "jobs")
    p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--data",
                        os.path.join(tmp, "nodir"), "--jobs-dir", jobs],
                       capture_output=True, text=True, timeout=30)
    check("--jobs-dir that is not a folder: the daemon refuses to start",
          p.returncode == 1 and "not a folder" in p.stderr, (p.returncode, p.stderr))
    os.mkdir(jobs)
    write(os.path.join(jobs, "alpha.json"), folder_job("0 1 * * *"))
    write(os.path.join(jobs, "beta.json"), folder_job("0 2 * * *", id="beta-job"))
    with open(os.path.join(jobs, "README.txt"), "w") as f:
        f.write("not a job")
    d = Daemon(os.path.join(tmp, "dir"), ["--jobs-dir", jobs])
    s = d.base

    def ids():
        return sorted(j["id"] for j in d.call("ListJobs", {"page_size": 1000})["jobs"])

    def cron_of(job_id):
        return d.call("GetJob", {"job_id": job_id})["job"]["metadata"]["scheduling"]["cron"]

    try:
        check("jobs folder loaded at start (id from the file name or the document)",
              ids() == ["alpha", "beta-job"], ids())
        job = d.call("GetJob", {"job_id": "alpha"})["job"]
        check("folder jobs are marked metadata.source = jobs-dir",
              job["metadata"].get("source") == "jobs-dir"
              and job["metadata"].get("source_file") == "alpha.json", job)
        cli("job", "create", "--id", "api-job", "--cron", "@hourly", server=s)

        write(os.path.join(jobs, "gamma.json"), folder_job("0 3 * * *"))
        check("a new file is applied live", poll(lambda: "gamma" in ids()), ids())
        write(os.path.join(jobs, "alpha.json"), folder_job("15 1 * * *"))
        check("a changed file is applied live", poll(lambda: cron_of("alpha") == "15 1 * * *"))
        next_before = d.call("GetJob", {"job_id": "alpha"})["job"]["next_run_time"]
        check("the change reached the live schedule", next_before.endswith("01:15:00Z"),
              next_before)
        os.unlink(os.path.join(jobs, "gamma.json"))
        check("a removed file deletes its job", poll(lambda: "gamma" not in ids()), ids())
        check("API jobs are left alone", "api-job" in ids(), ids())

        # A bad file: the whole reload is refused.
        before = {i: d.call("GetJob", {"job_id": i})["job"] for i in ids()}
        write(os.path.join(jobs, "alpha.json"), folder_job("45 1 * * *"))  # would change
        write(os.path.join(jobs, "delta.json"), folder_job("0 9 32 * *"))  # bad
        status = poll(lambda: (lambda st: st if not st["ok"] else None)(
            d.call("GetJobsDirStatus")))
        check("a bad file is reported by the status API, naming file and field",
              status and status["file"] == "delta.json"
              and "delta.json: metadata.scheduling.cron" in status["error"], status)
        time.sleep(0.5)  # a late reload would show now
        after = {i: d.call("GetJob", {"job_id": i})["job"] for i in ids()}
        check("a bad file changes nothing (not even the good file beside it)",
              before == after, (before, after))
        check("a bad file is logged on stderr",
              "delta.json: metadata.scheduling.cron" in d.stderr(), d.stderr()[-1000:])
        rejected = read_events(s, "jobs_dir_rejected")
        check("a bad file is an event too, naming the file and the field",
              any(e["payload"].get("file") == "delta.json"
                  and "metadata.scheduling.cron" in e["payload"].get("error", "")
                  for e in rejected), rejected)
        rc, out, err = cli("jobs-dir", "status", server=s)
        check("`ovsched jobs-dir status` shows the error: exit 1",
              rc == 1 and "delta.json" in out + err, (rc, out, err))

        write(os.path.join(jobs, "delta.json"), folder_job("0 9 30 * *"))
        check("the fixed folder is applied as a whole",
              poll(lambda: "delta" in ids() and cron_of("alpha") == "45 1 * * *"), ids())
        check("the status API is ok again", d.call("GetJobsDirStatus")["ok"] is True)

        write(os.path.join(jobs, "dup.json"), folder_job("0 4 * * *", id="alpha"))
        status = poll(lambda: (lambda st: st if not st["ok"] else None)(
            d.call("GetJobsDirStatus")))
        check("two files with one id are refused, both named",
              status and "dup.json" in status["error"] and "alpha.json" in status["error"],
              status)
        os.unlink(os.path.join(jobs, "dup.json"))
        poll(lambda: d.call("GetJobsDirStatus")["ok"])

        write(os.path.join(jobs, "api-job.json"), folder_job("0 5 * * *"))
        status = poll(lambda: (lambda st: st if not st["ok"] else None)(
            d.call("GetJobsDirStatus")))
        check("a file cannot take over a job created through the API",
              status and "api-job.json" in status["error"] and
              cron_of("api-job") == "@hourly", status)
        os.unlink(os.path.join(jobs, "api-job.json"))
        write(os.path.join(jobs, "broken.json"), "{not json")
        status = poll(lambda: (lambda st: st if not st["ok"] and "broken" in (st["error"] or "")
                                else None)(d.call("GetJobsDirStatus")))
        check("invalid JSON is reported with its line", status and
              status["error"].startswith("broken.json: line 1"), status)
        os.unlink(os.path.join(jobs, "broken.json"))
        check("removing the bad file recovers", poll(lambda: d.call("GetJobsDirStatus")["ok"]))

        # Dependencies across files: the set is one graph, whatever the order.
        deps = lambda *ids: {"dependencies": list(ids)}
        job = folder_job("0 3 * * *")
        job["job"]["metadata"]["scheduling"].update(deps("aa-first"))
        write(os.path.join(jobs, "zz-second.json"), job)  # depends on a file read later
        write(os.path.join(jobs, "aa-first.json"), folder_job("0 2 * * *"))
        check("a dependency on another file of the folder is applied, in any order",
              poll(lambda: {"aa-first", "zz-second"} <= set(ids())), ids())
        graph = d.call("GetJobGraph", {"job_id": "zz-second", "direction": "upstream"})
        check("the folder's dependencies are in the graph",
              {"from": "aa-first", "to": "zz-second"} in graph.get("edges", []), graph)
        job = folder_job("0 2 * * *")
        job["job"]["metadata"]["scheduling"].update(deps("zz-second"))
        write(os.path.join(jobs, "aa-first.json"), job)  # closes aa-first -> zz-second -> aa-first
        status = poll(lambda: (lambda st: st if not st["ok"] else None)(
            d.call("GetJobsDirStatus")))
        check("a cycle across files refuses the reload and names it",
              status and "would close a cycle" in status["error"], status)
        stored = d.call("GetJob", {"job_id": "aa-first"})["job"]
        check("the refused cycle changed nothing",
              not stored["metadata"]["scheduling"].get("dependencies"), stored)
        os.unlink(os.path.join(jobs, "zz-second.json"))
        write(os.path.join(jobs, "aa-first.json"), folder_job("0 2 * * *"))
        check("fixing the files recovers", poll(lambda: d.call("GetJobsDirStatus")["ok"]))
        check("the dependent's file gone, its job is gone",
              poll(lambda: "zz-second" not in ids()), ids())
        os.unlink(os.path.join(jobs, "aa-first.json"))
        check("then the other", poll(lambda: "aa-first" not in ids()), ids())
    finally:
        d.stop()

    # After a restart the folder's jobs are still known as the folder's.
    os.unlink(os.path.join(jobs, "beta.json"))
    d = Daemon(os.path.join(tmp, "dir"), ["--jobs-dir", jobs])
    try:
        check("a file removed while the daemon was down is deleted at start",
              ids() == ["alpha", "api-job", "delta"], ids())
        job = d.call("GetJob", {"job_id": "alpha"})["job"]
        check("folder jobs are scheduled again after a restart",
              job["next_run_time"] and job["next_run_time"].endswith("01:45:00Z"), job)
    finally:
        d.stop()
    check("the daemon stopped cleanly (no sanitizer report)", d.proc.returncode == 0
          and "ERROR: " not in d.stderr(), d.stderr()[-2000:])

    # A bad file at start-up: the daemon serves, reports it, changes nothing.
    write(os.path.join(jobs, "alpha.json"), folder_job("0 0 * * *"))
    write(os.path.join(jobs, "zeta.json"), folder_job("not cron"))
    d = Daemon(os.path.join(tmp, "dir"), ["--jobs-dir", jobs])
    try:
        status = d.call("GetJobsDirStatus")
        check("a bad file at start-up: the daemon starts and reports it",
              not status["ok"] and status["file"] == "zeta.json", status)
        check("... and keeps the jobs as they were",
              ids() == ["alpha", "api-job", "delta"] and cron_of("alpha") == "45 1 * * *",
              (ids(), cron_of("alpha")))
    finally:
        d.stop()


CRONTAB = r"""# m h dom mon dow command
SHELL=/bin/sh
MAILTO=ops@example.com
PATH=/usr/local/bin:/usr/bin:/bin
GREETING = "hello world"

*/15 * * * * /usr/local/bin/poll-queue --fast
0 3 * * 1-5 /usr/bin/backup.sh > /tmp/backup.log 2>&1
@reboot /usr/bin/start-agent
@daily  find /tmp -mtime +7 -delete
CRON_TZ=America/New_York
30 8 * * * mail -s "100\% done" root%Hello%World
"""


def test_import_crontab(tmp, d):
    path = os.path.join(tmp, "crontab")
    with open(path, "w") as f:
        f.write(CRONTAB)
    rc, out, err = cli("import-crontab", path, "--json", "--tz", "Europe/Berlin")
    body = json.loads(out) if rc == 0 else {}
    jobs = [j["job"] for j in body.get("jobs", [])]
    check("import-crontab --json: four entries, @reboot skipped",
          rc == 0 and len(jobs) == 4, out + err)
    check("@reboot is reported with its line number",
          "crontab:9: @reboot is not supported" in err, err)
    check("MAILTO is reported", "crontab:3: MAILTO" in err, err)
    if len(jobs) == 4:
        poll_job, backup, daily, mail = jobs
        sched = poll_job["metadata"]["scheduling"]
        check("five fields and a command", sched["cron"] == "*/15 * * * *"
              and poll_job["executor"] == {
                  "type": "shell", "command": "/usr/local/bin/poll-queue --fast", "shell": True,
                  "env": {"MAILTO": "ops@example.com", "PATH": "/usr/local/bin:/usr/bin:/bin",
                          "GREETING": "hello world"}}, poll_job)
        check("--tz applies, CRON_TZ overrides it for later lines",
              sched["timezone"] == "Europe/Berlin"
              and mail["metadata"]["scheduling"]["timezone"] == "America/New_York", jobs)
        check("@daily macro", daily["metadata"]["scheduling"]["cron"] == "@daily", daily)
        check("ids derived from the command", poll_job["id"].startswith("crontab-poll-queue-")
              and backup["id"].startswith("crontab-backup-sh-"), [j["id"] for j in jobs])
        check("% starts stdin, \\% is a literal %",
              mail["executor"]["command"] ==
              "printf '%s' 'Hello\nWorld\n' | (mail -s \"100% done\" root)", mail["executor"])
    rc2, out2, _ = cli("import-crontab", path, "--json", "--tz", "Europe/Berlin")
    check("ids are stable across imports", out2 == out)

    rc, out, err = cli("import-crontab", path, "--dry-run")
    check("--dry-run prints a table and sends nothing",
          rc == 0 and out.startswith("ID") and "*/15 * * * *" in out, out + err)

    rc, out, err = cli("import-crontab", path, server=d.base)
    check("import-crontab creates the jobs", rc == 0 and out.count("created ") == 4, out + err)
    got = d.call("GetJob", {"job_id": jobs[0]["id"]})["job"] if jobs else {}
    check("the imported job is live", got.get("next_run_time") is not None, got)
    rc, out, err = cli("import-crontab", path, server=d.base)
    check("importing again updates the same jobs",
          rc == 0 and out.count("updated ") == 4, out + err)

    bad = os.path.join(tmp, "bad-crontab")
    with open(bad, "w") as f:
        f.write("0 * * * * ok\n61 * * * * bad-minute\n* * *\n")
    rc, out, err = cli("import-crontab", bad, server=d.base)
    check("a crontab with a bad line imports nothing: exit 1, lines named",
          rc == 1 and "bad-crontab:2: error: bad schedule" in err and
          "bad-crontab:3: error:" in err, (rc, err))
    check("... and nothing was created", not any(
        j["executor"].get("command") == "ok"
        for j in d.call("ListJobs", {"page_size": 1000})["jobs"]))


def has_event_stream(base):
    """True when the daemon serves GET /v1/events (the `events` branch)."""
    try:
        req = urllib.request.Request(base + "/v1/events?since=0")
        req.add_header("Authorization", "Bearer " + TOKEN)
        with urllib.request.urlopen(req, timeout=2) as resp:
            return resp.status == 200
    except urllib.error.HTTPError:
        return False
    except OSError:  # a stream that stays open: it exists
        return True


def test_events_live(tmp):
    """`events --follow` against the real daemon, across a restart: every
    event once, in order, resumed with Last-Event-ID."""
    data = os.path.join(tmp, "events")
    d = Daemon(data)
    if not has_event_stream(d.base):
        print("SKIP: events --follow against the daemon (no /v1/events in this build)")
        d.stop()
        return
    port = d.base.rsplit(":", 1)[1]
    # --since 0: the log from its start, so the first event is not lost to
    # the race between the follower's connection and the first create.
    follower = subprocess.Popen([BIN, "events", "--follow", "--since", "0", "--json",
                                 "--server", d.base, "--token", TOKEN],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    reader = threading.Thread(target=lambda: [seen.append(json.loads(l)) for l in
                                              follower.stdout], daemon=True)
    reader.start()
    try:
        cli("job", "create", "--id", "ev", "--command", "true", server=d.base)
        cli("job", "run", "ev", server=d.base)
        poll(lambda: any(e["type"] == "scheduler.job_completed" for e in seen))
        d.stop()
        d = Daemon(data, ["--listen", "127.0.0.1:" + port])
        cli("job", "pause", "ev", server=d.base)
        poll(lambda: any(e["type"] == "scheduler.job_paused" for e in seen), timeout=15)
        seqs = [e["metadata"]["seq"] for e in seen]
        types = [e["type"].split(".")[1] for e in seen]
        check("events --follow: every event once, in order, across a daemon restart",
              seqs == list(range(1, len(seqs) + 1)) and types[0] == "job_created"
              and "job_completed" in types and types[-1] == "job_paused", seen)
    finally:
        follower.kill()
        follower.wait()
        follower.stdout.close()
        follower.stderr.close()
        d.stop()


def test_import_into_jobs_dir(tmp):
    """import-crontab --out-dir writes job files a watched folder picks up."""
    path = os.path.join(tmp, "crontab2")
    with open(path, "w") as f:
        f.write(CRONTAB)
    jobs = os.path.join(tmp, "jobs2")
    os.mkdir(jobs)
    d = Daemon(os.path.join(tmp, "import-dir"), ["--jobs-dir", jobs])
    try:
        rc, out, err = cli("import-crontab", path, "--out-dir", jobs)
        files = sorted(f for f in os.listdir(jobs) if f.endswith(".json"))
        check("import-crontab --out-dir writes one <id>.json per entry",
              rc == 0 and len(files) == 4 and out.count("wrote ") == 4, (rc, out, err, files))

        def live():
            listed = d.call("ListJobs", {"page_size": 100})["jobs"]
            return sorted(j["id"] + ".json" for j in listed) if len(listed) == 4 else None
        check("... and the watched folder makes them live jobs", poll(live) == files, live())
        check("... with nothing refused", d.call("GetJobsDirStatus")["ok"] is True)
    finally:
        d.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="ovsched-cli-")
    d = None
    try:
        d = Daemon(os.path.join(tmp, "main"))
        test_job_commands(d)
        test_import_crontab(tmp, d)
        d.stop()
        check("the daemon stopped cleanly", d.proc.returncode == 0, d.stderr()[-2000:])
        test_token(tmp)
        test_jobs_dir(tmp)
        test_import_into_jobs_dir(tmp)
        test_events_live(tmp)
    except Exception as e:  # a crash of the test itself is a failure, not a pass
        check("test ran to the end", False, repr(e))
    finally:
        if d:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
