#!/usr/bin/env python3
"""End to end: events of the real `ovsched serve` binary (SPEC section 6).

WebSocket (a minimal RFC 6455 client written here: handshake, masked client
frames, ping/pong, close), Server-Sent Events (http.client), and a real
redis-server on an ephemeral port.  Prints one PASS:/FAIL: line per check.
Usage: test_events.py [path/to/ovsched]

Covers: every event type arrives with the exact envelope and seq rises by one;
filters (types, job_id, campaign_id); replay with since across a daemon
restart misses nothing; a since older than the log gets a resync answer; a
client that does not read is closed, the daemon stays bounded; SSE with
Last-Event-ID; Redis receives every event, a Redis outage loses nothing from
the log and the daemon reconnects.
"""
import base64
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgserver  # noqa: E402  OVSCHED_TEST_STORE=postgres: each data folder gets a database

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
RPC = "/scheduler.v1.SchedulerService/"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
failures = 0
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def check(name, ok, detail=""):
    global failures
    if ok:
        print("PASS: " + name)
    else:
        failures += 1
        print("FAIL: " + name + ("\n  " + str(detail)[:2000] if detail else ""))
    sys.stdout.flush()


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


# Every request carries the admin token: the daemon always requires one.
TOKEN = "e2e-events-admin-0123456789abcdef0123"
AUTH = "Authorization: Bearer %s\r\n" % TOKEN


class Daemon:
    def __init__(self, data, args=(), env=None):
        self.data, self.args = data, list(args)
        self.env = dict(os.environ)
        self.env["OVSCHED_ADMIN_TOKEN"] = TOKEN
        self.env.update(env or {})
        self.start()

    def start(self):
        self.log = open(self.data + ".log", "a")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--data", self.data]
            + pgserver.store_args(self.data) + self.args,
            stdout=subprocess.PIPE, stderr=self.log, env=self.env, text=True)
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            raise RuntimeError("daemon did not start: " + line)
        self.base = line.split("listening on ")[1].split()[0]
        self.port = int(self.base.rsplit(":", 1)[1])

    def call(self, method, body=None, path=None):
        url = self.base + (path or RPC + method)
        req = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", "Bearer " + self.env["OVSCHED_ADMIN_TOKEN"])
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        check("daemon %s exits 0 on SIGTERM (no leak, no crash)" % os.path.basename(self.data),
              self.proc.returncode == 0 or sig != signal.SIGTERM,
              self.log_text()[-3000:])
        return self.proc.returncode

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def log_text(self):
        with open(self.data + ".log") as f:
            return f.read()


class WebSocket:
    """A minimal RFC 6455 client: enough to subscribe and read."""

    def __init__(self, port, query="", rcvbuf=None, headers=AUTH):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /v1/events/ws%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (("?" + query) if query else "", key, headers)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("handshake: connection closed")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status_line = head.split(b"\r\n")[0].decode()
        expect = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.accept_ok = ("Sec-WebSocket-Accept: " + expect).lower() in head.decode().lower()
        self.close_code = None
        self.close_reason = ""
        self.eof = False
        self.pings = 0

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.eof = True
                return False
            self.buf += chunk
        return True

    def send_frame(self, opcode, payload=b""):
        mask = os.urandom(4)
        head = bytes([0x80 | opcode])
        n = len(payload)
        head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def recv(self, timeout=5.0):
        """The next text message, or None (timeout, close or EOF)."""
        deadline = time.time() + timeout
        while True:
            if not self._need(2, deadline):
                return None
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                if not self._need(4, deadline):
                    return None
                n, off = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                if not self._need(10, deadline):
                    return None
                n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
            if not self._need(off + n, deadline):
                return None
            payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self.pings += 1
                self.send_frame(0xA, payload)
            elif opcode == 0x8:
                if len(payload) >= 2:
                    self.close_code = struct.unpack("!H", payload[:2])[0]
                    self.close_reason = payload[2:].decode(errors="replace")
                return None
            elif opcode == 0x1:
                return payload.decode()

    def events(self, count, timeout=10.0):
        got = []
        deadline = time.time() + timeout
        while len(got) < count and time.time() < deadline:
            text = self.recv(deadline - time.time())
            if text is None:
                break
            got.append(json.loads(text))
        return got

    def close(self):
        try:
            self.send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def create(d, job_id, **extra):
    job = {"id": job_id, "name": job_id, "executor": {"type": "shell", "command": ["true"]}}
    job.update(extra)
    return d.call("CreateJob", {"job": job})


