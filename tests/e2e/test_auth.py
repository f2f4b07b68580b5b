#!/usr/bin/env python3
"""End to end: security and operability of the real `ovsched serve` binary.
Prints one PASS:/FAIL: line per check.  Usage: test_auth.py [path/to/ovsched]

Covers: the route x role x tenant matrix (every RPC route, each role, a token
bound to tenant 1 acting on its own tenant's job and on tenant 2's, no token,
malformed, unknown, wrong-secret and revoked tokens), shell jobs for admins
only, the generated admin token (file mode 0600, its path printed, never the
token), no token plaintext anywhere in the data folder (database, WAL, shm),
the audit log (before and after, filters), /metrics parsed as Prometheus text,
/openapi.json listing every route of src/api/api.c, /healthz and /readyz,
JSON and text logs, READY=1 and STOPPING=1 on $NOTIFY_SOCKET.
"""
import json
import os
import re
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgserver  # noqa: E402  OVSCHED_TEST_STORE=postgres: each data folder gets a database

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ovsched")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RPC = "/scheduler.v1.SchedulerService/"
failures = 0
T32 = "t" * 32  # the shortest OVSCHED_ADMIN_TOKEN accepted
NONE = object()  # no Authorization header at all


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
        self.env = dict(os.environ)
        self.env.pop("OVSCHED_ADMIN_TOKEN", None)
        self.env.pop("NOTIFY_SOCKET", None)
        self.env.update(env or {})
        self.errpath = data + ".stderr"
        self.err = open(self.errpath, "w")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--data", data]
            + pgserver.store_args(data) + list(args),
            stdout=subprocess.PIPE, stderr=self.err, env=self.env, text=True)
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            self.stop()
            raise RuntimeError("daemon did not start: " + line + self.stderr())
        self.stdout_line = line
        self.base = line.split("listening on ")[1].split()[0]
        self.token = None

    def stderr(self):
        with open(self.errpath) as f:
            return f.read()

    def get(self, path):
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read().decode()

    def call(self, method, body=None, token=None):
        token = self.token if token is None else token
        req = urllib.request.Request(self.base + RPC + method,
                                     data=json.dumps(body or {}).encode(), method="POST")
        req.add_header("Content-Type", "application/json")
        if token is not NONE:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
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
        self.err.close()
        return self.proc.returncode


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def route_names():
    """The RPC methods of api.c's route table, read from the source."""
    with open(os.path.join(ROOT, "src/api/api.c")) as f:
        text = f.read()
    table = text[text.index("} routes[] = {"):]
    table = table[:table.index("};")]
    return re.findall(r'\{"(\w+)",\s*\w+,\s*(?:true|false)\}', table)


# ---- the generated admin token ------------------------------------------------------


def test_bootstrap(tmp):
    data = os.path.join(tmp, "boot")
    d = Daemon(data)
    try:
        path = os.path.join(data, "admin-token")
        check("without OVSCHED_ADMIN_TOKEN an admin token file is generated",
              os.path.isfile(path), os.listdir(data))
        mode = stat.S_IMODE(os.stat(path).st_mode)
        check("the admin token file has mode 0600", mode == 0o600, oct(mode))
        with open(path) as f:
            token = f.read().strip()
        err = d.stderr()
        check("the daemon prints the admin token's path on stderr", path in err, err)
        check("the daemon never prints the admin token itself",
              token not in err and token not in d.stdout_line, err)
        status, body = d.call("ListJobs", {}, token=token)
        check("the generated admin token is accepted", status == 200, body)
        status, body = d.call("ListJobs", {}, token=NONE)
        check("auth is mandatory: no token is 401", status == 401
              and body.get("code") == "unauthenticated", body)
    finally:
        d.stop()
    d = Daemon(data)
    try:
        with open(path) as f:
            again = f.read().strip()
        check("a restart keeps the admin token (no new one)", again == token)
        check("a restart prints the path again", path in d.stderr(), d.stderr())
        status, _ = d.call("ListJobs", {}, token=token)
        check("the admin token still works after a restart", status == 200, status)
    finally:
        d.stop()
    return token


