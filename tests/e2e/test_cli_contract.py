#!/usr/bin/env python3
"""End to end: the client commands whose server side is being built on other
branches (`events`, `token`, `graph`), against a stub server in this script
that speaks the SPEC contract: SSE on GET /v1/events (id: = seq, event: =
type, data: = the envelope of SPEC section 6, Last-Event-ID to resume) and
the RPC calls GetJobGraph, CreateToken, ListTokens, RevokeToken.  Prints one
PASS:/FAIL: line per check.  Usage: test_cli_contract.py [path/to/ovsched]
"""
import http.server
import json
import os
import subprocess
import sys
import threading
import time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
failures = 0


def check(name, ok, detail=""):
    global failures
    if ok:
        print("PASS: " + name)
    else:
        failures += 1
        print("FAIL: " + name + ("\n  " + str(detail)[:2000] if detail else ""))
    sys.stdout.flush()


def envelope(seq, type_, job):
    return {"type": type_, "payload": {"job_id": job, "status": "COMPLETED", "run_id": "7",
                                       "attempt": 1},
            "metadata": {"event_id": "e%d" % seq, "seq": seq,
                         "timestamp": "2026-11-26T09:00:0%d.412Z" % seq,
                         "source": "scheduler", "campaign_id": 0}}


GRAPH = {"nodes": [
    {"id": "extract", "name": "Extract", "status": "ACTIVE", "last_run_status": "COMPLETED",
     "next_run_time": "2026-11-28T03:00:00Z"},
    {"id": "load \"x\"", "name": "Load", "status": "ACTIVE", "last_run_status": "FAILED",
     "next_run_time": None}],
    "edges": [{"from": "extract", "to": "load \"x\""}],
    "levels": [["extract"], ["load \"x\""]]}


class Stub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections = []  # (path, Last-Event-ID, Authorization) per SSE connection
    rpc_bodies = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.startswith("/v1/events"):
            self.send_error(404)
            return
        Stub.connections.append((self.path, self.headers.get("Last-Event-ID"),
                                 self.headers.get("Authorization")))
        n = len(Stub.connections)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if "since=999" in self.path:  # as the events branch answers a pruned position
            chunks = ["event: resync\ndata: %s\n\n" % json.dumps(
                {"type": "resync", "message": "since is ahead of the event log",
                 "since": 999, "oldest_seq": 1, "latest_seq": 3})]
        elif n == 1:  # two events, a comment, CRLF line ends in the second, then a drop
            chunks = [": keep-alive\n\n",
                      "id: 1\nevent: scheduler.job_started\ndata: %s\n\n"
                      % json.dumps(envelope(1, "scheduler.job_started", "a")),
                      "id: 2\r\nevent: scheduler.job_completed\r\ndata: %s\r\n\r\n"
                      % json.dumps(envelope(2, "scheduler.job_completed", "a")),
                      "id: 3\nevent: scheduler.job_failed\ndata: {\"cut"]  # cut mid-message
        else:
            chunks = ["id: 3\nevent: scheduler.job_failed\ndata: %s\n\n"
                      % json.dumps(envelope(3, "scheduler.job_failed", "b"))]
        for c in chunks:
            self.wfile.write(c.encode())
            self.wfile.flush()
            time.sleep(0.05)
        self.close_connection = True

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        method = self.path.rsplit("/", 1)[-1]
        Stub.rpc_bodies.append((method, body, self.headers.get("Authorization")))
        answers = {
            "GetJobGraph": (200, GRAPH),
            "CreateToken": (200, {"token": {"id": "t1", "role": body.get("role"),
                                            "name": body.get("name")},
                                  "secret": "ovs_secret123"}),
            "ListTokens": (200, {"tokens": [{"id": "t1", "name": "ci", "role": "viewer",
                                             "campaign_id": 7,
                                             "created_at": "2026-11-27T05:00:00Z"}]}),
            "RevokeToken": (200, {"success": True}) if body.get("token_id") == "t1" else
            (404, {"code": "not_found", "message": "token_id: no token 'nope'"}),
        }
        status, answer = answers.get(method, (404, {"code": "unimplemented", "message": "?"}))
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def cli(*args, timeout=30):
    env = dict(os.environ)
    env.pop("OVSCHED_TOKEN", None)
    env["OVSCHED_SERVER"] = BASE
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout,
                       env=env)
    return p.returncode, p.stdout, p.stderr