def check_envelope(name, ev, type_, job_id, status, run=False):
    problems = []
    if set(ev) != {"type", "payload", "metadata"}:
        problems.append("top-level keys %s" % sorted(ev))
    md, pl = ev.get("metadata", {}), ev.get("payload", {})
    if set(md) != {"event_id", "seq", "timestamp", "source", "campaign_id", "correlation_id"}:
        problems.append("metadata keys %s" % sorted(md))
    if ev.get("type") != "scheduler." + type_:
        problems.append("type %s" % ev.get("type"))
    if pl.get("job_id") != job_id or pl.get("status") != status:
        problems.append("payload %s" % pl)
    if run and not (isinstance(pl.get("run_id"), str) and isinstance(pl.get("attempt"), int)):
        problems.append("run fields %s" % pl)
    if not UUID7.match(str(md.get("event_id"))):
        problems.append("event_id %s" % md.get("event_id"))
    if not TS.match(str(md.get("timestamp"))):
        problems.append("timestamp %s" % md.get("timestamp"))
    if md.get("source") != "scheduler" or not isinstance(md.get("seq"), int):
        problems.append("source/seq %s" % md)
    if not md.get("correlation_id"):
        problems.append("correlation_id missing")
    check(name, not problems, "; ".join(problems) + " in " + json.dumps(ev))


def test_types_and_envelope(d):
    ws = WebSocket(d.port)
    check("ws: handshake answers 101 with the right Sec-WebSocket-Accept",
          "101" in ws.status_line and ws.accept_ok, ws.status_line)
    create(d, "ok", campaign_id=7)
    d.call("UpdateJob", {"job": {"id": "ok", "name": "renamed", "campaign_id": 7,
                                 "executor": {"type": "shell", "command": ["true"]}}})
    d.call("PauseJob", {"job_id": "ok"})
    d.call("ResumeJob", {"job_id": "ok"})
    d.call("RunJob", {"job_id": "ok"})
    evs = ws.events(6)
    want = [("job_created", "ACTIVE"), ("job_updated", "ACTIVE"), ("job_paused", "PAUSED"),
            ("job_resumed", "ACTIVE"), ("job_started", "RUNNING"), ("job_completed", "COMPLETED")]
    check("ws: job lifecycle events arrive in order",
          [e["type"] for e in evs] == ["scheduler." + t for t, _ in want], [e["type"] for e in evs])
    for ev, (t, s) in zip(evs, want):
        check_envelope("ws: envelope of %s" % t, ev, t, "ok", s, run=t.startswith("job_st") or
                       t == "job_completed")
    seqs = [e["metadata"]["seq"] for e in evs]
    check("ws: seq rises by one per event", seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs)
    check("ws: campaign_id is the job's tenant",
          all(e["metadata"]["campaign_id"] == 7 for e in evs), [e["metadata"] for e in evs])
    if len(evs) == 6:
        check("ws: a run's events share its correlation id",
              evs[4]["metadata"]["correlation_id"] == evs[5]["metadata"]["correlation_id"]
              and evs[4]["payload"]["run_id"] == evs[5]["payload"]["run_id"], evs[4:])

    create(d, "flaky", executor={"type": "shell", "command": ["false"]},
           metadata={"scheduling": {"retry_policy": {"max_attempts": 2, "backoff": "constant",
                                                     "initial_interval": "100ms"}}})
    d.call("RunJob", {"job_id": "flaky"})
    evs = ws.events(5)
    got = [(e["type"].split(".")[1], e["payload"]["status"], e["payload"].get("attempt"))
           for e in evs]
    check("ws: a failing run with a retry: started, retrying, started, failed",
          got == [("job_created", "ACTIVE", None), ("job_started", "RUNNING", 1),
                  ("job_retrying", "RETRYING", 1), ("job_started", "RUNNING", 2),
                  ("job_failed", "FAILED", 2)], got)
    if len(evs) == 5:
        check_envelope("ws: envelope of job_retrying", evs[2], "job_retrying", "flaky", "RETRYING",
                       run=True)
        check_envelope("ws: envelope of job_failed", evs[4], "job_failed", "flaky", "FAILED",
                       run=True)

    # A slot due while the previous run still runs, under forbid: skipped.
    create(d, "busy", executor={"type": "shell", "command": ["sleep", "1.6"]},
           metadata={"scheduling": {"cron": "* * * * * *", "concurrency_policy": "forbid"}})
    skipped = None
    deadline = time.time() + 8
    while time.time() < deadline and not skipped:
        for e in ws.events(1, timeout=1):
            if e["type"] == "scheduler.job_skipped":
                skipped = e
    check("ws: a slot skipped under concurrency forbid is a job_skipped event", skipped)
    if skipped:
        check_envelope("ws: envelope of job_skipped", skipped, "job_skipped", "busy", "SKIPPED")
    d.call("DeleteJob", {"job_id": "busy"})
    deleted = None
    deadline = time.time() + 5
    while time.time() < deadline and not deleted:
        for e in ws.events(1, timeout=1):
            if e["type"] == "scheduler.job_deleted":
                deleted = e
    check("ws: DeleteJob is a job_deleted event", deleted)
    if deleted:
        check_envelope("ws: envelope of job_deleted", deleted, "job_deleted", "busy", "DELETED")
    ws.close()


