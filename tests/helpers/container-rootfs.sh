#!/bin/sh
# container-rootfs.sh SUITE TARBALL - a minbase Debian root file system for
# the container test, as a tarball (podman imports it; no registry). Kept
# in build/ so a second `make test` does not download it again.
set -eu
suite=$1 out=$2
[ -s "$out" ] && exit 0
# the mirror this machine's apt uses (deb822 "URIs:" or a one-line "deb")
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -n -E 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' |
    grep -v -- '-security' | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
work=$(mktemp -d "${out%/*}/rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase "$suite" "$work/root" "$mirror" >"$work.log" 2>&1 ||
    { echo "debootstrap $suite from $mirror failed:" >&2; tail -n 3 "$work.log" >&2; rm -f "$work.log"; exit 1; }
rm -f "$work.log"
# apt's caches are not needed in the image
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
tar -C "$work/root" -cf "$out.part" . && mv "$out.part" "$out"
