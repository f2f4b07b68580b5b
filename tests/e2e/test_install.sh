#!/usr/bin/env bash
# End to end: ovsched installed as users install daemons on Debian
# (docs/building.md).  `make install` into a temporary DESTDIR, the installed
# daemon started from there (ephemeral port, temporary data folder) serving
# its web UI; an install under a PREFIX whose binary, moved away, still finds
# its UI; and `make deb` checked with dpkg-deb --info/--contents.  The binary
# given as $1 says which build (build/san/ovsched: the sanitizer one; the
# package is made from the normal build only).  Prints one PASS:/FAIL: line
# per check.
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/ovsched}
san=0
case "$bin" in *san/*) san=1 ;; esac
# This runs under `make check`: its jobserver is not ours.
unset MAKEFLAGS MFLAGS MAKELEVEL
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { printf 'FAIL: %s\n  %s\n' "$1" "$2"; }
check() { # check NAME COMMAND...: passes when COMMAND succeeds
    local name=$1
    shift
    if "$@" >"$tmp/check.out" 2>&1; then pass "$name"; else fail "$name" "$(head -c 1500 "$tmp/check.out")"; fi
}

# serve BINARY NAME: start it on an ephemeral port with a temporary data
# folder, from another working directory (so no relative path helps); sets
# $url.
serve() {
    local data="$tmp/data-$2"
    env -C / OVSCHED_ADMIN_TOKEN=install-test-0123456789abcdef0123456789 "$1" serve --listen 127.0.0.1:0 --data "$data" \
        >"$tmp/$2.out" 2>"$tmp/$2.err" &
    pid=$!
    url=
    for _ in $(seq 1 150); do
        url=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/$2.out" 2>/dev/null | head -n 1)
        [ -n "$url" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}
stop() {
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    local rc=$?
    pid=
    return $rc
}
ui_index_served() { # the index page and its script, from the installed files
    curl -fsS "$url/" >"$tmp/index.html" || return 1
    grep -q '<div id="app">' "$tmp/index.html" || return 1
    local js
    js=$(grep -o '/assets/app-[^"]*\.js' "$tmp/index.html") || return 1
    curl -fsS -o /dev/null "$url$js"
}

# ---- make install DESTDIR=... (PREFIX=/usr/local) ---------------------------------
dest="$tmp/dest"
if make --no-print-directory install DESTDIR="$dest" SAN="$san" >"$tmp/install.log" 2>&1; then
    pass "make install DESTDIR=$dest"
else
    fail "make install DESTDIR=..." "$(tail -n 20 "$tmp/install.log")"
fi
p="$dest/usr/local"
for f in bin/ovsched share/ovsched/ui/index.html share/ovsched/ui/favicon.svg \
    share/man/man1/ovsched.1 share/doc/ovsched/README.md share/doc/ovsched/docs/cli.md \
    lib/systemd/system/ovsched.service share/bash-completion/completions/ovsched \
    share/zsh/site-functions/_ovsched; do
    check "installed: \$PREFIX/$f" test -s "$p/$f"
done
check "installed: the UI's hashed assets, without source maps" \
    sh -c "ls '$p/share/ovsched/ui/assets/' | grep -q '^app-.*\.js$' && ! ls '$p/share/ovsched/ui/assets/' | grep -q '\.map$'"
check "installed: /etc/ovsched/env, root only (0600)" test "$(stat -c %a "$dest/etc/ovsched/env")" = 600
check "installed unit: ExecStart is the installed binary, the settings file its EnvironmentFile" \
    grep -q '^ExecStart=/usr/local/bin/ovsched serve .*\$OVSCHED_OPTS$' "$p/lib/systemd/system/ovsched.service"
check "installed unit: EnvironmentFile=-/etc/ovsched/env" \
    grep -qx 'EnvironmentFile=-/etc/ovsched/env' "$p/lib/systemd/system/ovsched.service"
check "installed man page: the binary's own (help --man)" \
    sh -c "'$p/bin/ovsched' help --man | cmp -s - '$p/share/man/man1/ovsched.1'"
check "installed binary: --version is the VERSION file's" \
    test "$("$p/bin/ovsched" --version)" = "ovsched $(cat VERSION)"
echo "OVSCHED_OPTS=--max-in-flight 4" >>"$dest/etc/ovsched/env"
make --no-print-directory install DESTDIR="$dest" SAN="$san" >"$tmp/install2.log" 2>&1
check "a second install keeps the admin's /etc/ovsched/env" grep -q 'max-in-flight 4' "$dest/etc/ovsched/env"

if serve "$p/bin/ovsched" destdir; then
    check "the daemon installed under DESTDIR serves the UI's index page and script" ui_index_served
    check "... and /favicon.ico" curl -fsS -o /dev/null "$url/favicon.ico"
    check "the installed daemon stops cleanly" stop
else
    fail "the daemon installed under DESTDIR starts" "$(cat "$tmp/destdir.out" "$tmp/destdir.err")"
fi

# ---- a PREFIX install, the binary moved away: the compiled-in UI folder -----------
prefix="$tmp/prefix"
make --no-print-directory install PREFIX="$prefix" SYSCONFDIR="$prefix/etc" SAN="$san" \
    >"$tmp/install3.log" 2>&1
mkdir -p "$tmp/elsewhere" && cp "$prefix/bin/ovsched" "$tmp/elsewhere/ovsched"
if serve "$tmp/elsewhere/ovsched" moved; then
    check "a binary moved out of PREFIX still finds \$PREFIX/share/ovsched/ui" ui_index_served
    stop
else
    fail "the moved binary starts" "$(cat "$tmp/moved.out" "$tmp/moved.err")"
fi

# ---- make deb ------------------------------------------------------------------------
[ "$san" = 1 ] && exit 0 # the package holds the normal build
if make --no-print-directory deb >"$tmp/deb.log" 2>&1; then
    pass "make deb"
else
    fail "make deb" "$(tail -n 20 "$tmp/deb.log")"
fi
deb=build/deb/ovsched_$(cat VERSION)_$(dpkg --print-architecture).deb
dpkg-deb --info "$deb" >"$tmp/info" 2>&1
dpkg-deb --contents "$deb" >"$tmp/contents" 2>&1
check "dpkg-deb --info: package ovsched at the VERSION file's version" \
    grep -qx " Version: $(cat VERSION)" "$tmp/info"
check "dpkg-deb --info: it depends on the libraries it links (libuv1, libsqlite3-0, libmicrohttpd12, libwslay1)" \
    sh -c "grep '^ Depends:' '$tmp/info' | grep -q libuv1 && grep '^ Depends:' '$tmp/info' | grep -q libsqlite3-0 && grep '^ Depends:' '$tmp/info' | grep -q libmicrohttpd12 && grep '^ Depends:' '$tmp/info' | grep -q libwslay1"
for f in ./usr/bin/ovsched ./usr/share/ovsched/ui/index.html ./usr/share/ovsched/ui/favicon.svg \
    ./lib/systemd/system/ovsched.service ./usr/share/man/man1/ovsched.1.gz \
    ./usr/share/doc/ovsched/README.md ./usr/share/bash-completion/completions/ovsched \
    ./usr/share/zsh/vendor-completions/_ovsched; do
    check "dpkg-deb --contents: $f" grep -q " $f\$" "$tmp/contents"
done
check "dpkg-deb --contents: /etc/ovsched/env, mode 0600, owned by root" \
    grep -Eq '^-rw------- root/root .* ./etc/ovsched/env$' "$tmp/contents"
check "dpkg-deb --contents: nothing under /usr/local or the build tree" \
    sh -c "! grep -Eq '/usr/local|/build/' '$tmp/contents'"
x="$tmp/x"
mkdir -p "$x" && dpkg-deb --control "$deb" "$x/DEBIAN" && dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$x"
check "the package's conffiles: /etc/ovsched/env" test "$(cat "$x/DEBIAN/conffiles")" = /etc/ovsched/env
check "the packaged unit runs /usr/bin/ovsched (jobs as ovsched-job) with /etc/ovsched/env" \
    sh -c "grep -q '^ExecStart=/usr/bin/ovsched serve .*--run-as ovsched-job \$OVSCHED_OPTS$' '$x/lib/systemd/system/ovsched.service' && grep -qx 'EnvironmentFile=-/etc/ovsched/env' '$x/lib/systemd/system/ovsched.service'"
for s in postinst prerm postrm; do
    check "maintainer script $s: executable, and sh parses it" sh -c "test -x '$x/DEBIAN/$s' && sh -n '$x/DEBIAN/$s'"
done
check "postinst: creates the system users ovsched (the daemon) and ovsched-job (its shell jobs)" \
    sh -c "tr -d '\\\\\n' <'$x/DEBIAN/postinst' | grep -q 'useradd --system .*--home-dir /var/lib/ovsched .* ovsched *fi' && tr -d '\\\\\n' <'$x/DEBIAN/postinst' | grep -q 'useradd --system .*--home-dir /var/lib/ovsched-job .* ovsched-job *fi'"
check "postinst: enables the unit and does not start it" \
    sh -c "grep -q \"deb-systemd-helper enable 'ovsched.service'\" '$x/DEBIAN/postinst' && ! grep -Eq 'deb-systemd-invoke (start|restart)|systemctl (start|restart)' '$x/DEBIAN/postinst'"
check "prerm: stops the service on remove" grep -q "deb-systemd-invoke stop 'ovsched.service'" "$x/DEBIAN/prerm"
check "md5sums cover every packaged file" \
    sh -c "cd '$x' && md5sum --quiet -c DEBIAN/md5sums && test \$(wc -l <DEBIAN/md5sums) -eq \$(find . -path ./DEBIAN -prune -o -type f -print | wc -l)"
check "the packaged binary finds its packaged UI (/usr/bin/../share/ovsched/ui)" \
    sh -c "strings '$x/usr/bin/ovsched' | grep -qx /usr/share/ovsched/ui"
if serve "$x/usr/bin/ovsched" packaged; then
    check "the packaged daemon, unpacked, serves its UI" ui_index_served
    stop
else
    fail "the packaged daemon starts" "$(cat "$tmp/packaged.out" "$tmp/packaged.err")"
fi