def test_filters(d):
    by_type = WebSocket(d.port, "types=job_paused,scheduler.job_resumed")
    by_job = WebSocket(d.port, "job_id=f2")
    by_tenant = WebSocket(d.port, "campaign_id=42")
    create(d, "f1")
    create(d, "f2", campaign_id=42)
    d.call("PauseJob", {"job_id": "f1"})
    d.call("ResumeJob", {"job_id": "f1"})
    d.call("PauseJob", {"job_id": "f2"})
    got = [(e["type"], e["payload"]["job_id"]) for e in by_type.events(3)]
    check("ws filter: types", got == [("scheduler.job_paused", "f1"),
                                      ("scheduler.job_resumed", "f1"),
                                      ("scheduler.job_paused", "f2")], got)
    got = [(e["type"], e["payload"]["job_id"]) for e in by_job.events(2)]
    check("ws filter: job_id", got == [("scheduler.job_created", "f2"),
                                       ("scheduler.job_paused", "f2")], got)
    got = [e["metadata"]["campaign_id"] for e in by_tenant.events(2)]
    check("ws filter: campaign_id", got == [42, 42], got)
    check("ws filter: nothing else arrives",
          by_job.recv(0.5) is None and by_tenant.recv(0.2) is None)
    for ws in (by_type, by_job, by_tenant):
        ws.close()
    try:
        urllib.request.urlopen(urllib.request.Request(
            d.base + "/v1/events/ws", headers={"Authorization": "Bearer " + TOKEN}), timeout=5)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
    check("ws: a plain GET (no Upgrade) gets 426", code == 426, code)
    status, body = d.call(None, {}, path="/v1/events")
    check("sse: POST gets 405", status == 405 and body.get("code") == "method_not_allowed",
          (status, body))
    big = WebSocket(d.port)
    big.send_frame(0x1, b"x" * 10000)
    big.recv(3)
    check("ws: a client message over 4 KiB is refused with 1009, not buffered",
          big.close_code == 1009 or big.eof, (big.close_code, big.eof))
    big.close()
    check("ws: the daemon still serves after bad client frames",
          d.call("GetJob", {"job_id": "f1"})[0] == 200)
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"GET /v1/events/ws?types=nope HTTP/1.1\r\nHost: x\r\n" + AUTH.encode() +
              b"Upgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    answer = s.recv(4096).decode(errors="replace")
    s.close()
    check("ws filter: an unknown type is a 400 naming the field",
          " 400 " in answer.split("\r\n")[0] and "types: unknown event type 'nope'" in answer,
          answer)


