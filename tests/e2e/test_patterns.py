#!/usr/bin/env python3
"""End to end for patterns and orchestration (SPEC section 7): the real
`ovsched serve` on an ephemeral port with a temporary data folder.  Prints one
PASS:/FAIL: line per check.  Usage: test_patterns.py [path/to/ovsched]

Covers: pattern validation, rendering with required/default parameters and
overrides, re-rendering on update, refusal to delete a pattern in use, a
local HTTP server standing in for Nexus (down first, then up), idempotent
TriggerJobFromOrchestration under concurrent calls, a cascade through a
three-job chain under one correlation id, GetFlowStatus, trigger_on by
PublishEvent, the event executor with await_completion (CompleteRun and
timeout), and patterns surviving a restart.
"""
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
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgserver  # noqa: E402  OVSCHED_TEST_STORE=postgres: each data folder gets a database

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
RPC = "/scheduler.v1.SchedulerService/"
# Auth is mandatory (docs/security.md): every daemon here gets an admin token.
ADMIN_TOKEN = "e2e-patterns-admin-0123456789abcdef"
FINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED", "INTERRUPTED",
         "UPSTREAM_FAILED"}
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
    def __init__(self, data, extra=()):
        self.data = data
        self.extra = list(extra)
        self.start()

    def start(self):
        self.log = open(self.data + ".log", "a")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--data", self.data]
            + pgserver.store_args(self.data) + self.extra,
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env=dict(os.environ, OVSCHED_ADMIN_TOKEN=ADMIN_TOKEN))
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            raise RuntimeError("daemon did not start: " + line)
        self.base = line.split("listening on ")[1].split()[0]

    def call(self, method, body=None, timeout=10, token=ADMIN_TOKEN):
        req = urllib.request.Request(self.base + RPC + method,
                                     data=json.dumps(body or {}).encode(), method="POST")
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
        return self.proc.returncode


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def runs_of(d, job_id):
    status, body = d.call("ListJobRuns", {"job_id": job_id, "page_size": 100})
    return body.get("runs", []) if status == 200 else []


def final_run(d, job_id, timeout=10.0):
    def done():
        runs = runs_of(d, job_id)
        return runs[0] if runs and runs[0]["status"] in FINAL else None
    return wait_for(done, timeout)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nexus:
    """A stand-in for Nexus: records every registration it receives."""

    def __init__(self, port):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"success": true}')

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


GREET = {
    "pattern_id": "greet",
    "pattern_type": "scheduler.job",
    "version": "1.0.0",
    "name": "Greeting",
    "steps": [{"name": "say", "action": "shell"}],
    "parameters": {"who": {"required": True},
                   "greeting": {"default": "hello"},
                   "limit": {"default": 3}},
    "template": {
        "name": "Greet {{who}}",
        "labels": {"team": "{{who}}-team"},
        "executor": {"type": "shell", "command": ["/bin/echo", "{{greeting}} {{who}}"]},
        "metadata": {"scheduling": {"retry_policy": {"max_attempts": "{{limit}}"}}},
    },
}


def sched_of(job):
    return job.get("metadata", {}).get("service_specific", {}).get("scheduler", {})


def test_patterns(d):
    status, body = d.call("RegisterPattern", {"pattern": {"template": {}}})
    check("a pattern without pattern_id is refused, naming the field",
          status == 400 and "pattern.pattern_id" in body.get("message", ""), body)
    bad = dict(GREET, template={"name": "{{nobody}}"})
    status, body = d.call("RegisterPattern", {"pattern": bad})
    check("a placeholder that is not a parameter is refused, naming where",
          status == 400 and "pattern.template.name" in body.get("message", "")
          and "nobody" in body.get("message", ""), body)
    status, body = d.call("RegisterPattern", {"pattern": GREET})
    check("RegisterPattern stores the pattern at revision 1",
          status == 200 and body["pattern"]["revision"] == 1
          and body["pattern"]["version"] == "1.0.0", body)
    status, body = d.call("ListPatterns", {})
    check("ListPatterns lists it", status == 200 and
          [p["pattern_id"] for p in body["patterns"]] == ["greet"], body)
    status, body = d.call("GetPattern", {"pattern_id": "greet"})
    check("GetPattern returns the Nexus shape", status == 200 and
          body["pattern"]["steps"] == GREET["steps"] and
          body["pattern"]["nexus"]["state"] == "disabled", body)
    status, body = d.call("GetPattern", {"pattern_id": "nope"})
    check("GetPattern of an unknown id is 404", status == 404, body)


