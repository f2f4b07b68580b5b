#!/usr/bin/env python3
"""End to end: dependency graphs on the real `ovsched serve` binary (SPEC
section 5).  Prints one PASS:/FAIL: line per check.
Usage: test_graph.py [path/to/ovsched]

Covers: a chain and a diamond run in order, the diamond's join waits for both
sides (GetJobStatus says which), a failed dependency marks everything
downstream UPSTREAM_FAILED, a time-gated dependent is SKIPPED with the reason
(next tick, dependency_timeout) and the decision log says why, direct,
three-hop, self and bulk cycles are refused with the path and nothing
changes, unknown dependencies, DeleteJob with and without detach, ApplyJobs
dry_run and apply, GetJobGraph (JSON, closures, DOT), and a WAITING run that
survives a restart.
"""
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_daemon as td  # noqa: E402  (the Daemon class and helpers)

td.BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
check, wait_for, runs_of = td.check, td.wait_for, td.runs_of
FINAL = td.FINAL | {"UPSTREAM_FAILED"}


def job(job_id, deps=None, command=None, **scheduling):
    sched = dict(scheduling)
    if deps is not None:
        sched["dependencies"] = deps
    ex = {"type": "noop"} if command is None else {"type": "shell", "command": command}
    return {"id": job_id, "name": job_id.title(), "executor": ex,
            "metadata": {"scheduling": sched}}


def create(d, *jobs):
    for j in jobs:
        status, body = d.call("CreateJob", {"job": j})
        if status != 200:
            raise RuntimeError("CreateJob %s: %s %s" % (j["id"], status, body))


def last_run(d, job_id, statuses=FINAL, timeout=10.0):
    def done():
        runs = runs_of(d, job_id)
        return runs[0] if runs and runs[0]["status"] in statuses else None
    return wait_for(done, timeout)


def get_job(d, job_id):
    return d.call("GetJob", {"job_id": job_id})[1].get("job", {})


def deps_of(d, job_id):
    return get_job(d, job_id).get("metadata", {}).get("scheduling", {}).get("dependencies")


def test_chain(d):
    create(d, job("a"), job("b", ["a"]), job("c", ["b"]))
    d.call("RunJob", {"job_id": "a"})
    c = last_run(d, "c")
    a, b = last_run(d, "a"), last_run(d, "b")
    check("chain: a -> b -> c all complete after a runs",
          a and b and c and all(r["status"] == "COMPLETED" for r in (a, b, c)), (a, b, c))
    check("chain: b and c were started by their dependencies",
          b and c and b["trigger"] == "dependency" and c["trigger"] == "dependency", (b, c))
    check("chain: in order (a finished before b started, b before c)",
          a and b and c and a["finished_at"] <= b["started_at"] and
          b["finished_at"] <= c["started_at"], (a, b, c))


def test_diamond(d):
    create(d, job("root"), job("left", ["root"]),
           job("right", ["root"], command=["sleep", "1.5"]),
           job("join", ["left", "right"]))
    d.call("RunJob", {"job_id": "root"})
    left = last_run(d, "left")
    right_running = runs_of(d, "right")
    check("diamond: left done while right still runs",
          left and left["status"] == "COMPLETED" and right_running and
          right_running[0]["status"] == "RUNNING", (left, right_running))
    join_runs = runs_of(d, "join")
    status = d.call("GetJobStatus", {"job_id": "join"})[1]
    blocked = [b["job_id"] for b in status.get("blocked_by", [])]
    check("diamond: the join waits for both sides", join_runs == [] and blocked == ["right"],
          (join_runs, status))
    check("diamond: GetJobStatus explains the wait",
          "right has not completed since" in (status.get("reason") or ""), status)
    join = last_run(d, "join", timeout=10)
    right = last_run(d, "right")
    check("diamond: the join runs once both completed",
          join and join["status"] == "COMPLETED" and right and
          join["started_at"] >= right["finished_at"] and
          len(runs_of(d, "join")) == 1, (join, right))


