#!/bin/sh
# pkg/deb/build.sh - `make deb`: socktrace_VERSION_ARCH.deb with dpkg-deb
# (no debhelper). A build of its own, with Debian's hardening flags and the
# multiarch library directory, so LD_PRELOAD=libsocktrace.so works by name.
set -eu
cd "$(dirname "$0")/../.."
VERSION=${VERSION:?VERSION from the Makefile}
B=${B:-build}
umask 022
for tool in dpkg-deb dpkg-architecture dpkg-shlibdeps dpkg-parsechangelog dpkg-buildflags strip; do
    command -v "$tool" >/dev/null || {
        echo "socktrace: make deb needs $tool; install with: apt-get install dpkg-dev binutils" >&2
        exit 1
    }
done
P=pkg/deb
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
changes_version=$(dpkg-parsechangelog -l $P/changelog -S Version)
if [ "$changes_version" != "$VERSION" ]; then
    echo "socktrace: $P/changelog is at $changes_version, the Makefile at $VERSION: add an entry" >&2
    exit 1
fi
maintainer=$(dpkg-parsechangelog -l $P/changelog -S Maintainer)
# file times from the changelog's entry, so two builds give the same package
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l $P/changelog -S Timestamp)
export SOURCE_DATE_EPOCH

work=$B/deb
root=$work/root
doc=$root/usr/share/doc/socktrace
rm -rf "$work"
mkdir -p "$work"
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get LDFLAGS)"
make -s --no-print-directory B="$work/build" DEPS_INC="$PWD/$B/deps/usr/include" \
    PREFIX=/usr LIBDIR="/usr/lib/$multiarch" DESTDIR="$PWD/$root" CFLAGS="$cflags" install

lib=$root/usr/lib/$multiarch/libsocktrace.so
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/socktrace"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$lib"
chmod 644 "$lib"
gzip -9n "$root"/usr/share/man/man*/*
mkdir -p "$doc/examples" "$root/usr/share/lintian/overrides"
cp README.md "$doc/"
cp -r examples/fleet "$doc/examples/"
gzip -9nc $P/changelog >"$doc/changelog.gz"
cp $P/copyright "$doc/"
cp $P/lintian-overrides "$root/usr/share/lintian/overrides/socktrace"
find "$root" -type d -exec chmod 755 {} +
find "$root/usr/share" -type f -exec chmod 644 {} +

# control: Depends from the libraries the two ELF files link (libc6)
mkdir -p "$work/src/debian" "$root/DEBIAN"
printf 'Source: socktrace\n\nPackage: socktrace\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O -e"$PWD/../root/usr/bin/socktrace" -e"$PWD/../root/usr/lib/$multiarch/libsocktrace.so" |
          sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --apparent-size "$root/usr" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$arch/" -e "s/@MAINTAINER@/$maintainer/" \
    -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" $P/control.in >"$root/DEBIAN/control"
cp $P/triggers "$root/DEBIAN/triggers"
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root"/DEBIAN/*
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb=$B/socktrace_${VERSION}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