def last_seq(d):
    ws = WebSocket(d.port, "since=0")
    seq = 0
    while True:
        e = ws.recv(0.5)
        if e is None:
            break
        seq = json.loads(e)["metadata"]["seq"]
    ws.close()
    return seq


def test_replay_across_restart(d):
    ws = WebSocket(d.port)
    create(d, "r1")
    first = ws.events(1)
    ws.close()
    seen = first[0]["metadata"]["seq"] if first else 0
    # Events the client misses: some before the restart, some after.
    d.call("PauseJob", {"job_id": "r1"})
    d.call("ResumeJob", {"job_id": "r1"})
    d.stop()
    d.start()
    create(d, "r2")
    d.call("DeleteJob", {"job_id": "r2"})
    ws = WebSocket(d.port, "since=%d" % seen)
    evs = ws.events(4)
    got = [(e["metadata"]["seq"], e["type"].split(".")[1]) for e in evs]
    check("replay: since after a restart gets every missed event, in order, no gap",
          got == [(seen + 1, "job_paused"), (seen + 2, "job_resumed"),
                  (seen + 3, "job_created"), (seen + 4, "job_deleted")], got)
    d.call("PauseJob", {"job_id": "r1"})
    live = ws.events(1)
    check("replay: then the live stream continues",
          live and live[0]["metadata"]["seq"] == seen + 5, live)
    ws.close()


def test_resync(tmp):
    d = Daemon(os.path.join(tmp, "small"), ["--events-max", "5"])
    try:
        create(d, "x")
        for _ in range(10):
            d.call("PauseJob", {"job_id": "x"})
            d.call("ResumeJob", {"job_id": "x"})
        time.sleep(0.2)
        ws = WebSocket(d.port, "since=1")
        text = ws.recv(5)
        answer = json.loads(text) if text else {}
        ws.recv(2)
        check("resync: since older than the log gets a resync answer with the bounds",
              answer.get("type") == "resync" and answer.get("latest_seq") == 21
              and answer.get("oldest_seq", 0) > 2, answer)
        check("resync: then a close with code 4000", ws.close_code == 4000,
              (ws.close_code, ws.close_reason))
        ws.close()
        ws = WebSocket(d.port, "since=999")
        text = ws.recv(5)
        check("resync: since ahead of the log also gets resync",
              text and json.loads(text).get("type") == "resync", text)
        ws.close()
        ws = WebSocket(d.port, "since=%d" % 18)
        got = [e["metadata"]["seq"] for e in ws.events(3)]
        check("resync: a since still in the log replays", got == [19, 20, 21], got)
        ws.close()
    finally:
        d.stop()


