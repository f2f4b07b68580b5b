#!/usr/bin/env python3
"""pgserver - a throwaway PostgreSQL server for tests and benches.

One place that knows how to start Debian's PostgreSQL (15) for ovsched's
tests: `initdb` into a fresh temporary folder, the server run as the
`postgres` system user when we are root (the server refuses to run as
root), listening on 127.0.0.1 on a free port and on a unix socket in the
temporary folder, stopped and removed at the end.

The port: PostgreSQL cannot be told to pick one (port 0 is refused), and
binding a port to find a free one and then releasing it races with every
other process on the machine.  So the server is started on a random port of
the ephemeral range and, when it fails because that port is taken ("Address
already in use" in its log), started again on another one.

Authentication: unix socket connections are trusted; TCP connections to
127.0.0.1 need the password (scram-sha-256), so a test that passes a URL with
a password exercises the redaction of passwords in logs.

As a module (the e2e harness, `OVSCHED_TEST_STORE=postgres`):

    with pgserver.start() as pg:          # or pg = pgserver.start(); pg.stop()
        url = pg.create_database("t1")    # postgres://postgres:PASSWORD@127.0.0.1:PORT/t1
        ...

As a command (tests/run-all.sh, the C unit tests, the benches):

    pgserver.py start [--fsync] [--dir PARENT]   prints shell lines:
        OVSCHED_TEST_PG_DIR=...  (the folder to pass to stop and restart)
        OVSCHED_TEST_PG_URL=...  (a URL of the `postgres` database, with password)
    pgserver.py stop DIR          stop the server (fast, then immediate) and remove DIR
    pgserver.py restart DIR [--immediate]   restart it on the same port (a crash with
                                  --immediate: no checkpoint, recovery from the WAL)
    pgserver.py pause DIR / resume DIR      stop it (keeping DIR), start it again
    pgserver.py createdb DIR NAME print the URL of a new, empty database NAME
    pgserver.py dropdb DIR NAME

Tests run the server with fsync=off (a test's server does not outlive an OS
crash; every acknowledged commit still survives a server crash, since the WAL
is written before the commit returns); benches pass --fsync for the real
figure.
"""
import glob
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

PASSWORD_FILE = "password"
PORT_FILE = "port"


def bindir():
    """The server's binaries: $OVSCHED_PG_BINDIR, else Debian's layout
    /usr/lib/postgresql/<major>/bin (highest major), else PATH."""
    env = os.environ.get("OVSCHED_PG_BINDIR")
    if env:
        return env
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError("PostgreSQL server binaries not found: install the postgresql package "
                       "(make deps) or set OVSCHED_PG_BINDIR")


