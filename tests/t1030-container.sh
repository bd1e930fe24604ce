#!/usr/bin/env bash
# A real container: a minbase Debian bullseye (glibc 2.31, older than the
# build machine's) made with debootstrap, imported into podman from a
# tarball (no registry), a server inside traced with the library mounted
# read-only from the host, viewed from the host with `socktrace -d`. The
# table must equal the server's own getsockname/getpeername and the host's
# ss -p (--network=host and --pid=host: the host sees its sockets and pids).
# The rootfs tarball is kept in build/container/ for the next run.
. "$(dirname "$0")/lib.sh"
SUITE=bullseye
IMAGE=socktrace-test:$SUITE
TAR=$B/container/debian-$SUITE-rootfs.tar
give_up() { skip "$1"; done_testing; exit 0; }
[ "$(id -u)" = 0 ] || give_up "needs root (debootstrap, podman with --pid=host)"
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || give_up "debootstrap missing (tests/deps.sh test installs it as root)"
command -v podman >/dev/null || give_up "podman missing (tests/deps.sh test installs it as root)"
PATH=$PATH:/usr/sbin

mkdir -p "$B/container"
if [ ! -s "$TAR" ]; then
    echo "# building the $SUITE rootfs with debootstrap (about a minute, once)"
    "$ROOT/tests/helpers/container-rootfs.sh" "$SUITE" "$TAR" 2>"$T/rootfs.err" ||
        give_up "no $SUITE rootfs: $(tr '\n' ' ' <"$T/rootfs.err")"
fi
if ! podman image exists "$IMAGE" || [ "$TAR" -nt "$B/container/$SUITE.imported" ]; then
    podman import -q "$TAR" "$IMAGE" >"$T/import.out" 2>&1 ||
        give_up "podman import failed: $(tail -n1 "$T/import.out")"
    touch "$B/container/$SUITE.imported"
fi

# How podman can start a container here. Its defaults raise RLIMIT_NOFILE
# and RLIMIT_NPROC, which fails without CAP_SYS_RESOURCE; crun refuses a
# hybrid cgroup hierarchy with a controller on the v2 side, where runc
# works. The first way that runs `true` is kept.
lim=(--ulimit "nofile=$(ulimit -n):$(ulimit -Hn)" --ulimit nproc=4096:4096)
PODMAN=()
for way in "" "lim" "runc lim"; do
    try=(podman)
    [[ $way == *runc* ]] && { command -v runc >/dev/null || continue; try+=(--runtime runc); }
    try+=(run --rm --network=host --pid=host)
    [[ $way == *lim* ]] && try+=("${lim[@]}")
    if "${try[@]}" "$IMAGE" true >"$T/probe.out" 2>&1; then PODMAN=("${try[@]}"); break; fi
    reason=$(tail -n1 "$T/probe.out")
done
[ ${#PODMAN[@]} -gt 0 ] || give_up "podman cannot start a container here: $reason"
echo "# podman: ${PODMAN[*]}"

check "the image's glibc is bullseye's 2.31 (the library was built with $(ldd --version | sed -n '1s/.* //p'))" \
    "2.31" "$("${PODMAN[@]}" "$IMAGE" ldd --version | sed -n '1s/.* //p')"

# a server, a client connecting without bind, the accepted socket: perl
# (in minbase) prints each as it sees it, the way the examples do
TD=$T/ctraces
mkdir -m 700 "$TD"
start srv "${PODMAN[@]}" -i -v "$B:/st:ro" -e LD_PRELOAD=/st/libsocktrace.so \
    -v "$TD:/traces" -e SOCKTRACE_DIR=/traces "$IMAGE" perl -e '
use IO::Socket::INET; use Socket;
$| = 1;
my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0) or die "listen: $@";
my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $l->sockport) or die "connect: $@";
my $a = $l->accept or die "accept: $!";
sub addr { my $p = shift or return "-"; my ($port, $ip) = unpack_sockaddr_in($p);
           return $port ? inet_ntoa($ip) . ":" . $port : "-" }