def test_env_token(tmp):
    data = os.path.join(tmp, "env")
    d = Daemon(data, {"OVSCHED_ADMIN_TOKEN": "env-s3cret-value-0123456789abcdef"})
    try:
        check("with OVSCHED_ADMIN_TOKEN no token file is written",
              not os.path.exists(os.path.join(data, "admin-token")), os.listdir(data))
        status, body = d.call("CreateJob", {"job": {"id": "e", "executor": {
            "type": "shell", "command": ["true"]}}}, token="env-s3cret-value-0123456789abcdef")
        check("OVSCHED_ADMIN_TOKEN is an admin token (creates a shell job)", status == 200, body)
        status, body = d.call("ListJobs", {}, token="env-s3cret-value-0123456789abcdeX")
        check("a near miss of OVSCHED_ADMIN_TOKEN is 401", status == 401, body)
        status, body = d.call("RevokeToken", {"token_id": "env-admin"}, token="env-s3cret-value-0123456789abcdef")
        check("OVSCHED_ADMIN_TOKEN cannot be revoked through the API", status == 400, body)
    finally:
        d.stop()
    leaked = []
    for name in os.listdir(data):
        with open(os.path.join(data, name), "rb") as f:
            if b"env-s3cret-value-0123456789abcdef" in f.read():
                leaked.append(name)
    check("OVSCHED_ADMIN_TOKEN is stored nowhere in the data folder", not leaked, leaked)


# ---- the matrix ------------------------------------------------------------------------

ROLES = ("viewer", "operator", "admin")
RANK = {"viewer": 1, "operator": 2, "admin": 3}
NEED = {"CreateJob": "operator", "UpdateJob": "operator", "DeleteJob": "operator",
        "GetJob": "viewer", "ListJobs": "viewer", "RunJob": "operator",
        "ListJobRuns": "viewer", "GetJobStatus": "viewer", "PauseJob": "operator",
        "ResumeJob": "operator", "PreviewSchedule": "viewer", "CreateToken": "admin",
        "ListTokens": "admin", "RevokeToken": "admin", "ListAuditLog": "admin",
        "GetJobsDirStatus": "viewer", "GetJobGraph": "viewer", "ApplyJobs": "operator",
        "ListJobDecisions": "viewer", "WhoAmI": "viewer",
        "RegisterPattern": "operator", "ListPatterns": "viewer", "GetPattern": "viewer",
        "DeletePattern": "operator", "TriggerJobFromOrchestration": "operator",
        "GetFlowStatus": "viewer", "CompleteRun": "operator", "PublishEvent": "operator"}
# Routes over every tenant's data at once: refused to tenant-bound tokens.
TENANT_DENIED = {"GetJobsDirStatus", "GetJobGraph", "ApplyJobs",
                 # patterns belong to no tenant; flows and events may span tenants
                 "RegisterPattern", "ListPatterns", "GetPattern", "DeletePattern",
                 "TriggerJobFromOrchestration", "GetFlowStatus", "CompleteRun", "PublishEvent"}