def test_rendering(d):
    status, body = d.call("CreateJob", {"job": {"id": "greet-world", "metadata": {
        "service_specific": {"scheduler": {"pattern_id": "greet",
                                           "parameters": {"who": "world"}}}}}})
    job = body.get("job", {})
    check("a job created from a pattern is rendered from its template",
          status == 200 and job.get("executor", {}).get("command") == ["/bin/echo", "hello world"]
          and job.get("name") == "Greet world" and job.get("labels") == {"team": "world-team"},
          body)
    check("a whole-string placeholder keeps the parameter's type (default 3)",
          job.get("metadata", {}).get("scheduling", {}).get("retry_policy", {})
          .get("max_attempts") == 3, job)
    s = sched_of(job)
    check("the job records the pattern id and version",
          s.get("pattern_id") == "greet" and s.get("pattern_version") == "1.0.0"
          and s.get("pattern_revision") == 1, s)
    status, body = d.call("CreateJob", {"job": {"id": "greet-own", "name": "My own name",
        "labels": {"team": "mine"}, "metadata": {"service_specific": {"scheduler": {
            "pattern_id": "greet", "parameters": {"who": "ada", "greeting": "hi"}}}}}})
    job = body.get("job", {})
    check("the job's own fields override the template's",
          status == 200 and job.get("name") == "My own name"
          and job.get("labels") == {"team": "mine"}
          and job.get("executor", {}).get("command") == ["/bin/echo", "hi ada"], body)
    status, body = d.call("CreateJob", {"job": {"id": "greet-missing", "metadata": {
        "service_specific": {"scheduler": {"pattern_id": "greet"}}}}})
    check("a required parameter missing is refused, naming it",
          status == 400 and "parameters.who" in body.get("message", ""), body)
    status, body = d.call("CreateJob", {"job": {"id": "greet-extra", "metadata": {
        "service_specific": {"scheduler": {"pattern_id": "greet",
                                           "parameters": {"who": "x", "colour": "red"}}}}}})
    check("an unknown parameter is refused, naming it",
          status == 400 and "parameters.colour" in body.get("message", ""), body)
    status, body = d.call("CreateJob", {"job": {"id": "greet-ghost", "metadata": {
        "service_specific": {"scheduler": {"pattern_id": "ghost"}}}}})
    check("an unknown pattern is refused", status == 400 and "ghost" in body.get("message", ""),
          body)
    status, body = d.call("RunJob", {"job_id": "greet-world"})
    run = final_run(d, "greet-world")
    check("the rendered job runs its rendered command",
          run and run["status"] == "COMPLETED" and run["output"].strip() == "hello world", run)


def test_rerender(d):
    v2 = dict(GREET, version="2.0.0")
    v2["template"] = dict(GREET["template"],
                          executor={"type": "shell", "command": ["/bin/echo", "{{greeting}}, {{who}}!"]})
    status, body = d.call("RegisterPattern", {"pattern": v2})
    status, body = d.call("GetJob", {"job_id": "greet-world"})
    check("without rerender, jobs keep their rendering",
          body["job"]["executor"]["command"] == ["/bin/echo", "hello world"]
          and sched_of(body["job"])["pattern_revision"] == 1, body)
    v3 = dict(v2, version="3.0.0")
    status, body = d.call("RegisterPattern", {"pattern": v3, "rerender": True})
    rer = body.get("rerendered", {})
    check("rerender: true re-renders every job of the pattern",
          status == 200 and sorted(rer.get("updated", [])) == ["greet-own", "greet-world"]
          and rer.get("failed") == [], body)
    status, body = d.call("GetJob", {"job_id": "greet-world"})
    job = body["job"]
    check("a re-rendered job has the new template and records the new version",
          job["executor"]["command"] == ["/bin/echo", "hello, world!"]
          and sched_of(job)["pattern_version"] == "3.0.0"
          and sched_of(job)["pattern_revision"] == 3 and job["version"] == 2, job)
    status, body = d.call("GetJob", {"job_id": "greet-own"})
    job = body["job"]
    check("a re-rendered job keeps its own overrides and parameters",
          job["name"] == "My own name" and job["labels"] == {"team": "mine"}
          and job["executor"]["command"] == ["/bin/echo", "hi, ada!"], job)


