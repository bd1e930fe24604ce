#!/usr/bin/env bash
# The musl build (make musl): programs linked with musl-gcc at test time,
# traced with libsocktrace-musl.so. Each table must equal the program's own
# getsockname/getpeername and the kernel's view (ss -p); the static musl
# viewer must read the same table; and the glibc-only hooks must be gone
# from the musl library (and still in the glibc one).
. "$(dirname "$0")/lib.sh"
command -v musl-gcc >/dev/null || { skip "musl-gcc missing (Debian: musl-tools; tests/deps.sh test installs it as root)"; done_testing; exit; }
if ! make -s -C "$ROOT" B="$B" musl >"$T/make.log" 2>&1; then
    not_ok "make musl"; sed 's/^/#   /' "$T/make.log"; done_testing; exit
fi
MLIB=$B/libsocktrace-musl.so
PRELOAD=$MLIB

# the examples, linked with musl's libc
for e in client_ephemeral fork_server udp_server wildcard_server; do
    musl-gcc -std=gnu11 -O2 -D_GNU_SOURCE "$ROOT/examples/$e.c" -o "$T/$e" 2>>"$T/cc.log" ||
        { not_ok "musl-gcc $e"; sed 's/^/#   /' "$T/cc.log"; }
done
check "the test programs use musl's loader" "ld-musl-x86_64.so.1" \
    "$(readelf -l "$T/fork_server" | sed -n 's|.*interpreter: /lib/\(.*\)\]|\1|p')"

start srv --traced "$T/fork_server" 0 2
port=$(grep -m1 '^PORT' "$T/srv.out" | cut -d' ' -f2)
start cli --traced "$T/client_ephemeral" 127.0.0.1 "$port"
pid=$(ready_pid cli)
check "client (musl): tracer equals the program's own view" "$(own_view cli)" "$(tracer_view "$pid")"
check "client (musl): tracer equals the kernel's view (ss)" "$(kernel_view "$pid")" "$(tracer_view "$pid")"
check "client (musl): the port was chosen by the kernel" "True" "$(tracer_field "$pid" 3 port_chosen_by_kernel)"
start nb --traced "$T/client_ephemeral" 127.0.0.1 "$port" --nonblock
pid2=$(ready_pid nb)
check "non-blocking client (musl): tracer equals its own view" "$(own_view nb)" "$(tracer_view "$pid2")"
check "non-blocking client (musl): tracer equals the kernel's view" "$(kernel_view "$pid2")" "$(tracer_view "$pid2")"
wait_for srv '^SOCK.*served' 2
check "both forked children (musl) reported the connection they served" 2 "$(grep -c 'what=served' "$T/srv.out")"
for child in $(grep 'what=served' "$T/srv.out" | sed -E 's/.*pid=([0-9]+) .*/\1/'); do
    fd=$(grep "pid=$child .*what=served" "$T/srv.out" | sed -E 's/.* fd=([0-9]+) .*/\1/')
    check "fork server child $child (musl): accepted socket as it sees it" \
        "$(own_view srv "$child")" "$(tracer_view "$child" "$fd")"
    check "  ... equals the kernel's view" "$(kernel_view "$child" "$fd")" "$(tracer_view "$child" "$fd")"
    check "  ... the listener closed in the child (musl's close)" "" "$(tracer_view "$child" 3)"
done

start w --traced "$T/wildcard_server"
wpid=$(ready_pid w)
check "wildcard server (musl): tracer equals its own view" "$(own_view w)" "$(tracer_view "$wpid")"
check "wildcard server (musl): tracer equals the kernel's view" "$(kernel_view "$wpid")" "$(tracer_view "$wpid")"
start u --traced "$T/udp_server" 3
upid=$(ready_pid u)
check "UDP (musl): tracer equals its own view" "$(own_view u)" "$(tracer_view "$upid")"
check "UDP (musl): tracer equals the kernel's view" "$(kernel_view "$upid")" "$(tracer_view "$upid")"

# the static musl viewer reads the same files
check "socktrace-musl is static" "0" "$(readelf -l "$B/socktrace-musl" | grep -c INTERP)"
check "socktrace-musl show: the wildcard server's table equals the kernel's" \
    "$(kernel_view "$wpid")" "$(SOCKTRACE=$B/socktrace-musl tracer_view "$wpid")"
finish cli; finish nb; finish w; finish u; finish srv
check "after exit: the client's closed socket kept its port (musl's exit path)" \
    "$(said cli | sed -n -E 's/^SOCK .* fd=3 local=([^ ]*) .*/\1/p')" "$(tracer_closed "$pid" 3 local)"

exports() { objdump -T "$1" | awk '$4 != "*UND*" && $NF ~ /^__(close_nocancel|read_chk|recv_chk)$/ { print $NF }' | sort; }
check "glibc-only hooks are left out of the musl library" "" "$(exports "$MLIB")"
check "  ... and are in the glibc one" "$(printf '%s\n' __close_nocancel __read_chk __recv_chk)" "$(exports "$B/libsocktrace.so")"
check "the musl library needs nothing but musl's libc" "libc.so" \
    "$(objdump -p "$MLIB" | awk '$1 == "NEEDED" { print $2 }')"
done_testing