def test_sse(d):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    conn.request("GET", "/v1/events?job_id=s1", headers={"Authorization": "Bearer " + TOKEN})
    resp = conn.getresponse()
    check("sse: 200 text/event-stream", resp.status == 200 and
          resp.getheader("Content-Type", "").startswith("text/event-stream"),
          (resp.status, resp.getheaders()))
    create(d, "s1")
    d.call("PauseJob", {"job_id": "s1"})

    def read_events(resp, n):
        out, cur = [], {}
        while len(out) < n:
            line = resp.fp.readline().decode()
            if not line:
                break
            line = line.rstrip("\n")
            if line == "":
                if "data" in cur:
                    out.append(cur)
                cur = {}
            elif not line.startswith(":"):
                k, _, v = line.partition(": ")
                cur[k] = v
        return out
    evs = read_events(resp, 2)
    ok = len(evs) == 2 and evs[0]["event"] == "scheduler.job_created" and \
        json.loads(evs[1]["data"])["type"] == "scheduler.job_paused" and \
        int(evs[1]["id"]) == json.loads(evs[1]["data"])["metadata"]["seq"]
    check("sse: events with id, event and the envelope as data", ok, evs)
    conn.close()
    if len(evs) == 2:
        d.call("ResumeJob", {"job_id": "s1"})
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
        conn.request("GET", "/v1/events?job_id=s1",
                     headers={"Last-Event-ID": evs[0]["id"], "Authorization": "Bearer " + TOKEN})
        resp = conn.getresponse()
        again = read_events(resp, 2)
        check("sse: Last-Event-ID resumes after that event",
              [e["event"] for e in again] == ["scheduler.job_paused", "scheduler.job_resumed"],
              again)
        conn.close()


def server_side_state(server_port, client_port):
    """The TCP state (hex, /proc/net/tcp) of the daemon's end of a connection."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if int(local.split(":")[1], 16) == server_port and \
                    int(remote.split(":")[1], 16) == client_port:
                return state
    return "gone"


FLOOD_JOBS = 1000


def flood(d, rounds, start=0):
    """ROUNDS x FLOOD_JOBS job_updated events through the real API: ApplyJobs
    updates every flood job's labels at once (created by the first call)."""
    jobs = [{"id": "flood-%d" % i, "executor": {"type": "noop"}} for i in range(FLOOD_JOBS)]
    if start == 0:
        status, body = d.call("ApplyJobs", {"creates": jobs})
        if status != 200:
            raise RuntimeError("ApplyJobs creates: %s %s" % (status, body))
    for r in range(start, start + rounds):
        for job in jobs:
            job["labels"] = {"round": str(r)}
        status, body = d.call("ApplyJobs", {"updates": jobs})
        if status != 200:
            raise RuntimeError("ApplyJobs updates: %s %s" % (status, body))
    return start + rounds


