#!/bin/sh
# tests/deps.sh - what the build (`deps.sh build`) and the tests (`deps.sh
# test`) need, called by the Makefile. As root on Debian it installs what is
# missing; otherwise it names the packages and the command in one line.
set -eu
cd "$(dirname "$0")/.."
mode=${1:-build}
CC=${CC:-cc}
B=${B:-build}
# the uthash header unpacked without root (the Makefile adds -I for it)
DEPS_INC=$B/deps/usr/include

have_header() { # HEADER: the compiler finds it, with build/deps too
    printf '#include <%s>\n' "$1" | $CC -I"$DEPS_INC" -E -x c - -o /dev/null 2>/dev/null
}
is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }

apt_install() { # PACKAGE...: as root, quietly
    echo "socktrace: installing $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    # a fresh machine has no package lists yet
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "$@" >"$B/deps/apt.log" 2>&1 ||
        { echo "socktrace: apt-get install $* failed, see $B/deps/apt.log" >&2; return 1; }
}

# unpack_uthash: no root needed, the header is all the build uses
unpack_uthash() {
    is_debian || return 1
    (cd "$B/deps" && apt-get download uthash-dev >/dev/null 2>&1) || return 1
    dpkg-deb -x "$B"/deps/uthash-dev_*.deb "$B/deps" && have_header uthash.h
}

mkdir -p "$B/deps"
need="" need_test=""
command -v "$CC" >/dev/null || need="$need gcc"
if ! have_header uthash.h && ! { ! is_root && unpack_uthash; }; then need="$need uthash-dev"; fi
if [ "$mode" = test ]; then
    t() { need_test="$need_test $1"; }
    command -v ss >/dev/null || t iproute2
    command -v python3 >/dev/null || t python3
    # the JSON schema test validates with Debian's python3 (not one earlier on PATH)
    /usr/bin/python3 -c 'import jsonschema' 2>/dev/null || t python3-jsonschema
    command -v pgrep >/dev/null || t procps
    command -v setpriv >/dev/null || t util-linux
    $CC -print-file-name=libasan.so 2>/dev/null | grep -q / || t libasan8
    # the real programs the tests trace
    command -v curl >/dev/null || t curl
    command -v strace >/dev/null || t strace          # the kernel's view of a connect's span (t0620)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || t nginx-light
    command -v socat >/dev/null || t socat
    command -v dot >/dev/null || t graphviz         # graph's DOT, parsed by dot
    [ -x /bin/nc.openbsd ] || t netcat-openbsd
    # the fuzz test (clang's libFuzzer), the package test, the fleet test
    command -v clang >/dev/null || t clang
    command -v dpkg-shlibdeps >/dev/null || t dpkg-dev
    command -v lintian >/dev/null || t lintian
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || t postgresql
    # the exec test's static program (gcc -static), the Go (cgo) client
    [ -f "$(gcc -print-file-name=libc.a 2>/dev/null)" ] || t libc6-dev
    command -v go >/dev/null || t golang-go
    # runtimes that close through syscall(2) or dup2 (t0470-t0490)
    command -v node >/dev/null || command -v nodejs >/dev/null || t nodejs
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import uvloop' 2>/dev/null || t python3-uvloop
    command -v javac >/dev/null || t default-jdk-headless
    # the musl build (t1020); the container test (t1030) needs root, and
    # podman and debootstrap are large: only where they can be used
    command -v musl-gcc >/dev/null || t musl-tools
    # a daemon that starts each session with a raw clone (t0950) and sets
    # RLIMIT_AS in it (t0940)
    [ -x /usr/sbin/vsftpd ] || t vsftpd
    if is_root; then
        command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || t debootstrap
        command -v podman >/dev/null || t podman
        # crun refuses a hybrid cgroup hierarchy (t1030 then uses runc)
        command -v runc >/dev/null || t runc
    fi
fi

if [ -n "$need$need_test" ] && is_root && is_debian; then
    # a test program that cannot be installed only makes its test skip
    # shellcheck disable=SC2086
    apt_install $need $need_test || { [ -z "$need" ] || exit 1; }
    need="" need_test=""
fi
# libFuzzer's runtime is only a recommendation of clang's package
if [ "$mode" = test ] && command -v clang >/dev/null &&
   [ ! -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
    rt=libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev
    if is_root && is_debian; then apt_install "$rt" || true; else need_test="$need_test $rt"; fi
fi
[ -z "$need$need_test" ] && exit 0

sudo=""; is_root || sudo="sudo "
how="${sudo}apt-get install$need$need_test"
is_debian || how="your system's packages for:$need$need_test"
if [ -n "$need" ]; then
    echo "socktrace: cannot build, missing:$need; install with: $how" >&2
    exit 1
fi
echo "socktrace: the tests that need these will skip:$need_test; install with: $how" >&2