def test_upstream_failed(d):
    failing = job("f", command=["false"])
    failing["metadata"]["scheduling"]["retry_policy"] = {"max_attempts": 1}
    create(d, failing, job("g", ["f"]), job("h", ["g"]))
    d.call("RunJob", {"job_id": "f"})
    g, h = last_run(d, "g"), last_run(d, "h")
    check("failure: the dependent is UPSTREAM_FAILED with the reason",
          g and g["status"] == "UPSTREAM_FAILED" and "dependency f ended FAILED" in
          (g["error"] or ""), g)
    check("failure: and its dependent too (transitively)",
          h and h["status"] == "UPSTREAM_FAILED" and "dependency g" in (h["error"] or ""), h)
    status = d.call("GetJobStatus", {"job_id": "g"})[1]
    states = [b["state"] for b in status.get("blocked_by", [])]
    check("failure: GetJobStatus says which dependency failed",
          states == ["failed"] and "f failed" in (status.get("reason") or ""), status)


def test_time_gated_skipped(d):
    create(d, job("upstream"),
           job("gated", ["upstream"], cron="* * * * * *"),
           job("gated-timeout", ["upstream"], cron="*/5 * * * * *", dependency_timeout="1s"))

    def skipped(job_id):
        return [r for r in runs_of(d, job_id) if r["status"] == "SKIPPED"]
    s = wait_for(lambda: skipped("gated"), timeout=5)
    check("time-gated: a tick whose dependency did not complete ends SKIPPED with the reason",
          s and "upstream did not complete since the job's previous run: the next tick came first"
          in (s[0]["error"] or ""), runs_of(d, "gated")[:3])
    waiting = [r for r in runs_of(d, "gated") if r["status"] == "WAITING"]
    check("time-gated: the current tick WAITs", len(waiting) == 1, runs_of(d, "gated")[:3])
    decisions = d.call("ListJobDecisions", {"job_id": "gated", "limit": 50})[1].get("decisions", [])
    kinds = {x["kind"] for x in decisions}
    skip = [x for x in decisions if x["kind"] == "skipped: dependency timeout"]
    check("decision log: the skipped slot says why",
          skip and skip[0]["first_slot"] and skip[0]["run_id"] and
          "upstream did not complete" in (skip[0]["reason"] or "") and
          "waiting: dependencies" in kinds, decisions[:4])
    s = wait_for(lambda: skipped("gated-timeout"), timeout=12)
    check("time-gated: dependency_timeout ends the wait",
          s and "dependency_timeout passed" in (s[0]["error"] or "") and
          s[0]["finished_at"] is not None, runs_of(d, "gated-timeout")[:3])
    # Now the dependency completes: the waiting tick starts.
    d.call("RunJob", {"job_id": "upstream"})
    done = wait_for(lambda: [r for r in runs_of(d, "gated") if r["status"] == "COMPLETED"], 5)
    check("time-gated: a WAITING tick starts when its dependency completes", done,
          runs_of(d, "gated")[:3])
    fired = [x for x in d.call("ListJobDecisions", {"job_id": "gated"})[1]["decisions"]
             if x["kind"] == "fired"]
    check("decision log: the fired slot names its dependencies",
          fired and fired[0]["reason"] == "its dependencies completed", fired[:2])
    for j in ("gated", "gated-timeout"):
        d.call("PauseJob", {"job_id": j})


