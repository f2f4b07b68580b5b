#!/usr/bin/env python3
"""The watched job folder (`serve --jobs-dir`): how long a reload takes for a
folder of N job files (every change re-reads and re-validates the whole folder,
so this is the price of one edited file), measured by the daemon itself
(GetJobsDirStatus.last_reload_ms), and the time from a saved file to the job
being live, as a user sees it (includes the 250 ms quiet period).
Usage: bench_jobsdir.py [path/to/ovsched] [N...]"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
SIZES = [int(n) for n in sys.argv[2:]] or [100, 1000, 5000]
TOKEN = "bench-jobsdir-admin-0123456789abcdef"  # every RPC needs a bearer token


def call(base, method, body=None):
    req = urllib.request.Request(base + "/scheduler.v1.SchedulerService/" + method,
                                 data=json.dumps(body or {}).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def job(i, minute):
    return {"job": {"name": "job %d" % i, "executor": {"type": "shell", "command": "true"},
                    "metadata": {"scheduling": {"cron": "%d %d * * *" % (minute, i % 24),
                                                "timezone": "Europe/Berlin"}}}}


def write(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.rename(path + ".tmp", path)


def bench(n):
    tmp = tempfile.mkdtemp(prefix="ovsched-bench-jobsdir-")
    jobs = os.path.join(tmp, "jobs")
    os.mkdir(jobs)
    for i in range(n):
        write(os.path.join(jobs, "job-%05d.json" % i), job(i, 0))
    start = time.monotonic()
    proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data",
                             os.path.join(tmp, "data"), "--jobs-dir", jobs],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, OVSCHED_ADMIN_TOKEN=TOKEN))
    try:
        base = proc.stdout.readline().split("listening on ")[1].split()[0]
        started = time.monotonic() - start
        status = call(base, "GetJobsDirStatus")
        first = status["last_reload_ms"]
        edits = []
        for k in range(5):
            write(os.path.join(jobs, "job-00000.json"), job(0, k + 1))
            t0 = time.monotonic()
            while True:
                got = call(base, "GetJob", {"job_id": "job-00000"})["job"]
                if got["metadata"]["scheduling"]["cron"].startswith("%d " % (k + 1)):
                    break
                if time.monotonic() - t0 > 60:
                    raise RuntimeError("edit not applied")
                time.sleep(0.005)
            edits.append((time.monotonic() - t0, call(base, "GetJobsDirStatus")["last_reload_ms"]))
        save_to_live = sorted(e[0] for e in edits)[len(edits) // 2]
        reload_ms = sorted(e[1] for e in edits)[len(edits) // 2]
        print("jobs-dir %5d files: start-up %.2f s (first load %.1f ms creating %d jobs); "
              "one edited file: reload %.1f ms, saved-to-live %.0f ms (median of 5, incl. 250 ms "
              "quiet period)" % (n, started, first, status["created"], reload_ms,
                                 save_to_live * 1000))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
        shutil.rmtree(tmp, ignore_errors=True)


for size in SIZES:
    bench(size)