class World:
    """A daemon with an unbound admin and tokens of every role bound to
    tenant 1 (and one of tenant 2), plus a job factory."""

    def __init__(self, d):
        self.d = d
        self.secrets = []
        self.n = 0
        self.tokens = {}
        self.ids = {}
        for role in ROLES:
            self.tokens[role], self.ids[role] = self.make_token("t1-" + role, role, 1)
        self.tokens["other-admin"], self.ids["other-admin"] = self.make_token("t2-admin", "admin", 2)
        for role in ("viewer", "operator"):
            self.tokens["any-" + role], _ = self.make_token("any-" + role, role)

    def make_token(self, name, role, campaign=None):
        body = {"name": name, "role": role}
        if campaign is not None:
            body["campaign_id"] = campaign
        status, reply = self.d.call("CreateToken", body)
        if status != 200:
            raise RuntimeError("CreateToken: %s %s" % (status, reply))
        self.secrets.append(reply["secret"])
        return reply["secret"], reply["token"]["id"]

    def job(self, campaign, shell=False):
        self.n += 1
        job_id = "job-%d-%d" % (campaign, self.n)
        ex = {"type": "shell", "command": ["true"]} if shell else {"type": "noop"}
        status, body = self.d.call("CreateJob", {"job": {"id": job_id, "campaign_id": campaign,
                                                          "executor": ex}})
        if status != 200:
            raise RuntimeError("CreateJob: %s %s" % (status, body))
        return job_id

    def request(self, method, campaign):
        """A body for METHOD acting on a fresh job (or token) of CAMPAIGN."""
        if method == "CreateJob":
            self.n += 1
            return {"job": {"id": "new-%d" % self.n, "campaign_id": campaign,
                            "executor": {"type": "noop"}}}
        if method == "UpdateJob":
            return {"job": {"id": self.job(campaign), "campaign_id": campaign,
                            "labels": {"changed": "yes"}}}
        if method in ("DeleteJob", "GetJob", "RunJob", "ListJobRuns", "GetJobStatus",
                      "PauseJob", "ResumeJob", "ListJobDecisions"):
            return {"job_id": self.job(campaign)}
        if method == "ListJobs":
            return {"campaign_id": campaign}
        if method == "PreviewSchedule":
            return {"cron": "0 9 * * *", "count": 2}
        if method == "CreateToken":
            return {"name": "made", "role": "viewer", "campaign_id": campaign}
        if method in ("ListTokens", "ListAuditLog", "GetJobsDirStatus", "GetJobGraph", "WhoAmI"):
            return {}
        if method == "ApplyJobs":
            self.n += 1
            return {"creates": [{"id": "applied-%d" % self.n, "campaign_id": campaign,
                                 "executor": {"type": "noop"}}]}
        if method == "RevokeToken":
            _, token_id = self.make_token("victim", "viewer", campaign)
            return {"token_id": token_id}
        return self.pattern_request(method, campaign)

    def pattern_request(self, method, campaign):
        """Bodies for the pattern and orchestration routes (docs/patterns.md)."""
        self.n += 1
        pattern = {"pattern_id": "pat-%d" % self.n, "template": {"executor": {"type": "noop"}}}
        if method == "RegisterPattern":
            return {"pattern": pattern}
        if method in ("GetPattern", "DeletePattern"):
            self.d.call("RegisterPattern", {"pattern": pattern})
            return {"pattern_id": pattern["pattern_id"]}
        if method == "ListPatterns":
            return {}
        if method == "TriggerJobFromOrchestration":
            return {"job_id": self.job(campaign)}
        if method == "GetFlowStatus":
            flow = "flow-%d" % self.n
            self.d.call("TriggerJobFromOrchestration",
                        {"job_id": self.job(campaign), "orchestration": {"correlation_id": flow}})
            return {"correlation_id": flow}
        if method == "CompleteRun":
            job_id = "await-%d" % self.n
            self.d.call("CreateJob", {"job": {"id": job_id, "campaign_id": campaign, "executor": {
                "type": "event", "event_type": "auth.work", "await_completion": True}}})
            status, body = self.d.call("RunJob", {"job_id": job_id})
            return {"run_id": body["run"]["id"], "status": "COMPLETED"}
        if method == "PublishEvent":
            return {"type": "auth.test", "payload": {}}
        raise KeyError(method)


def expected(method, role, own):
    if RANK[role] < RANK[NEED[method]] or method in TENANT_DENIED:
        return 403
    if own or method in ("PreviewSchedule", "ListTokens", "ListAuditLog", "WhoAmI"):
        return 200
    if method in ("CreateJob", "ListJobs", "CreateToken"):
        return 403  # naming another tenant in a write or a list
    return 404      # another tenant's job or token does not exist for you


def test_whoami(w):
    status, reply = w.d.call("WhoAmI", {}, token=w.tokens["viewer"])
    check("WhoAmI names the caller's role and tenant, never its secret",
          status == 200 and reply.get("role") == "viewer" and reply.get("campaign_id") == 1
          and "secret" not in reply and w.tokens["viewer"] not in json.dumps(reply), reply)
    status, reply = w.d.call("WhoAmI", {})
    check("WhoAmI of the unbound admin: every tenant", status == 200
          and reply.get("role") == "admin" and reply.get("campaign_id") is None, reply)