def test_cycles(d):
    create(d, job("x1"), job("x2", ["x1"]), job("x3", ["x2"]))
    before = {j: get_job(d, j) for j in ("x1", "x2", "x3")}
    status, body = d.call("UpdateJob", {"job": job("x1", ["x2"])})
    check("cycle: direct (x1 <-> x2) refused with the path",
          status == 400 and "x2 -> x1 -> x2" in body.get("message", ""), body)
    status, body = d.call("UpdateJob", {"job": job("x1", ["x3"])})
    check("cycle: three hops refused with the path",
          status == 400 and "x3 -> x1 -> x2 -> x3" in body.get("message", "") and
          "metadata.scheduling.dependencies" in body.get("message", ""), body)
    status, body = d.call("UpdateJob", {"job": job("x1", ["x1"])})
    check("cycle: self-dependency refused",
          status == 400 and "x1 -> x1" in body.get("message", ""), body)
    status, body = d.call("ApplyJobs", {"creates": [job("p", ["r"]), job("q", ["p"]),
                                                    job("r", ["q"])]})
    check("cycle: bulk (ApplyJobs p -> q -> r -> p) refused with the path",
          status == 400 and "would close a cycle" in body.get("message", "") and
          all(n in body.get("message", "") for n in ("p", "q", "r")), body)
    status, body = d.call("ApplyJobs", {"updates": [job("x2", ["x3"])],
                                        "creates": [job("x4", ["x1"])]})
    check("cycle: bulk update through stored jobs refused", status == 400 and
          "x3 -> x2 -> x3" in body.get("message", ""), body)
    after = {j: get_job(d, j) for j in ("x1", "x2", "x3")}
    check("cycle: the stored jobs are unchanged (documents and versions)", before == after,
          (before, after))
    check("cycle: nothing of a refused bulk write was stored",
          all(d.call("GetJob", {"job_id": j})[0] == 404 for j in ("p", "q", "r", "x4")))
    graph = d.call("GetJobGraph", {"job_id": "x2"})[1]
    check("cycle: the graph is unchanged",
          sorted((e["from"], e["to"]) for e in graph["edges"]) == [("x1", "x2"), ("x2", "x3")],
          graph)


def test_unknown_and_delete(d):
    status, body = d.call("CreateJob", {"job": job("lonely", ["ghost"])})
    check("unknown dependency refused naming the field and the id",
          status == 400 and "metadata.scheduling.dependencies[0]: no job 'ghost'" in
          body.get("message", ""), body)
    create(d, job("base"), job("user1", ["base"]), job("user2", ["base", "x1"]))
    version = get_job(d, "user2")["version"]
    status, body = d.call("DeleteJob", {"job_id": "base"})
    check("delete: refused while others depend on it, naming them",
          status == 409 and "user1" in body.get("message", "") and
          "detach" in body.get("message", "") and get_job(d, "base").get("id") == "base", body)
    status, body = d.call("DeleteJob", {"job_id": "base", "detach": True})
    check("delete: with detach, the job goes and the dependents lose the edge",
          status == 200 and d.call("GetJob", {"job_id": "base"})[0] == 404 and
          deps_of(d, "user1") == [] and deps_of(d, "user2") == ["x1"] and
          get_job(d, "user2")["version"] == version + 1, (body, get_job(d, "user2")))


def test_apply(d):
    request = {"creates": [job("n1"), job("n2", ["n1"])],
               "updates": [job("x3", ["x2", "n2"])],
               "deletes": ["user1"], "dry_run": True}
    status, body = d.call("ApplyJobs", request)
    diff = body.get("diff", {})
    check("apply dry_run: the diff lists jobs and edges",
          status == 200 and diff.get("jobs") == {"added": ["n1", "n2"], "changed": ["x3"],
                                                 "unchanged": [], "removed": ["user1"]} and
          sorted((e["from"], e["to"]) for e in diff["edges"]["added"]) ==
          [("n1", "n2"), ("n2", "x3")] and diff["edges"]["removed"] == [], body)
    check("apply dry_run: nothing changed",
          d.call("GetJob", {"job_id": "n1"})[0] == 404 and
          d.call("GetJob", {"job_id": "user1"})[0] == 200 and deps_of(d, "x3") == ["x2"])
    request["dry_run"] = False
    status, body = d.call("ApplyJobs", request)
    check("apply: everything at once", status == 200 and body.get("applied") and
          deps_of(d, "x3") == ["x2", "n2"] and d.call("GetJob", {"job_id": "user1"})[0] == 404
          and get_job(d, "n2").get("id") == "n2", body)
    stale = job("n1")
    stale["version"] = 99
    status, body = d.call("ApplyJobs", {"creates": [job("n9")], "updates": [stale]})
    check("apply: all or nothing (a stale version stores nothing)",
          status == 409 and d.call("GetJob", {"job_id": "n9"})[0] == 404, body)