def _as_server_user(argv):
    """ARGV run as the postgres system user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + argv
    return argv


def _run(argv, **kw):
    return subprocess.run(_as_server_user(argv), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw)


class Server:
    """A running server in DIR (created by start(), or found again by path)."""

    def __init__(self, folder):
        self.dir = folder
        self.data = os.path.join(folder, "data")
        self.log = os.path.join(folder, "server.log")
        with open(os.path.join(folder, PASSWORD_FILE)) as f:
            self.password = f.read().strip()
        with open(os.path.join(folder, PORT_FILE)) as f:
            self.port = int(f.read().strip())
        self.bin = bindir()

    def url(self, dbname="postgres"):
        """TCP to 127.0.0.1 with the password."""
        return "postgres://postgres:%s@127.0.0.1:%d/%s" % (self.password, self.port, dbname)

    def socket_url(self, dbname="postgres"):
        """The unix socket in the server's folder (trusted, no password)."""
        return "postgresql:///%s?host=%s&port=%d&user=postgres" % (dbname, self.dir, self.port)

    def psql(self, sql, dbname="postgres"):
        out = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                              "-At", "-d", self.socket_url(dbname), "-c", sql],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if out.returncode != 0:
            raise RuntimeError("psql %r: %s" % (sql, out.stderr.strip()))
        return out.stdout

    def create_database(self, name):
        """A new empty database NAME (dropped first if it exists); its URL."""
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        self.psql('CREATE DATABASE "%s"' % name)
        return self.url(name)

    def drop_database(self, name):
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)

    def restart(self, immediate=False):
        """Stop (a crash with IMMEDIATE) and start again on the same port."""
        mode = "immediate" if immediate else "fast"
        _run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"])
        if not _pg_ctl_start(self, self.port):
            raise RuntimeError("PostgreSQL did not start again:\n" + _tail(self.log))

    def pause(self):
        """Stop the server, keeping its folder (resume() starts it again)."""
        _run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"])

    def resume(self):
        if not _pg_ctl_start(self, self.port):
            raise RuntimeError("PostgreSQL did not start again:\n" + _tail(self.log))

    def stop(self):
        """Stop the server and remove its folder; safe to call twice."""
        if os.path.isdir(self.data):
            pg_ctl = os.path.join(self.bin, "pg_ctl")
            r = _run([pg_ctl, "-D", self.data, "-m", "fast", "-w", "-t", "20", "stop"])
            if r.returncode != 0 and os.path.exists(os.path.join(self.data, "postmaster.pid")):
                _run([pg_ctl, "-D", self.data, "-m", "immediate", "-w", "-t", "20", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _tail(path, lines=30):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _pg_ctl_start(server, port):
    """Start SERVER on PORT; False when the port was taken (or it failed)."""
    with open(server.log, "a") as f:
        f.write("---- start on port %d\n" % port)
    if os.geteuid() == 0:
        shutil.chown(server.log, "postgres", "postgres")
    opts = "-p %d" % port
    r = _run([os.path.join(server.bin, "pg_ctl"), "-D", server.data, "-l", server.log,
              "-o", opts, "-w", "-t", "60", "start"])
    if r.returncode != 0:
        with open(server.log, "a") as f:
            f.write(r.stdout)
    return r.returncode == 0


def start(fsync=False, parent=None):
    """Initialise and start a server in a new temporary folder under PARENT
    (default: the system's temporary folder); returns a Server."""
    binaries = bindir()
    folder = tempfile.mkdtemp(prefix="ovsched-pg-", dir=parent)
    try:
        os.chmod(folder, 0o700)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        password = secrets.token_hex(12)
        pwfile = os.path.join(folder, PASSWORD_FILE)
        with open(pwfile, "w") as f:
            f.write(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        with open(os.path.join(folder, PORT_FILE), "w") as f:
            f.write("0\n")
        r = _run([os.path.join(binaries, "initdb"), "-D", os.path.join(folder, "data"),
                  "-U", "postgres", "--pwfile", pwfile, "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                  "--no-instructions"])
        if r.returncode != 0:
            raise RuntimeError("initdb failed:\n" + r.stdout)
        with open(os.path.join(folder, "data", "postgresql.conf"), "a") as f:
            f.write("listen_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '%s'\n"
                    "fsync = %s\n"
                    "full_page_writes = %s\n"
                    "max_connections = 200\n"
                    "log_min_messages = warning\n"
                    "log_line_prefix = '%%m [%%p] '\n" %
                    (folder, "on" if fsync else "off", "on" if fsync else "off"))
        server = Server(folder)
        rng = random.Random()
        for _ in range(30):
            port = rng.randint(20000, 60999)
            if _pg_ctl_start(server, port):
                server.port = port
                with open(os.path.join(folder, PORT_FILE), "w") as f:
                    f.write("%d\n" % port)
                return server
            log = _tail(server.log, 10)
            if "already in use" not in log and "could not create any TCP/IP sockets" not in log:
                raise RuntimeError("PostgreSQL did not start:\n" + _tail(server.log))
        raise RuntimeError("PostgreSQL found no free port in 30 tries")
    except BaseException:
        _run([os.path.join(binaries, "pg_ctl"), "-D", os.path.join(folder, "data"), "-m",
              "immediate", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
        raise


_shared = {"server": None, "databases": {}}


def _shared_server():
    """The server of this test process: the one tests/run-all.sh started
    (OVSCHED_TEST_PG_DIR), else one started now and stopped at exit."""
    if _shared["server"] is None:
        folder = os.environ.get("OVSCHED_TEST_PG_DIR")
        if folder:
            _shared["server"] = Server(folder)
        else:
            import atexit
            _shared["server"] = start()
            atexit.register(_shared["server"].stop)
    return _shared["server"]


def store_args(data_dir):
    """The `ovsched serve` arguments that put the store of DATA_DIR where
    OVSCHED_TEST_STORE says: [] for sqlite (the default), else
    ["--store", URL] of a database of its own, created on first use and the
    same for every later start with DATA_DIR (a restart finds its data)."""
    if os.environ.get("OVSCHED_TEST_STORE", "sqlite") != "postgres":
        return []
    key = os.path.abspath(data_dir)
    url = _shared["databases"].get(key)
    if url is None:
        import hashlib
        name = "e2e_%d_%s" % (os.getpid(), hashlib.sha1(key.encode()).hexdigest()[:12])
        url = _shared_server().create_database(name)
        _shared["databases"][key] = url
    return ["--store", url]


def dump_database(data_dir):
    """pg_dump (plain SQL) of the database store_args(DATA_DIR) gave."""
    url = _shared["databases"][os.path.abspath(data_dir)]
    server = _shared_server()
    name = url.rsplit("/", 1)[1]
    out = subprocess.run([os.path.join(server.bin, "pg_dump"), "-d", server.socket_url(name)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if out.returncode != 0:
        raise RuntimeError("pg_dump: " + out.stderr.decode(errors="replace"))
    return out.stdout


def files_holding(needles):
    """Names of the server's files (relative to its folder) holding any of
    NEEDLES (bytes) or the part after their second '_': the WAL and the
    tables, as a disk would show them."""
    server = _shared_server()
    found = []
    for root, _, files in os.walk(server.data):
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    blob = f.read()
            except OSError:
                continue
            for s in needles:
                if s in blob or s.split(b"_", 2)[-1] in blob:
                    found.append(os.path.relpath(path, server.dir))
                    break
    return found


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "start":
        fsync = "--fsync" in argv
        parent = argv[argv.index("--dir") + 1] if "--dir" in argv else None
        server = start(fsync=fsync, parent=parent)
        print("OVSCHED_TEST_PG_DIR=%s" % server.dir)
        print("OVSCHED_TEST_PG_URL=%s" % server.url())
        return 0
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    if cmd == "stop":
        if os.path.isfile(os.path.join(argv[2], PORT_FILE)):
            Server(argv[2]).stop()
        return 0
    server = Server(argv[2])
    if cmd == "restart":
        server.restart(immediate="--immediate" in argv)
    elif cmd == "pause":
        server.pause()
    elif cmd == "resume":
        server.resume()
    elif cmd == "createdb" and len(argv) > 3:
        print(server.create_database(argv[3]))
    elif cmd == "dropdb" and len(argv) > 3:
        server.drop_database(argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