def test_delete(d):
    status, body = d.call("DeletePattern", {"pattern_id": "greet"})
    check("deleting a pattern in use is refused, naming the jobs",
          status == 409 and "greet-world" in body.get("message", ""), body)
    status, body = d.call("GetPattern", {"pattern_id": "greet"})
    check("the refused pattern is still there", status == 200, body)
    d.call("DeleteJob", {"job_id": "greet-world"})
    d.call("DeleteJob", {"job_id": "greet-own"})
    status, body = d.call("DeletePattern", {"pattern_id": "greet"})
    check("a pattern no job uses is deleted", status == 200 and body.get("success") is True, body)
    status, body = d.call("GetPattern", {"pattern_id": "greet"})
    check("a deleted pattern is gone", status == 404, body)


def test_idempotency(d):
    d.call("CreateJob", {"job": {"id": "idem", "executor": {
        "type": "shell", "command": ["/bin/sleep", "0.3"]}}})
    results = []

    def trigger():
        results.append(d.call("TriggerJobFromOrchestration", {
            "job_id": "idem", "idempotency_key": "key-1",
            "orchestration": {"flow_id": "f", "step_id": "s", "correlation_id": "c-idem"}}))

    threads = [threading.Thread(target=trigger) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {b.get("run", {}).get("id") for s, b in results if s == 200}
    check("16 concurrent triggers with one key all answer the same run",
          len(results) == 16 and all(s == 200 for s, _ in results) and len(ids) == 1,
          results[:3])
    replays = sum(1 for s, b in results if b.get("idempotent_replay"))
    check("exactly one of them started it", replays == 15, replays)
    final_run(d, "idem")
    check("exactly one run exists", len(runs_of(d, "idem")) == 1, runs_of(d, "idem"))
    status, body = d.call("TriggerJobFromOrchestration", {"job_id": "idem",
                                                          "idempotency_key": "key-1"})
    check("the same key after the run ended answers the first run",
          status == 200 and body["run"]["id"] in ids and body["idempotent_replay"], body)
    status, body = d.call("TriggerJobFromOrchestration", {"job_id": "idem",
                                                          "idempotency_key": "key-2"})
    check("another key starts another run",
          status == 200 and body["run"]["id"] not in ids
          and body["run"]["correlation_id"], body)
    final_run(d, "idem")
    status, body = d.call("TriggerJobFromOrchestration", {"job_id": "nope"})
    check("a trigger for an unknown job is 404", status == 404, body)
    status, body = d.call("TriggerJobFromOrchestration", {"job_id": "idem",
                                                          "orchestration": "x"})
    check("a bad orchestration block is refused, naming it",
          status == 400 and "orchestration" in body.get("message", ""), body)


def test_cascade(d):
    echo = {"type": "shell", "command": ["/bin/echo", "step"]}
    d.call("CreateJob", {"job": {"id": "chain-a", "executor": echo}})
    d.call("CreateJob", {"job": {"id": "chain-b", "executor": echo,
                                 "metadata": {"scheduling": {"dependencies": ["chain-a"]}}}})
    d.call("CreateJob", {"job": {"id": "chain-c", "executor": echo,
                                 "metadata": {"scheduling": {"dependencies": ["chain-b"]}}}})
    status, body = d.call("TriggerJobFromOrchestration", {
        "job_id": "chain-a", "cascade": True, "payload": {"campaign": 7},
        "orchestration": {"flow_id": "launch", "step_id": "start", "correlation_id": "corr-chain"}})
    check("the trigger answers the run with its correlation id",
          status == 200 and body["run"]["correlation_id"] == "corr-chain"
          and body["run"]["trigger"] == "orchestration"
          and body["run"]["orchestration"]["flow_id"] == "launch", body)

    def flow_done():
        s, b = d.call("GetFlowStatus", {"correlation_id": "corr-chain"})
        return b if s == 200 and b["state"] != "RUNNING" else None
    flow = wait_for(flow_done, 15)
    runs = flow["runs"] if flow else []
    check("the cascade runs the three-job chain, in order, under one correlation id",
          flow and flow["state"] == "COMPLETED" and [r["job_id"] for r in runs] ==
          ["chain-a", "chain-b", "chain-c"] and
          all(r["correlation_id"] == "corr-chain" for r in runs), flow)
    check("each chain job ran once: the graph's dependency trigger joined the flow, no double run",
          [len(runs_of(d, j)) for j in ("chain-a", "chain-b", "chain-c")] == [1, 1, 1],
          [runs_of(d, j) for j in ("chain-b", "chain-c")])
    check("dependents' runs say they were cascaded, and from which run",
          len(runs) == 3 and runs[1]["trigger"] == "cascade"
          and runs[1]["orchestration"]["parent_run_id"] == runs[0]["id"]
          and runs[2]["orchestration"]["cascaded_from"] == "chain-b", runs)
    check("GetFlowStatus gives the flow id and counts",
          flow and flow["flow_id"] == "launch" and flow["counts"] == {"COMPLETED": 3}, flow)
    status, body = d.call("TriggerJobFromOrchestration", {
        "job_id": "chain-a", "orchestration": {"correlation_id": "corr-alone"}})
    final_run(d, "chain-a")
    time.sleep(0.3)
    status, body = d.call("GetFlowStatus", {"correlation_id": "corr-alone"})
    check("without cascade only the job itself runs",
          status == 200 and len(body["runs"]) == 1 and body["state"] == "COMPLETED", body)
    status, body = d.call("GetFlowStatus", {"correlation_id": "corr-none"})
    check("GetFlowStatus of an unknown flow is 404", status == 404, body)
    # A failing step stops the cascade and fails the flow.
    d.call("UpdateJob", {"job": {"id": "chain-b", "executor": {
        "type": "shell", "command": ["/bin/sh", "-c", "exit 3"]},
        "metadata": {"scheduling": {"dependencies": ["chain-a"]}}}})
    d.call("TriggerJobFromOrchestration", {
        "job_id": "chain-a", "cascade": True, "orchestration": {"correlation_id": "corr-fail"}})

    def failed():
        s, b = d.call("GetFlowStatus", {"correlation_id": "corr-fail"})
        return b if s == 200 and b["state"] == "FAILED" else None
    flow = wait_for(failed, 15)
    check("a failed step fails the flow and its dependents do not run",
          flow and [r["job_id"] for r in flow["runs"]] == ["chain-a", "chain-b"], flow)


def test_pattern_trigger(d):
    d.call("RegisterPattern", {"pattern": {
        "pattern_id": "notify", "parameters": {"channel": {"default": "ops"}},
        "template": {"executor": {"type": "shell", "command": ["/bin/echo", "to {{channel}}"]}}}})
    status, body = d.call("TriggerJobFromOrchestration", {
        "pattern_id": "notify", "parameters": {"channel": "sales"},
        "orchestration": {"correlation_id": "corr-pattern"}})
    job_id = body.get("run", {}).get("job_id", "")
    run = final_run(d, job_id) if job_id else None
    check("a trigger by pattern id renders a job with the parameters and runs it",
          status == 200 and job_id.startswith("notify-") and run
          and run["output"].strip() == "to sales", (body, run))
    status, body2 = d.call("TriggerJobFromOrchestration", {
        "pattern_id": "notify", "parameters": {"channel": "sales"}})
    check("the same pattern and parameters reuse that job",
          status == 200 and body2["run"]["job_id"] == job_id, body2)
    status, body = d.call("TriggerJobFromOrchestration", {
        "pattern_id": "notify", "parameters": {"nope": 1}})
    check("a trigger by pattern with a bad parameter is refused, naming it",
          status == 400 and "parameters.nope" in body.get("message", ""), body)


def test_trigger_on(d):
    status, body = d.call("CreateJob", {"job": {"id": "on-launch", "executor": {
        "type": "shell", "command": ["/bin/echo", "launched"]}, "metadata": {"scheduling": {
            "trigger_on": [{"type": "campaign.launched", "filter": {"region": "eu"}}]}}}})
    check("a job with trigger_on is accepted", status == 200, body)
    status, body = d.call("CreateJob", {"job": {"id": "on-bad", "metadata": {"scheduling": {
        "trigger_on": [{"filter": {}}]}}}})
    check("a trigger_on entry without type is refused, naming it",
          status == 400 and "trigger_on[0].type" in body.get("message", ""), body)
    status, body = d.call("PublishEvent", {"type": "campaign.launched",
                                           "payload": {"region": "us"}})
    check("an event whose payload fails the filter starts nothing",
          status == 200 and body["triggered"] == [], body)
    status, body = d.call("PublishEvent", {"event": {
        "type": "campaign.launched", "payload": {"region": "eu", "campaign_id": 9},
        "metadata": {"correlation_id": "corr-event"}}})
    check("a matching event starts the job",
          status == 200 and [t["job_id"] for t in body["triggered"]] == ["on-launch"], body)
    run = final_run(d, "on-launch")
    status, flow = d.call("GetFlowStatus", {"correlation_id": "corr-event"})
    ev = flow["runs"][0]["orchestration"]["trigger_event"] if status == 200 else {}
    check("the run records the triggering event and its correlation id",
          run and run["status"] == "COMPLETED" and run["trigger"] == "event"
          and run["correlation_id"] == "corr-event"
          and ev.get("payload", {}).get("campaign_id") == 9, (run, flow))
    d.call("PauseJob", {"job_id": "on-launch"})
    status, body = d.call("PublishEvent", {"type": "campaign.launched",
                                           "payload": {"region": "eu"}})
    check("a paused job is not started by events", body.get("triggered") == [], body)
    status, body = d.call("PublishEvent", {"payload": {}})
    check("an event without type is refused", status == 400 and "event.type" in body["message"],
          body)


def test_await(d):
    d.call("CreateJob", {"job": {"id": "worker", "executor": {
        "type": "event", "event_type": "work.requested", "await_completion": True,
        "timeout": "30s", "payload": {"task": "resize"}}}})
    d.call("CreateJob", {"job": {"id": "on-work", "executor": {"type": "noop"},
        "metadata": {"scheduling": {"trigger_on": ["work.requested"]}}}})
    status, body = d.call("RunJob", {"job_id": "worker"})
    run_id = body.get("run", {}).get("id")
    time.sleep(0.5)
    runs = runs_of(d, "worker")
    check("an await_completion run stays RUNNING",
          runs and runs[0]["status"] == "RUNNING", runs)
    on = final_run(d, "on-work")
    check("the event it published started the trigger_on job",
          on and on["status"] == "COMPLETED", on)
    status, body = d.call("CompleteRun", {"run_id": run_id, "status": "COMPLETED",
                                          "result": {"resized": 3}})
    check("CompleteRun ends it", status == 200 and body["run"]["status"] == "COMPLETED"
          and json.loads(body["run"]["output"]) == {"resized": 3}, body)
    status, body = d.call("CompleteRun", {"run_id": run_id, "status": "COMPLETED"})
    check("CompleteRun on a finished run is refused", status == 409, body)
    status, body = d.call("CompleteRun", {"run_id": run_id, "status": "DONE"})
    check("CompleteRun with a bad status is refused, naming it",
          status == 400 and "status" in body["message"], body)
    d.call("RunJob", {"job_id": "worker"})
    time.sleep(0.2)
    rid = runs_of(d, "worker")[0]["id"]
    status, body = d.call("CompleteRun", {"run_id": rid, "status": "FAILED",
                                          "error": "disk full"})
    run = final_run(d, "worker")
    check("CompleteRun FAILED fails the run with the worker's error",
          run and run["status"] == "FAILED" and run["error"] == "disk full", run)
    d.call("CreateJob", {"job": {"id": "worker-slow", "executor": {
        "type": "event", "event_type": "slow.requested", "await_completion": True,
        "timeout": "1s"}}})
    d.call("RunJob", {"job_id": "worker-slow"})
    run = final_run(d, "worker-slow", 10)
    check("without CompleteRun the run's timeout ends it",
          run and run["status"] == "TIMED_OUT" and "CompleteRun" in (run.get("error") or ""), run)
    status, body = d.call("CreateJob", {"job": {"id": "ev-bad", "executor": {"type": "event"}}})
    check("an event executor without event_type is refused, naming it",
          status == 400 and "executor.event_type" in body["message"], body)


def read_events(d, since=0, seconds=1.5):
    """The events of the log after SINCE, read from the SSE stream."""
    req = urllib.request.Request(d.base + "/v1/events?since=%d" % since)
    req.add_header("Authorization", "Bearer " + ADMIN_TOKEN)
    events = []
    deadline = time.time() + seconds
    try:
        with urllib.request.urlopen(req, timeout=0.5) as resp:
            while time.time() < deadline:
                line = resp.readline()
                if line.startswith(b"data:"):
                    events.append(json.loads(line[5:]))
    except (socket.timeout, TimeoutError, OSError):
        pass
    return events


def test_events(d):
    events = read_events(d)
    registered = [e for e in events if e["type"] == "scheduler.pattern_registered"]
    check("RegisterPattern emits pattern_registered events with id, version and revision",
          any(e["payload"] == {"pattern_id": "greet", "version": "3.0.0", "revision": 3}
              for e in registered), registered[:4])
    chain = [e for e in events if e["payload"].get("job_id", "").startswith("chain-")
             and e["metadata"].get("correlation_id") == "corr-chain"]
    kinds = sorted({(e["payload"]["job_id"], e["type"].split(".")[1]) for e in chain})
    check("every event of the cascaded runs carries the flow's correlation id",
          kinds == sorted((j, t) for j in ("chain-a", "chain-b", "chain-c")
                          for t in ("job_started", "job_completed")), kinds)
    updated = [e for e in events if e["type"] == "scheduler.job_updated"
               and e["payload"]["job_id"] in ("greet-world", "greet-own")]
    check("re-rendering a pattern's jobs emits job_updated for each",
          len(updated) >= 2, updated)


def test_operator(d):
    status, body = d.call("CreateToken", {"name": "ops", "role": "operator"})
    secret = body.get("secret")
    check("an operator token is created", status == 200 and secret, body)
    d.call("RegisterPattern", {"pattern": {"pattern_id": "sh", "parameters": {"x": {}},
        "template": {"executor": {"type": "shell", "command": ["/bin/echo", "{{x}}"]}}}})
    status, body = d.call("CreateJob", {"job": {"id": "op-sh", "metadata": {"service_specific": {
        "scheduler": {"pattern_id": "sh", "parameters": {"x": "; rm -rf /"}}}}}}, token=secret)
    check("an operator cannot create a shell job through a pattern",
          status == 403 and "renders a shell job" in body.get("message", ""), body)
    status, body = d.call("RegisterPattern", {"pattern": {"pattern_id": "sh2", "template": {
        "executor": {"type": "shell", "command": ["/bin/true"]}}}}, token=secret)
    check("an operator cannot register a shell pattern", status == 403, body)
    status, body = d.call("TriggerJobFromOrchestration", {"job_id": "chain-a"}, token=secret)
    check("an operator may trigger a job", status == 200, body)


def test_nexus(tmp):
    port = free_port()
    d = Daemon(os.path.join(tmp, "nexus"), ["--nexus-url", "http://127.0.0.1:%d" % port])
    nexus = None
    try:
        status, body = d.call("RegisterPattern", {"pattern": dict(GREET, pattern_id="n1")})
        check("with --nexus-url a registration starts pending",
              status == 200 and body["pattern"]["nexus"]["state"] in ("pending", "retrying"), body)

        def retrying():
            s, b = d.call("GetPattern", {"pattern_id": "n1"})
            n = b["pattern"]["nexus"]
            return n if n["state"] == "retrying" and n["attempts"] >= 2 else None
        n = wait_for(retrying, 10)
        check("while Nexus is down the status says retrying, with the error",
              n and n["last_error"] and n["next_attempt_at"], n)
        nexus = Nexus(port)

        def registered(pid):
            s, b = d.call("GetPattern", {"pattern_id": pid})
            return b["pattern"]["nexus"] if b["pattern"]["nexus"]["state"] == "registered" else None
        n = wait_for(lambda: registered("n1"), 40)
        check("once Nexus is up the registration arrives", n and n["registered_at"], n)
        got = [b for p, b in nexus.received if b.get("pattern_id") == "n1"]
        check("Nexus received the pattern in its shape",
              got and nexus.received[0][0] == "/nexus.v1.NexusService/RegisterPattern"
              and got[0]["pattern_type"] == "scheduler.job" and got[0]["version"] == "1.0.0"
              and got[0]["pattern"]["steps"] == GREET["steps"]
              and got[0]["origin"] == "scheduler", nexus.received)
        d.call("RegisterPattern", {"pattern": dict(GREET, pattern_id="n2")})
        n = wait_for(lambda: registered("n2"), 10)
        check("a registration while Nexus is up arrives at once",
              n and n["attempts"] == 1 and any(b["pattern_id"] == "n2" for _, b in nexus.received),
              n)
        d.stop()
        d.start()
        status, body = d.call("GetPattern", {"pattern_id": "n2"})
        check("patterns and their Nexus status survive a restart",
              status == 200 and body["pattern"]["nexus"]["state"] == "registered"
              and body["pattern"]["revision"] == 1, body)
        rc = d.stop()
        check("the daemon with --nexus-url stops cleanly", rc == 0, rc)
    finally:
        d.stop()
        if nexus:
            nexus.close()


def test_nexus_hanging(tmp):
    """A Nexus that accepts and never answers: a stop aborts the request."""
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    d = Daemon(os.path.join(tmp, "hang"),
               ["--nexus-url", "http://127.0.0.1:%d" % hang.getsockname()[1]])
    try:
        d.call("RegisterPattern", {"pattern": dict(GREET, pattern_id="h1")})
        time.sleep(0.3)  # the request is in flight, waiting for an answer
        t0 = time.time()
        rc = d.stop()
        check("a stop with a Nexus request in flight ends at once and cleanly",
              rc == 0 and time.time() - t0 < 5, (rc, time.time() - t0))
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
        hang.close()


def test_redis(tmp):
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        check("redis-server and redis-cli are installed (make deps)", False)
        return
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = None
    try:
        d = Daemon(os.path.join(tmp, "redis"),
                   ["--redis", "redis://127.0.0.1:%d" % port])
        d.call("CreateJob", {"job": {"id": "on-redis", "executor": {"type": "noop"},
            "metadata": {"scheduling": {"trigger_on": [
                {"type": "campaign.launched", "filter": {"region": "eu"}}]}}}})

        def publish(event):
            out = subprocess.run(["redis-cli", "-p", str(port), "PUBLISH", "ovsched.ingest",
                                  json.dumps(event)], capture_output=True, text=True, timeout=5)
            return out.stdout.strip() == "1"
        subscribed = wait_for(lambda: publish({"type": "other.event", "payload": {}}), 15, 0.2)
        check("the daemon subscribes to the Redis ingest channel", subscribed)
        publish({"type": "campaign.launched", "payload": {"region": "us"}})
        publish({"type": "campaign.launched", "payload": {"region": "eu", "campaign_id": 4},
                 "metadata": {"correlation_id": "corr-redis"}})
        publish("not an event")
        run = final_run(d, "on-redis")
        check("an event from Redis starts the trigger_on job, once (the filter holds)",
              run and run["status"] == "COMPLETED" and run["trigger"] == "event"
              and run["correlation_id"] == "corr-redis" and len(runs_of(d, "on-redis")) == 1,
              runs_of(d, "on-redis"))
        status, flow = d.call("GetFlowStatus", {"correlation_id": "corr-redis"})
        ev = flow["runs"][0]["orchestration"]["trigger_event"] if status == 200 else {}
        check("the run records the event from Redis",
              ev.get("payload", {}).get("campaign_id") == 4
              and ev.get("metadata", {}).get("source") == "redis", flow)
        rc = d.stop()
        check("the daemon with --redis stops cleanly", rc == 0, rc)
    finally:
        if d and d.proc.poll() is None:
            d.proc.kill()
        redis.terminate()
        redis.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="ovsched-patterns-")
    d = Daemon(os.path.join(tmp, "data"))
    try:
        for test in (test_patterns, test_rendering, test_rerender, test_delete,
                     test_idempotency, test_cascade, test_pattern_trigger, test_trigger_on,
                     test_await, test_events, test_operator):
            try:
                test(d)
            except Exception as e:  # one broken test must not hide the others
                check(test.__name__ + " ran to the end", False, repr(e))
        rc = d.stop()
        check("the daemon stops cleanly", rc == 0, rc)
        for test in (test_nexus, test_nexus_hanging, test_redis):
            try:
                test(tmp)
            except Exception as e:
                check(test.__name__ + " ran to the end", False, repr(e))
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
