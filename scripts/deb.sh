#!/usr/bin/env bash
# scripts/deb.sh ROOT VERSION OUT.deb: turn the staged install in ROOT (`make
# install DESTDIR=ROOT PREFIX=/usr`, done by `make deb`) into a Debian package
# with dpkg-deb.  Adds DEBIAN/: control (packaging/debian/control.in with the
# version, architecture, size and the shared libraries' packages from
# dpkg-shlibdeps), conffiles, md5sums and the maintainer scripts.
set -euo pipefail
root=$(cd "$1" && pwd) version=$2 out=$(realpath -m "$3")
here=$(cd "$(dirname "$0")/.." && pwd)
arch=$(dpkg --print-architecture)

# Debian keeps man pages compressed, without a timestamp (-n), and binaries
# stripped.
gzip -9nf "$root/usr/share/man/man1/ovsched.1"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/ovsched"

# The library packages the binary links, as dpkg-shlibdeps sees them; it
# wants a debian/control in the folder it runs in.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
printf 'Source: ovsched\n\nPackage: ovsched\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O "$root/usr/bin/ovsched" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "deb.sh: dpkg-shlibdeps found no libraries" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" \
    -e "s|@DEPENDS@|$depends|" "$here/packaging/debian/control.in" >"$root/DEBIAN/control"
# Files under /etc are the admin's: dpkg asks before replacing a changed one.
(cd "$root" && find etc -type f | sed 's|^|/|') >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$here/packaging/debian/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
# The settings file keeps its mode 0600 in the package.
dpkg-deb --root-owner-group --build "$root" "$out" >/dev/null
echo "deb: $out"
