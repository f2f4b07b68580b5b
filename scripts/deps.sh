#!/usr/bin/env bash
# Install the Debian packages ovsched builds and tests with, only those missing,
# so `make run` and `make test` work on a fresh Debian 12 machine (as root, or
# through sudo).  Why each is here: docs/dependencies.md.
set -euo pipefail

packages=(
    build-essential pkg-config clang libclang-rt-14-dev
    libglib2.0-dev tzdata libjansson-dev libcmocka-dev
    libuv1-dev libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev
    libsodium-dev libpq-dev postgresql
    python3 python3-croniter curl
    passwd util-linux procps
    libwslay-dev libhiredis-dev redis-server
    chromium
    dpkg-dev groff-base zsh
)
# The web UI is built with Node.js and npm (never needed at run time): Debian's
# nodejs and npm only when no node with npm is there already (a NodeSource
# install carries its own npm, which Debian's npm package would conflict with).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core needs Node.js 20 or later; Debian 12's nodejs is 18.  Then
# take Node 20 from the npm registry (the `node` package ships the official
# binaries) and put it first on PATH through /usr/local/bin.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
    echo "deps: node $(node --version 2>/dev/null) is older than 20: installing node@20 from npm"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo npm install --global --no-audit --no-fund --loglevel=error --prefix /usr/local node@20
    hash -r
fi

# The UI's npm packages (esbuild, elkjs, typescript, playwright-core), exactly
# as ui/package-lock.json pins them; again only when the lock file changed.
ui="$(dirname "$0")/../ui"
if [ ! -f "$ui/node_modules/.package-lock.json" ] ||
    [ "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]; then
    echo "deps: npm ci in ui/"
    (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
fi