def test_matrix(w):
    routes = [name for name in route_names() if name in NEED]
    unknown = [name for name in route_names() if name not in NEED]
    check("the matrix knows every route of api.c (add new ones to NEED and World.request)",
          not unknown, unknown)
    for method in unknown:
        # What holds for any route: a token is needed, and a tenant-bound token
        # is refused until the route is reviewed for tenants (docs/security.md).
        status, reply = w.d.call(method, {}, token=NONE)
        check("%s without a token: 401" % method, status == 401, reply)
        status, reply = w.d.call(method, {}, token=w.tokens["admin"])
        check("%s by a tenant-bound token before review: 403" % method, status == 403, reply)
    for method in routes:
        for role in ROLES:
            for own in (True, False):
                body = w.request(method, 1 if own else 2)
                status, reply = w.d.call(method, body, token=w.tokens[role])
                want = expected(method, role, own)
                check("%s by a tenant-1 %s on %s tenant: %d" % (
                    method, role, "its own" if own else "another", want),
                    status == want, (status, reply))
        status, reply = w.d.call(method, w.request(method, 2))
        check("%s by the unbound admin on any tenant: 200" % method, status == 200, reply)
        for role in ("viewer", "operator"):
            want = 403 if RANK[role] < RANK[NEED[method]] else 200
            status, reply = w.d.call(method, w.request(method, 2), token=w.tokens["any-" + role])
            check("%s by an unbound %s on any tenant: %d" % (method, role, want),
                  status == want, (status, reply))
        status, reply = w.d.call(method, w.request(method, 1), token=NONE)
        check("%s without a token: 401" % method, status == 401, reply)
        status, reply = w.d.call(method, w.request(method, 1), token="not-a-token")
        check("%s with a malformed token: 401" % method, status == 401, reply)


def test_tenant_views(w):
    mine, theirs = w.job(1), w.job(2)
    status, body = w.d.call("ListJobs", {"page_size": 1000}, token=w.tokens["viewer"])
    ids = {j["id"] for j in body.get("jobs", [])}
    check("ListJobs of a tenant-1 token lists tenant 1 only", status == 200 and mine in ids
          and theirs not in ids and all(j["campaign_id"] == 1 for j in body["jobs"]), body)
    status, body = w.d.call("GetJob", {"job_id": theirs}, token=w.tokens["admin"])
    status2, body2 = w.d.call("GetJob", {"job_id": "no-such-job"}, token=w.tokens["admin"])
    check("another tenant's job answers exactly like a missing one (404, not_found)",
          status == status2 == 404 and body["code"] == body2["code"] == "not_found", (body, body2))
    status, body = w.d.call("CreateJob", {"job": {"id": "defaulted", "executor": {
        "type": "noop"}}}, token=w.tokens["operator"])
    check("a tenant token's job without campaign_id lands in its tenant", status == 200
          and body["job"]["campaign_id"] == 1, body)
    status, body = w.d.call("UpdateJob", {"job": {"id": mine, "campaign_id": 2}},
                            token=w.tokens["operator"])
    check("a tenant token cannot move its job to another tenant (403)", status == 403, body)
    status, body = w.d.call("ListTokens", {}, token=w.tokens["admin"])
    check("a tenant admin lists only its tenant's tokens", status == 200 and body["tokens"]
          and all(t["campaign_id"] == 1 for t in body["tokens"]), body)
    status, body = w.d.call("ListAuditLog", {"page_size": 1000}, token=w.tokens["admin"])
    check("a tenant admin reads only its tenant's audit entries", status == 200
          and body["entries"] and all(e["campaign_id"] == 1 for e in body["entries"]), body)


def test_shell_rules(w):
    shell = {"type": "shell", "command": ["true"]}
    status, body = w.d.call("CreateJob", {"job": {"id": "op-shell", "executor": shell}},
                            token=w.tokens["operator"])
    check("an operator creating a shell job: 403", status == 403
          and body.get("code") == "permission_denied" and "shell" in body.get("message", ""), body)
    existing = w.job(1, shell=True)
    status, body = w.d.call("UpdateJob", {"job": {"id": existing, "executor": {"type": "noop"}}},
                            token=w.tokens["operator"])
    check("an operator changing an admin's shell job: 403", status == 403, body)
    status, body = w.d.call("DeleteJob", {"job_id": existing}, token=w.tokens["operator"])
    check("an operator deleting a shell job: 403", status == 403, body)
    # ApplyJobs (open to operators bound to no tenant) holds to the same rule.
    for request in ({"updates": [{"id": existing, "executor": {"type": "noop"}}]},
                    {"deletes": [existing]}):
        status, body = w.d.call("ApplyJobs", request, token=w.tokens["any-operator"])
        check("an operator changing a shell job through ApplyJobs %s: 403" % list(request)[0],
              status == 403 and "shell" in body.get("message", ""), body)
    status, body = w.d.call("GetJob", {"job_id": existing})
    check("the shell job is unchanged after the refused ApplyJobs",
          status == 200 and body["job"]["executor"]["type"] == "shell", body)
    status, body = w.d.call("RunJob", {"job_id": existing}, token=w.tokens["operator"])
    check("an operator may trigger an admin's shell job", status == 200, body)
    status, body = w.d.call("CreateJob", {"job": {"id": "adm-shell", "campaign_id": 1,
                                                  "executor": shell}}, token=w.tokens["admin"])
    check("an admin creates a shell job", status == 200, body)