def test_slow_client(tmp):
    d = Daemon(os.path.join(tmp, "slow"))
    try:
        slow = WebSocket(d.port, rcvbuf=4096)
        fine = WebSocket(d.port, "job_id=none")
        rss0 = d.rss_kib()
        rounds = flood(d, 10)
        closed = wait_for(lambda: "slow consumer" in d.log_text(), timeout=15)
        check("slow client: closed with a reason (logged)", closed, d.log_text()[-2000:])
        n = 0
        while slow.recv(2) is not None:
            n += 1
        sent = FLOOD_JOBS * (rounds + 1)
        check("slow client: it got a close or EOF, not all %d events" % sent,
              (slow.eof or slow.close_code == 1008) and n < sent, (n, slow.close_code))
        rss1 = d.rss_kib()
        if "/san/" not in BIN:  # ASan's quarantine holds freed memory: RSS says nothing
            check("slow client: the daemon's memory stays bounded (< 64 MiB growth)",
                  rss1 - rss0 < 65536, (rss0, rss1))
        create(d, "after")
        check("slow client: other clients are unaffected", fine.recv(0.5) is None and
              d.call("GetJob", {"job_id": "after"})[0] == 200)
        slow.close()
        fine.close()
        # The same for SSE: a client that does not read is closed, with a reason logged.
        sse = socket.socket()
        sse.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sse.connect(("127.0.0.1", d.port))
        sse.sendall(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n" + AUTH.encode() + b"\r\n")
        time.sleep(0.3)
        flood(d, 40, rounds)
        logged = wait_for(lambda: "closing an SSE subscriber: slow consumer" in d.log_text(),
                          timeout=15)
        check("slow SSE client: closed with a reason (logged)", logged, d.log_text()[-1500:])
        # Without reading: the daemon's side must leave ESTABLISHED by itself.
        mine = sse.getsockname()[1]
        closed = wait_for(lambda: server_side_state(d.port, mine) != "01", timeout=8, step=0.2)
        check("slow SSE client: the daemon closes it even though it never reads", closed,
              server_side_state(d.port, mine))
        sse.close()
    finally:
        d.stop()


def test_admin_token(tmp):
    d = Daemon(os.path.join(tmp, "token"), env={"OVSCHED_ADMIN_TOKEN": "s3cret-0123456789abcdef0123456789"})
    try:
        ws = WebSocket(d.port, headers="")
        check("token: a subscription without the admin token is refused (401)",
              " 401 " in ws.status_line, ws.status_line)
        ws.sock.close()
        ws = WebSocket(d.port, headers="Authorization: Bearer s3cret-0123456789abcdef0123456789\r\n")
        check("token: with it, the upgrade succeeds", "101" in ws.status_line, ws.status_line)
        ws.close()
    finally:
        d.stop()


def test_tenant_stream(tmp):
    """A tenant-bound token sees only its tenant's events, whatever it asks."""
    d = Daemon(os.path.join(tmp, "tenant"))
    try:
        status, reply = d.call("CreateToken", {"name": "t1-viewer", "role": "viewer",
                                               "campaign_id": 1})
        check("tenant: a viewer token bound to tenant 1 is created", status == 200, reply)
        secret = reply.get("secret", "")
        # A browser cannot set headers on a WebSocket: the token rides in the query.
        ws = WebSocket(d.port, query="access_token=" + secret, headers="")
        check("tenant: the bound token subscribes with ?access_token=", "101" in ws.status_line,
              ws.status_line)
        for job_id, tenant in (("t1-a", 1), ("t2-a", 2), ("t1-b", 1)):
            d.call("CreateJob", {"job": {"id": job_id, "campaign_id": tenant}})
        got = [(e["payload"]["job_id"], e["metadata"]["campaign_id"]) for e in ws.events(2)]
        check("tenant: only tenant 1's events arrive", got == [("t1-a", 1), ("t1-b", 1)], got)
        check("tenant: nothing of tenant 2 follows", ws.recv(0.5) is None)
        ws.close()
        ws = WebSocket(d.port, query="access_token=" + secret + "&campaign_id=2", headers="")
        d.call("CreateJob", {"job": {"id": "t2-b", "campaign_id": 2}})
        check("tenant: asking for another tenant's events gets none of them",
              ws.recv(0.8) is None)
        ws.close()
    finally:
        d.stop()


def test_keepalive(tmp):
    d = Daemon(os.path.join(tmp, "ping"), ["--events-ping", "200ms"])
    try:
        alive = WebSocket(d.port)
        mute = WebSocket(d.port)  # never reads, so never answers a ping
        deadline = time.time() + 1.5
        while time.time() < deadline:
            alive.recv(deadline - time.time())
        check("keepalive: the server pings and a client that answers stays",
              alive.pings >= 3 and not alive.eof and alive.close_code is None,
              (alive.pings, alive.eof, alive.close_code))
        time.sleep(0.5)
        gone = False
        deadline = time.time() + 3
        while time.time() < deadline and not gone:
            r, _, _ = select.select([mute.sock], [], [], 0.2)
            if r:
                try:
                    gone = mute.sock.recv(65536) == b""
                except ConnectionResetError:
                    gone = True
        check("keepalive: a client silent for 3 intervals is dropped", gone)
        alive.close()
        mute.sock.close()
    finally:
        d.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    def __init__(self, port, folder):
        self.port, self.folder = port, folder
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._ping(), timeout=10)

    def _ping(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Subscriber:
    """SUBSCRIBE over raw RESP."""

    def __init__(self, port, channel):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(("*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(channel), channel))
                          .encode())
        self.buf = b""
        self.messages = []
        self._read_reply(5)  # the subscribe confirmation

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_reply(self, timeout):
        deadline = time.time() + timeout
        head = self._line(deadline)
        if head is None or not head.startswith(b"*"):
            return None
        items = []
        for _ in range(int(head[1:])):
            h = self._line(deadline)
            if h is None:
                return None
            if h.startswith(b"$"):
                n = int(h[1:])
                while len(self.buf) < n + 2:
                    if not select.select([self.sock], [], [], max(0, deadline - time.time()))[0]:
                        return None
                    self.buf += self.sock.recv(65536)
                items.append(self.buf[:n].decode())
                self.buf = self.buf[n + 2:]
            else:
                items.append(h[1:].decode())
        return items

    def collect(self, count, timeout=10):
        deadline = time.time() + timeout
        while len(self.messages) < count and time.time() < deadline:
            reply = self._read_reply(deadline - time.time())
            if reply and reply[0] == "message":
                self.messages.append(json.loads(reply[2]))
        return self.messages

    def close(self):
        self.sock.close()


def test_redis(tmp):
    port = free_port()
    folder = os.path.join(tmp, "redis")
    os.mkdir(folder)
    redis = Redis(port, folder)
    d = None
    try:
        sub = Subscriber(port, "ovs.test")
        d = Daemon(os.path.join(tmp, "withredis"),
                   ["--redis", "redis://127.0.0.1:%d" % port, "--redis-channel", "ovs.test"])
        wait_for(lambda: "redis 127.0.0.1:%d (--redis): connected" % port in d.log_text(), timeout=10)
        create(d, "rd")
        d.call("PauseJob", {"job_id": "rd"})
        d.call("RunJob", {"job_id": "rd"})
        got = sub.collect(4)
        check("redis: every event is published on the channel, with its envelope",
              [m["type"].split(".")[1] for m in got] ==
              ["job_created", "job_paused", "job_started", "job_completed"],
              [m.get("type") for m in got])
        sub.close()
        before = got[-1]["metadata"]["seq"] if got else 0

        redis.stop()
        for _ in range(3):
            d.call("PauseJob", {"job_id": "rd"})
        status, _ = d.call("ResumeJob", {"job_id": "rd"})
        check("redis down: the API still answers", status == 200, status)
        ws = WebSocket(d.port, "since=%d" % before)
        missed = [e["metadata"]["seq"] for e in ws.events(4)]
        ws.close()
        check("redis down: nothing is lost from the log",
              missed == list(range(before + 1, before + 5)), missed)

        time.sleep(2.5)  # let the reconnect backoff grow past the restart below
        redis.start()
        sub = Subscriber(port, "ovs.test")
        back = wait_for(
            lambda: d.log_text().count("redis 127.0.0.1:%d (--redis): connected" % port) >= 2,
            timeout=15)
        check("redis: the daemon reconnects with backoff", back, d.log_text()[-1500:])
        caught = [m["metadata"]["seq"] for m in sub.collect(4, timeout=5)]
        check("redis: after reconnecting, the events emitted meanwhile are published",
              caught == list(range(before + 1, before + 5)), caught)
        d.call("PauseJob", {"job_id": "rd"})
        live = sub.collect(5, timeout=5)
        check("redis: live events flow again",
              len(live) == 5 and live[-1]["metadata"]["seq"] == before + 5,
              [m["metadata"]["seq"] for m in live])
        sub.close()
    finally:
        if d:
            d.stop()
        redis.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="ovsched-events-")
    d = None
    try:
        d = Daemon(os.path.join(tmp, "data"))
        test_types_and_envelope(d)
        test_filters(d)
        test_sse(d)
        test_replay_across_restart(d)
        d.stop()
        d = None
        test_resync(tmp)
        test_slow_client(tmp)
        test_admin_token(tmp)
        test_tenant_stream(tmp)
        test_keepalive(tmp)
        test_redis(tmp)
    except Exception as e:  # a crash of the harness is a failure, not a silent pass
        check("harness", False, repr(e))
        import traceback
        traceback.print_exc()
    finally:
        if d:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
