#!/usr/bin/env python3
"""bench_patterns - figures for patterns and orchestration (docs/patterns.md).

Starts build/ovsched on an ephemeral port with a temporary data folder,
creates JOBS noop jobs (a few rendered from a pattern, a few with trigger_on,
a dependency chain), then measures through HTTP, one client, sequential:
  - CreateJob rendered from a pattern vs a plain CreateJob;
  - TriggerJobFromOrchestration with a new key, and with a key already used;
  - the first PublishEvent (builds the trigger index: one pass over the jobs)
    and the following ones;
  - DeletePattern refused (one pass over the jobs to find the users);
  - a cascade through a CHAIN-job chain, trigger to the last run completed.
Usage: bench_patterns.py [path/to/ovsched] [JOBS]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
JOBS = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
CHAIN = 20
RPC = "/scheduler.v1.SchedulerService/"


def main():
    tmp = tempfile.mkdtemp(prefix="ovsched-bench-patterns-")
    proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data", tmp + "/d"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, OVSCHED_ADMIN_TOKEN="bench-patterns-admin-0123456789abcdef"))
    try:
        base = proc.stdout.readline().split("listening on ")[1].split()[0]

        def call(method, body):
            req = urllib.request.Request(base + RPC + method, data=json.dumps(body).encode(),
                                         method="POST")
            req.add_header("Authorization", "Bearer bench-patterns")
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read())

        def timed(n, fn):
            t0 = time.perf_counter()
            for i in range(n):
                fn(i)
            return (time.perf_counter() - t0) / n * 1000

        noop = {"type": "noop"}
        plain = timed(JOBS, lambda i: call("CreateJob", {"job": {"id": "j%d" % i, "executor": noop}}))
        call("RegisterPattern", {"pattern": {"pattern_id": "p", "parameters": {"n": {"default": 1}},
                                             "template": {"name": "job {{n}}", "executor": noop}}})
        rendered = timed(200, lambda i: call("CreateJob", {"job": {"id": "r%d" % i, "metadata": {
            "service_specific": {"scheduler": {"pattern_id": "p", "parameters": {"n": i}}}}}}))
        for i in range(10):
            call("CreateJob", {"job": {"id": "t%d" % i, "executor": noop, "metadata": {
                "scheduling": {"trigger_on": [{"type": "bench.event", "filter": {"k": i}}]}}}})
        new_key = timed(1000, lambda i: call("TriggerJobFromOrchestration", {
            "job_id": "j%d" % i, "idempotency_key": "k%d" % i}))
        replay = timed(1000, lambda i: call("TriggerJobFromOrchestration", {
            "job_id": "j%d" % i, "idempotency_key": "k%d" % i}))
        first_event = timed(1, lambda i: call("PublishEvent", {"type": "bench.event",
                                                                "payload": {"k": 1}}))
        events = timed(500, lambda i: call("PublishEvent", {"type": "bench.event",
                                                             "payload": {"k": i % 20}}))
        refused = timed(5, lambda i: urllib_error_ok(lambda: call("DeletePattern",
                                                                    {"pattern_id": "p"})))
        for i in range(CHAIN):
            deps = {"dependencies": ["c%d" % (i - 1)]} if i else {}
            call("CreateJob", {"job": {"id": "c%d" % i, "executor": noop,
                                       "metadata": {"scheduling": deps}}})
        t0 = time.perf_counter()
        call("TriggerJobFromOrchestration", {"job_id": "c0", "cascade": True,
                                             "orchestration": {"correlation_id": "bench"}})
        deadline = time.time() + 60
        while time.time() < deadline:
            flow = call("GetFlowStatus", {"correlation_id": "bench"})
            if flow["state"] != "RUNNING" and len(flow["runs"]) == CHAIN:
                break
            time.sleep(0.002)
        else:
            sys.exit("bench_patterns: the cascade did not finish in 60 s")
        cascade = (time.perf_counter() - t0) * 1000
        print("bench_patterns: %d jobs" % (JOBS + 230))
        print("  CreateJob plain            %7.2f ms" % plain)
        print("  CreateJob from a pattern   %7.2f ms" % rendered)
        print("  Trigger, new key           %7.2f ms" % new_key)
        print("  Trigger, key seen (replay) %7.2f ms" % replay)
        print("  PublishEvent, first (index)%7.2f ms" % first_event)
        print("  PublishEvent, then         %7.2f ms" % events)
        print("  DeletePattern refused      %7.2f ms (scan of every job)" % refused)
        print("  cascade, %d-job chain      %7.2f ms (%.2f ms a step, %s)"
              % (CHAIN, cascade, cascade / CHAIN, flow["state"]))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def urllib_error_ok(fn):
    try:
        fn()
    except urllib.error.HTTPError:
        pass


if __name__ == "__main__":
    main()