def test_bad_tokens(w):
    secret, token_id = w.make_token("short-lived", "operator", 1)
    status, _ = w.d.call("ListJobs", {}, token=secret)
    check("a new token works at once", status == 200, status)
    wrong_secret = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    status, body = w.d.call("ListJobs", {}, token=wrong_secret)
    check("the right id with a wrong secret: 401", status == 401, body)
    status, body = w.d.call("ListJobs", {}, token="ovs_0123456789abcdef_" + "x" * 43)
    check("a well-formed token of no id: 401", status == 401, body)
    status, body = w.d.call("RevokeToken", {"token_id": token_id})
    check("RevokeToken answers the token with revoked_at", status == 200
          and body["token"]["revoked_at"], body)
    status, body = w.d.call("ListJobs", {}, token=secret)
    check("a revoked token: 401", status == 401 and "revoked" in body.get("message", ""), body)
    status, body = w.d.call("ListTokens", {})
    listed = [t for t in body.get("tokens", []) if t["id"] == token_id]
    check("ListTokens shows the revoked token, never a secret or hash", listed
          and listed[0]["revoked_at"] and "secret" not in json.dumps(body)
          and secret not in json.dumps(body) and "hash" not in listed[0], body)
    status, body = w.d.call("CreateToken", {"name": "x", "role": "root"})
    check("CreateToken with a bad role names the field (400)", status == 400
          and body["message"].startswith("role"), body)


def test_audit(w):
    job_id = w.job(1)
    status, body = w.d.call("UpdateJob", {"job": {"id": job_id, "campaign_id": 1, "labels": {
        "v": "2"}}}, token=w.tokens["operator"])
    check("UpdateJob by an operator", status == 200, body)
    status, body = w.d.call("ListAuditLog", {"job_id": job_id})
    entries = body.get("entries", [])
    update = [e for e in entries if e["action"] == "UpdateJob"]
    create = [e for e in entries if e["action"] == "CreateJob"]
    check("the audit log has the create and the update of the job", status == 200
          and update and create, body)
    if update and create:
        e = update[0]
        check("the update's entry names its actor (token id and name)",
              e["actor"]["id"] == w.ids["operator"] and e["actor"]["name"] == "t1-operator", e)
        check("the update's entry has before (version 1) and after (version 2, new labels)",
              e["before"]["version"] == 1 and e["after"]["version"] == 2
              and e["after"]["labels"] == {"v": "2"} and "labels" not in e["before"], e)
        check("the create's entry has no before", create[0]["before"] is None
              and create[0]["after"]["id"] == job_id, create[0])
        check("audit entries carry a time", re.match(r"\d{4}-\d\d-\d\dT", e["at"] or ""), e)
    w.d.call("DeleteJob", {"job_id": job_id})
    status, body = w.d.call("ListAuditLog", {"job_id": job_id, "page_size": 1})
    check("the delete's entry has before and no after, newest first, paged",
          status == 200 and len(body["entries"]) == 1 and body["total_count"] == 3
          and body["entries"][0]["action"] == "DeleteJob"
          and body["entries"][0]["after"] is None and body["entries"][0]["before"]["id"] == job_id,
          body)
    status, body = w.d.call("ListAuditLog", {"actor": "t1-operator", "page_size": 1000})
    check("the audit log filters by actor", status == 200 and body["entries"]
          and all(e["actor"]["name"] == "t1-operator" for e in body["entries"]), body)
    status, body = w.d.call("ListAuditLog", {"since": "2999-01-01T00:00:00Z"})
    check("the audit log filters by time", status == 200 and body["entries"] == [], body)
    status, body = w.d.call("ListAuditLog", {"since": "yesterday"})
    check("a bad since names the field (400)", status == 400
          and body["message"].startswith("since"), body)
    run_job = w.job(1)
    w.d.call("RunJob", {"job_id": run_job}, token=w.tokens["operator"])
    status, body = w.d.call("ListAuditLog", {"job_id": run_job})
    runs = [e for e in body.get("entries", []) if e["action"] == "RunJob"]
    check("RunJob is audited with the run as after, in the job's tenant",
          runs and runs[0]["after"]["run"]["job_id"] == run_job
          and runs[0]["campaign_id"] == 1, body)
    status, body = w.d.call("GetJob", {"job_id": "nope"}, token=w.tokens["viewer"])
    status, body = w.d.call("ListAuditLog", {"actor": "t1-viewer"})
    check("reads and refused calls leave no audit entry", body.get("entries") == [], body)
    status, body = w.d.call("ListAuditLog", {"target": w.ids["viewer"]})
    check("CreateToken is audited without the secret", body.get("entries")
          and all(s not in json.dumps(body) for s in w.secrets), body)