def test_graph_view(d):
    status, body = d.call("GetJobGraph", {})
    ids = {n["id"] for n in body.get("nodes", [])}
    edges = {(e["from"], e["to"]) for e in body.get("edges", [])}
    level = {i: k for k, lvl in enumerate(body.get("levels", [])) for i in lvl}
    node_a = [n for n in body.get("nodes", []) if n["id"] == "a"]
    check("GetJobGraph: the whole graph, nodes and edges",
          status == 200 and {"a", "b", "c", "root", "join", "upstream"} <= ids and
          ("a", "b") in edges and ("left", "join") in edges, body)
    check("GetJobGraph: nodes carry name, status, last run status and next run time",
          node_a and node_a[0]["name"] == "A" and node_a[0]["status"] == "ACTIVE" and
          node_a[0]["last_run_status"] == "COMPLETED" and "next_run_time" in node_a[0], node_a)
    check("GetJobGraph: levels are a topological order",
          level.get("a") == 0 and level.get("b") == 1 and level.get("c") == 2 and
          level.get("join") == 2 and all(level[f] < level[t] for f, t in edges), body["levels"])
    status, body = d.call("GetJobGraph", {"job_id": "join", "direction": "upstream", "depth": 1})
    check("GetJobGraph: the upstream closure to a depth",
          {n["id"] for n in body.get("nodes", [])} == {"join", "left", "right"}, body)
    status, body = d.call("GetJobGraph", {"job_id": "root", "direction": "downstream"})
    check("GetJobGraph: the downstream closure",
          {n["id"] for n in body.get("nodes", [])} == {"root", "left", "right", "join"}, body)
    status, body = d.call("GetJobGraph", {"job_id": "b", "format": "dot"})
    dot = body.get("dot", "")
    check("GetJobGraph: DOT for Graphviz",
          dot.startswith("digraph") and '"a" -> "b";' in dot and '"b" -> "c";' in dot, body)
    status, body = d.call("GetJobGraph", {"direction": "sideways"})
    check("GetJobGraph: a bad direction names the field",
          status == 400 and body["message"].startswith("direction:"), body)


def test_restart_keeps_waiting(tmp):
    data = os.path.join(tmp, "restart")
    d = td.Daemon(data)
    try:
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1.5))
        create(d, job("dep"), job("once", ["dep"], at=soon))
        w = last_run(d, "once", statuses={"WAITING"}, timeout=5)
        check("restart: a one-shot dependent WAITs", w is not None, runs_of(d, "once"))
        d.stop(signal.SIGKILL)
        d.start()
        after = runs_of(d, "once")
        check("restart: the WAITING run is still WAITING after kill -9",
              w and len(after) == 1 and after[0]["status"] == "WAITING" and
              after[0]["id"] == w["id"], after)
        d.call("RunJob", {"job_id": "dep"})
        done = last_run(d, "once")
        check("restart: it starts when its dependency completes",
              done and done["status"] == "COMPLETED" and w and done["id"] == w["id"],
              runs_of(d, "once"))
    finally:
        code = d.stop()
        log = open(data + ".log").read()
        check("restart: the daemon stops cleanly (no sanitizer report)",
              code == 0 and "Sanitizer" not in log, log[-3000:])


def main():
    tmp = tempfile.mkdtemp(prefix="ovsched-graph-")
    d = None
    try:
        d = td.Daemon(os.path.join(tmp, "data"))
        for test in (test_chain, test_diamond, test_upstream_failed, test_time_gated_skipped,
                     test_cycles, test_unknown_and_delete, test_apply, test_graph_view):
            try:
                test(d)
            except Exception as e:  # a broken step fails, the others still run
                check(test.__name__ + " ran without an exception", False, repr(e))
        code = d.stop()
        d = None
        log = open(os.path.join(tmp, "data.log")).read()
        check("SIGTERM stops the daemon cleanly (exit 0, no sanitizer report)",
              code == 0 and "Sanitizer" not in log, log[-3000:])
        test_restart_keeps_waiting(tmp)
    finally:
        if d:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if td.failures or check_failures() else 0)


def check_failures():
    return td.failures


if __name__ == "__main__":
    main()