def test_events():
    # --follow: two events, a drop in the middle of the third, a reconnect with
    # Last-Event-ID: 2, then the third; no event twice, none lost.
    env = dict(os.environ, OVSCHED_SERVER=BASE, OVSCHED_TOKEN="tok")
    p = subprocess.Popen([BIN, "events", "--follow", "--since", "0", "--types",
                          "scheduler.job_started,scheduler.job_completed,scheduler.job_failed",
                          "--job", "a b", "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    try:
        deadline = time.monotonic() + 15
        while len(lines) < 3 and time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
    seqs = [json.loads(l)["metadata"]["seq"] for l in lines]
    check("events --follow --json: one envelope per line, in order", seqs == [1, 2, 3], lines)
    first = Stub.connections[0] if Stub.connections else ("", None, None)
    check("filters go in the query string",
          "since=0" in first[0] and "types=scheduler.job_started%2C" in first[0]
          and "job_id=a%20b" in first[0], first)
    check("the token is sent on the stream", first[2] == "Bearer tok", first)
    second = Stub.connections[1] if len(Stub.connections) > 1 else (None, None, None)
    check("reconnects after a drop with Last-Event-ID of the last event (and since=)",
          second[1] == "2" and "since=2&" in (second[0] or ""), Stub.connections)

    del Stub.connections[:]
    rc, out, err = cli("events")
    lines = out.splitlines()
    check("events without --follow ends when the stream ends: exit 0", rc == 0, (rc, err))
    check("events for a person: seq, time, type, job, status",
          len(lines) == 2 and lines[0].split()[:5] ==
          ["1", "2026-11-26T09:00:01.412Z", "scheduler.job_started", "a", "COMPLETED"], out)
    rc, out, err = cli("events", "--since", "999")
    check("a resync from the server is reported, not printed as an event",
          rc == 0 and out == "" and "(resync): since is ahead" in err, (rc, out, err))
    rc, out, err = cli("events", "--follow", "--server", "http://127.0.0.1:1")
    check("events against no server: exit 3 (no endless retry)", rc == 3, (rc, err))


def test_graph():
    del Stub.rpc_bodies[:]
    rc, out, err = cli("graph", "extract", "--direction", "down", "--depth", "2")
    check("graph sends job_id, direction (--direction down is the API's downstream), depth",
          Stub.rpc_bodies and Stub.rpc_bodies[-1][1] ==
          {"job_id": "extract", "direction": "downstream", "depth": 2}, Stub.rpc_bodies)
    check("graph text: levels then a table with what each job waits for",
          rc == 0 and "level 0: extract" in out and "level 1: load \"x\"" in out
          and any(l.startswith("load \"x\"") and l.rstrip().endswith("extract")
                  for l in out.splitlines()), out)
    rc, out, err = cli("graph", "--dot")
    check("graph --dot is a digraph with quoted ids and an edge per dependency",
          rc == 0 and out.startswith("digraph ovsched {") and
          '"extract" -> "load \\"x\\"";' in out and out.rstrip().endswith("}"), out)
    # A label's lines are joined by DOT's own line break, backslash-n: a
    # doubled backslash would make Graphviz draw a literal "\n".
    check("graph --dot labels: name, id and state on their own lines",
          '[label="Extract\\nextract\\nCOMPLETED"' in out
          and '[label="Load\\nload \\"x\\"\\nFAILED"' in out and "\\\\n" not in out, out)
    rc, out, err = cli("graph", "--json")
    check("graph --json is the API's answer", rc == 0 and json.loads(out) == GRAPH, out)


def test_token():
    del Stub.rpc_bodies[:]
    rc, out, err = cli("token", "create", "--role", "viewer", "--name", "ci", "--campaign", "7")
    check("token create sends role, name, campaign_id",
          Stub.rpc_bodies and Stub.rpc_bodies[-1][1] ==
          {"role": "viewer", "name": "ci", "campaign_id": 7}, Stub.rpc_bodies)
    check("token create shows the secret once", rc == 0 and "ovs_secret123" in out, out)
    rc, out, err = cli("token", "list")
    check("token list: a table", rc == 0 and out.startswith("ID") and "viewer" in out
          and "ci" in out, out)
    rc, out, err = cli("token", "revoke", "t1")
    check("token revoke sends token_id", rc == 0 and Stub.rpc_bodies[-1][1] == {"token_id": "t1"},
          (rc, Stub.rpc_bodies[-1:]))
    rc, out, err = cli("token", "revoke", "nope")
    check("token revoke of an unknown token: exit 4", rc == 4 and "not_found" in err, (rc, err))
    rc, out, err = cli("token", "create", "--name", "x")
    check("token create without --role: exit 2", rc == 2, (rc, err))
    rc, out, err = cli("token", "create", "--role", "viewer")
    check("token create without --name: exit 2", rc == 2, (rc, err))


def main():
    global BASE
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    BASE = "http://127.0.0.1:%d" % server.server_address[1]
    try:
        test_events()
        test_graph()
        test_token()
    except Exception as e:
        check("test ran to the end", False, repr(e))
    finally:
        server.shutdown()
        server.server_close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