def test_no_plaintext(w, data, extra):
    """No secret appears in any file of the data folder but admin-token."""
    w.d.call("ListJobs", {})  # touch the store once more
    secrets = [s.encode() for s in w.secrets + extra]
    found = []
    for name in os.listdir(data):
        if name == "admin-token":
            continue
        with open(os.path.join(data, name), "rb") as f:
            blob = f.read()
        for s in secrets:
            # the whole token, and its secret part alone (base64url: may hold '_')
            if s in blob or s.split(b"_", 2)[2] in blob:
                found.append(name)
    names = sorted(os.listdir(data))
    if pgserver.store_args(data):
        # The store is a PostgreSQL database: search all of it, as pg_dump
        # writes it, and the server's own files (its WAL, its tables).
        dump = pgserver.dump_database(data)
        for s in secrets:
            if s in dump or s.split(b"_", 2)[2] in dump:
                found.append("pg_dump")
        found += pgserver.files_holding(secrets)
        check("the search covers the PostgreSQL database (its dump has the tokens table)",
              b"CREATE TABLE public.tokens" in dump, dump[:200])
    else:
        check("the data folder has the database and its WAL (the search covers them)",
              "ovsched.db" in names and "ovsched.db-wal" in names, names)
    check("no token secret in plain text in the database, WAL or any other file",
          not found and len(secrets) >= 5
          and all(len(s.split(b"_", 2)[2]) == 43 for s in secrets), (found, len(secrets)))


def test_cli_tokens(w):
    """`ovsched token ...` (the CLI client) against the real daemon."""
    def cli(*args, token=None):
        env = dict(os.environ, OVSCHED_SERVER=w.d.base, OVSCHED_TOKEN=token or w.d.token)
        p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=20,
                           env=env)
        return p.returncode, p.stdout, p.stderr
    rc, out, err = cli("token", "create", "--name", "cli-made", "--role", "viewer",
                       "--campaign", "1", "--json")
    try:
        made = json.loads(out)
    except ValueError:
        check("ovsched token create --json answers the token and its secret", False, (rc, out, err))
        return
    w.secrets.append(made.get("secret", ""))
    check("ovsched token create --json answers the token and its secret", rc == 0
          and made["secret"].startswith("ovs_") and made["token"]["campaign_id"] == 1, made)
    rc, out, err = cli("job", "list", token=made["secret"])
    check("the CLI works with the token it created (viewer)", rc == 0, (rc, err))
    rc, out, err = cli("token", "list")
    check("ovsched token list shows it, without its secret", rc == 0 and "cli-made" in out
          and made["secret"] not in out, out)
    rc, out, err = cli("token", "revoke", made["token"]["id"])
    check("ovsched token revoke", rc == 0, (rc, out, err))
    rc, out, err = cli("job", "list", token=made["secret"])
    check("the CLI with a revoked token fails with unauthenticated", rc != 0
          and "unauthenticated" in err, (rc, err))


# ---- operability ------------------------------------------------------------------------


def parse_metrics(text):
    samples = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$', line)
        if not m:
            raise ValueError("not Prometheus text: " + line)
        samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return types, samples


