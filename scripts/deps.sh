#!/usr/bin/env bash
# Install the Debian packages ovsched builds and tests with, only those missing,
# so `make run` and `make test` work on a fresh Debian 12 machine (as root, or
# through sudo).  Why each is here: docs/dependencies.md.
set -euo pipefail

packages=(
    build-essential pkg-config clang libclang-rt-14-dev
    libglib2.0-dev tzdata libjansson-dev libcmocka-dev
    libuv1-dev libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev
    libsodium-dev
    python3 python3-croniter curl
    libwslay-dev libhiredis-dev redis-server
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