for ([listener => $l], [client => $c], [accepted => $a]) {
    my ($what, $s) = @$_;
    printf "SOCK pid=%d fd=%d local=%s peer=%s what=%s\n", $$, fileno($s),
        addr(getsockname($s)), addr(getpeername($s)), $what;
}
print "READY pid=$$\n";
<STDIN>;'
pid=$(ready_pid srv)
own=$(own_view srv)
view() { # PID: "fd local peer" from the host's viewer on the mounted directory
    "$SOCKTRACE" -d "$TD" show "$1" --json | python3 -c '
import json, sys
for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"]):
    print(s["fd"], s["local"] or "-", s["peer"] or "-")'
}
check "the server inside printed its three sockets" "3" "$(grep -c . <<<"$own")"
check "a trace file for the container's process, written through the mount" "1" \
    "$(find "$TD" -name "$pid-*.trace" | wc -l)"
check "socktrace -d (host): table equals the server's own view" "$own" "$(view "$pid")"
check "socktrace -d (host): table equals the host's ss -p" "$(kernel_view "$pid")" "$(view "$pid")"
check "the client's port was chosen by the kernel" "True" \
    "$("$SOCKTRACE" -d "$TD" show "$pid" --json | python3 -c '
import json, sys
print([s for s in json.load(sys.stdin)["sockets"] if s["fd"] == int(sys.argv[1])][0]["port_chosen_by_kernel"])' \
        "$(said srv | sed -n 's/^SOCK .* fd=\([0-9]*\) .*what=client/\1/p')")"
# the static musl viewer runs in any image: inside this one, on the same files
if [ -x "$B/socktrace-musl" ]; then
    check "socktrace-musl inside the container reads the same table" \
        "$("$SOCKTRACE" -d "$TD" show "$pid")" \
        "$("${PODMAN[@]}" -v "$B:/st:ro" -v "$TD:/traces" "$IMAGE" /st/socktrace-musl -d /traces show "$pid")"
else
    skip "socktrace-musl not built (make musl)"
fi
finish srv
check "the container's process ended: its table shows it exited" "exited" \
    "$("$SOCKTRACE" -d "$TD" ps --json | python3 -c '
import json, sys
d = json.load(sys.stdin); d = d["processes"] if isinstance(d, dict) else d
print([p["state"] for p in d if p["pid"] == int(sys.argv[1])][0])' "$pid")"

# the same server in the container's own pid namespace (podman's default):
# it is pid 1 there; the host's viewer maps the trace to the host pid
# podman reports, and shows both
PODMAN_NS=()
for a in "${PODMAN[@]}"; do [ "$a" = --pid=host ] || PODMAN_NS+=("$a"); done
name=socktrace-t1030-$$
start nsrv "${PODMAN_NS[@]}" -i --name "$name" -v "$B:/st:ro" -e LD_PRELOAD=/st/libsocktrace.so \
    -v "$TD:/traces" -e SOCKTRACE_DIR=/traces "$IMAGE" perl -e '
use IO::Socket::INET; use Socket;
$| = 1;
my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0) or die "listen: $@";
my ($port, $ip) = unpack_sockaddr_in(getsockname($l));
printf "SOCK pid=%d fd=%d local=%s:%d peer=- what=listener\n", $$, fileno($l), inet_ntoa($ip), $port;
print "READY pid=$$\n";
<STDIN>;'
inner=$(ready_pid nsrv)
host=$(podman inspect --format '{{.State.Pid}}' "$name" 2>/dev/null)
check "in its own pid namespace the server is pid 1; podman names its host pid" "1 yes" \
    "$inner $([ -n "$host" ] && [ "$host" != 1 ] && echo yes)"
check "  ... show by the host pid: pid is the host's, ns_pid the container's" "$host 1" \
    "$("$SOCKTRACE" -d "$TD" show "$host" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["pid"], d["ns_pid"])')"
check "  ... its table equals the server's own view and the host's ss -p for the host pid" \
    "$(own_view nsrv) | $(own_view nsrv)" "$(view "$host") | $(kernel_view "$host")"
check "  ... --verify by the host pid: exit 0" "0" "$(status "$SOCKTRACE" -d "$TD" show "$host" --verify)"
finish nsrv
done_testing