def test_metrics(w):
    job = w.job(1)
    status, body = w.d.call("CreateJob", {"job": {"id": "every-second", "metadata": {
        "scheduling": {"cron": "* * * * * *"}}}})
    w.d.call("RunJob", {"job_id": job})

    def scrape():
        status, ctype, text = w.d.get("/metrics")
        return status, ctype, text, parse_metrics(text)

    def ready():
        _, _, _, (_, s) = scrape()
        return (s.get(("ovsched_schedule_lag_seconds_count", ""), 0) >= 2
                and s.get(("ovsched_runs_total", '{status="COMPLETED"}'), 0) >= 2)
    wait_for(ready, 8)
    w.d.call("DeleteJob", {"job_id": "every-second"})
    try:
        status, ctype, text, (types, samples) = scrape()
    except ValueError as e:
        check("/metrics is Prometheus text", False, e)
        return
    check("/metrics answers 200 text/plain 0.0.4 without a token", status == 200
          and ctype.startswith("text/plain") and "0.0.4" in ctype, ctype)
    want = {"ovsched_schedule_lag_seconds": "histogram", "ovsched_runs_total": "counter",
            "ovsched_runs_in_flight": "gauge", "ovsched_runs_queued": "gauge",
            "ovsched_events_emitted_total": "counter",
            "ovsched_websocket_clients": "gauge", "ovsched_store_latency_seconds": "histogram",
            "ovsched_jobs": "gauge"}
    check("/metrics has every metric with its type", all(types.get(k) == v for k, v in
                                                          want.items()), types)
    check("every metric name is prefixed ovsched_", all(k.startswith("ovsched_") for k in types))
    check("scheduled runs feed the schedule lag histogram",
          samples.get(("ovsched_schedule_lag_seconds_count", ""), 0) >= 2, text)
    buckets = [(k[1], v) for k, v in samples.items() if k[0] == "ovsched_schedule_lag_seconds_bucket"]
    values = [v for _, v in buckets]
    check("histogram buckets are cumulative and end at +Inf = count",
          values == sorted(values) and buckets[-1][0] == '{le="+Inf"}'
          and buckets[-1][1] == samples[("ovsched_schedule_lag_seconds_count", "")], buckets)
    check("finished runs are counted by status",
          samples.get(("ovsched_runs_total", '{status="COMPLETED"}'), 0) >= 2, text)
    check("store commits feed the store latency histogram",
          samples.get(("ovsched_store_latency_seconds_count", ""), 0) >= 1, text)
    _, body = w.d.call("ListJobs", {"status": "ACTIVE", "page_size": 1})
    check("ovsched_jobs{status} counts the store's jobs",
          samples.get(("ovsched_jobs", '{status="ACTIVE"}')) == body["total_count"],
          (samples.get(("ovsched_jobs", '{status="ACTIVE"}')), body.get("total_count")))


def test_openapi_and_health(w):
    status, ctype, text = w.d.get("/openapi.json")
    try:
        doc = json.loads(text)
    except ValueError:
        check("/openapi.json is JSON", False, text[:200])
        return
    check("/openapi.json is an OpenAPI 3 document, served without a token",
          status == 200 and doc.get("openapi", "").startswith("3.") and "paths" in doc, text[:200])
    names = route_names()
    missing = [n for n in names if RPC + n not in doc["paths"]]
    check("/openapi.json lists every route of api.c (%d)" % len(names), names and not missing,
          missing)
    plain = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/events", "/v1/events/ws"]
    check("/openapi.json lists the plain routes", all(p in doc["paths"] for p in plain),
          list(doc["paths"]))
    op = doc["paths"].get(RPC + "CreateJob", {}).get("post", {})
    check("an RPC route has a request and a response schema",
          "requestBody" in op and "200" in op.get("responses", {}), op)
    refs = re.findall(r'"#/components/schemas/(\w+)"', text)
    check("every schema reference resolves", refs and all(
        r in doc["components"]["schemas"] for r in refs), refs)
    status, _, text = w.d.get("/healthz")
    check("/healthz: 200 without a token", status == 200, text)
    status, _, text = w.d.get("/readyz")
    check("/readyz: 200 ready without a token", status == 200 and "ready" in text, text)


def test_logs(w, tmp):
    lines = [l for l in w.d.stderr().splitlines() if l.strip()]
    bad = []
    for line in lines:
        try:
            obj = json.loads(line)
            if not all(k in obj for k in ("ts", "level", "msg")):
                bad.append(line)
        except ValueError:
            bad.append(line)
    check("by default every stderr line is a JSON object with ts, level, msg",
          lines and not bad, bad[:3])
    refused = [json.loads(l) for l in lines if l not in bad and "refused" in l]
    check("refused requests (401, 403) are logged as warnings with method and status",
          any(r["level"] == "warn" and r.get("fields", {}).get("status") == "401"
              for r in refused)
          and any(r.get("fields", {}).get("status") == "403" for r in refused), refused[:3])
    leaked = [s for s in w.secrets if s in w.d.stderr() or s.split("_", 2)[2] in w.d.stderr()]
    check("no token secret appears in the logs", not leaked, leaked)
    data = os.path.join(tmp, "textlog")
    d = Daemon(data, {"OVSCHED_ADMIN_TOKEN": T32}, ["--log-format", "text"])
    d.stop()
    text = [l for l in d.stderr().splitlines() if l.strip()]
    check("--log-format text writes time=... level=... lines",
          text and all(l.startswith("time=") and " level=" in l for l in text), text[:3])
    bad = subprocess.run([BIN, "serve", "--log-format", "xml", "--data",
                          os.path.join(tmp, "x")], capture_output=True, text=True, timeout=10)
    check("an unknown --log-format is refused with the usage", bad.returncode == 2
          and "--log-format" in bad.stderr, bad.stderr)


