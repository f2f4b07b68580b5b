#!/usr/bin/env python3
"""bench_graph_api - GetJobGraph through the real daemon (make bench): 10,000
jobs in pipelines (each depends on up to 3 of the 40 jobs created before it),
created with ApplyJobs in batches of 2,000, then the whole graph asked for 10
times (the time includes HTTP and Python's parsing of the 2 MB answer), and
one UpdateJob refused because it would close a 250-hop cycle.
Usage: bench_graph_api.py [path/to/ovsched]"""
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import test_daemon as td  # noqa: E402

td.BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")


def main():
    tmp = tempfile.mkdtemp(prefix="ovsched-bench-graph-")
    d = td.Daemon(os.path.join(tmp, "data"))
    try:
        random.seed(1)
        n, batch = 10000, 2000
        apply_ms = []
        for start in range(0, n, batch):
            creates = []
            for i in range(start, start + batch):
                deps = sorted({"j%d" % (i - 1 - random.randrange(min(i, 40)))
                               for _ in range(3)}) if i else []
                creates.append({"id": "j%d" % i, "executor": {"type": "noop"},
                                "metadata": {"scheduling": {"dependencies": deps}}})
            t = time.time()
            status, body = d.call("ApplyJobs", {"creates": creates}, timeout=120)
            apply_ms.append((time.time() - t) * 1000)
            if status != 200:
                raise SystemExit("ApplyJobs failed: %s" % body)
        times = []
        for _ in range(10):
            t = time.time()
            status, body = d.call("GetJobGraph", {}, timeout=60)
            times.append((time.time() - t) * 1000)
        times.sort()
        print("graph-api: ApplyJobs of %d jobs with their edges: median %.0f ms per batch"
              % (batch, sorted(apply_ms)[len(apply_ms) // 2]))
        print("graph-api: GetJobGraph %d nodes, %d edges: p50 %.0f ms, max %.0f ms (HTTP + parse)"
              % (len(body["nodes"]), len(body["edges"]), times[len(times) // 2], times[-1]))
        t = time.time()
        status, body = d.call("UpdateJob", {"job": {
            "id": "j5", "executor": {"type": "noop"},
            "metadata": {"scheduling": {"dependencies": ["j9999"]}}}})
        print("graph-api: UpdateJob refused (cycle of %d jobs) in %.0f ms"
              % (body.get("message", "").count(" -> "), (time.time() - t) * 1000))
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