def test_jobs_dir_audit(tmp):
    """Writes by the watched job folder (`serve --jobs-dir`) are audited too."""
    jobs = os.path.join(tmp, "jobs")
    os.mkdir(jobs)
    path = os.path.join(jobs, "folder-job.json")
    with open(path, "w") as f:
        json.dump({"job": {"metadata": {"scheduling": {"cron": "0 1 * * *"}}}}, f)
    d = Daemon(os.path.join(tmp, "jobsdir"), {"OVSCHED_ADMIN_TOKEN": T32}, ["--jobs-dir", jobs])
    d.token = T32
    try:
        def entries():
            status, body = d.call("ListAuditLog", {"actor": "jobs-dir"})
            return body.get("entries", []) if status == 200 else []
        created = wait_for(lambda: [e for e in entries() if e["action"] == "CreateJob"], 5)
        check("a job created by the job folder is audited (actor jobs-dir, the file, after)",
              created and created[0]["target"] == "folder-job"
              and created[0]["actor"]["name"].endswith("folder-job.json")
              and created[0]["before"] is None and created[0]["after"]["id"] == "folder-job",
              created)
        os.unlink(path)
        deleted = wait_for(lambda: [e for e in entries() if e["action"] == "DeleteJob"], 5)
        check("a job deleted by the job folder is audited with before",
              deleted and deleted[0]["before"]["id"] == "folder-job"
              and deleted[0]["after"] is None, deleted)
    finally:
        d.stop()


def test_notify(tmp):
    path = os.path.join(tmp, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    d = Daemon(os.path.join(tmp, "notify"), {"NOTIFY_SOCKET": path,
                                             "OVSCHED_ADMIN_TOKEN": T32})
    try:
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            msg = ""
        check("READY=1 reaches $NOTIFY_SOCKET once the daemon listens",
              "READY=1" in msg.splitlines() and "STATUS=listening" in msg, msg)
        d.proc.send_signal(signal.SIGTERM)
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            msg = ""
        check("SIGTERM sends STOPPING=1", "STOPPING=1" in msg, msg)
    finally:
        d.stop()
        sock.close()
    unit = os.path.join(ROOT, "packaging", "ovsched.service")
    text = open(unit).read() if os.path.exists(unit) else ""
    check("packaging/ovsched.service is Type=notify", "Type=notify" in text
          and "ExecStart=" in text, unit)


def main():
    if not os.path.exists(BIN):
        check("binary exists", False, BIN)
        return 1
    tmp = tempfile.mkdtemp(prefix="ovsched-auth-")
    try:
        admin = test_bootstrap(tmp)
        setup_tests = [test_env_token, test_notify]
        if "--jobs-dir" in subprocess.run([BIN, "serve", "--nope"], capture_output=True,
                                          text=True, timeout=10).stderr:
            setup_tests.append(test_jobs_dir_audit)
        for test in setup_tests:
            try:
                test(tmp)
            except Exception as e:
                check(test.__name__ + " ran", False, repr(e))
        data = os.path.join(tmp, "boot")
        d = Daemon(data)
        d.token = admin
        try:
            w = World(d)
            tests = [test_matrix, test_whoami, test_tenant_views, test_shell_rules, test_bad_tokens,
                     test_audit, test_metrics, test_openapi_and_health]
            has_cli = subprocess.run([BIN, "token"], capture_output=True, text=True,
                                     timeout=10).returncode == 2
            if has_cli:
                tests.append(test_cli_tokens)
            else:
                print("SKIP: the CLI's token commands (no `ovsched token` in this build)")
            for test in tests:
                try:
                    test(w)
                except Exception as e:
                    check(test.__name__ + " ran", False, repr(e))
            test_no_plaintext(w, data, [admin])
            test_logs(w, tmp)
        finally:
            code = d.stop()
            check("SIGTERM stops the daemon cleanly (exit 0)", code == 0, code)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
