#!/usr/bin/env bash
# t0960 - sockets io_uring makes and closes, which no hook sees: a TCP
# socket the ring made (IORING_OP_SOCKET), bound to port 0 and listened on
# through libc, and a UDP socket made alike and bound to port 0. While the
# program runs, the table has both as libc showed them (the kernel's port,
# marked chosen by the kernel), equal to the program's getsockname and ss.
# The ring then closes both (IORING_OP_CLOSE); --verify names them as
# closed behind the tracer's back, and once the program has exited neither
# is listed as open at the end: both are closed, "unknown at exit".
. "$(dirname "$0")/lib.sh"

start ur --traced "$B/tests/uringsock"
if said ur | grep -q '^NOURING'; then
    skip "io_uring cannot make sockets here ($(uname -r): $(said ur | sed -n 's/^NOURING why=//p'))"
    finish ur
    done_testing
    exit
fi
pid=$(ready_pid ur)
[ -n "$pid" ] || { not_ok "uringsock started"; said ur | sed 's/^/#   /'; done_testing; exit; }
own=$(own_view ur)
check "the program's own view has its two sockets" "2" "$(wc -l <<<"$own")"
check "sockets the ring made, bound and listened on through libc: table = getsockname" \
    "$own" "$(tracer_view "$pid")"
check "  ... = ss" "$own" "$(kernel_view "$pid")"
for fd in $(fds_of "$own"); do
    check "fd $fd, bound to port 0: the port was chosen by the kernel" "True" \
        "$(tracer_field "$pid" "$fd" port_chosen_by_kernel)"
done
lfd=$(fds_of "$own" | cut -d' ' -f1)
check "fd $lfd: listening (listen through libc)" "listening" "$(tracer_field "$pid" "$lfd" state)"

echo close >&"${IN_FD[ur]}"
wait_for ur '^CLOSED'
closed=$(said ur | sed -n 's/^CLOSED fds=//p' | tr ',' ' ')
check "after the ring's close: ss has no socket of the program" "" "$(kernel_view "$pid")"
check "  ... nor /proc/$pid/fd" "" "$(for f in /proc/"$pid"/fd/*; do
    [[ $(readlink "$f") == socket:* ]] && basename "$f"; done)"
"$SOCKTRACE" show --verify "$pid" >"$T/verify" 2>&1
check "show --verify names both as closed behind the tracer's back" \
    "$(for fd in $closed; do printf ' fd %s (unseen)' "$fd"; done)" \
    "$(sed -n 's/^  closed behind the tracer.s back (shown as closed by show)://p' "$T/verify")"

finish ur
check "the program exited 0" "0" "$?"
"$SOCKTRACE" show "$pid" --all --json >"$T/all.json"
check "after its exit, no socket is listed as open at the end (the ring closed both)" "" \
    "$(python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in json.load(open(sys.argv[1]))["sockets"] if s["closed"] is None))' "$T/all.json")"
check "  ... both closed, unknown at exit, as what they were" \
    "$lfd listening unknown_at_exit
$(fds_of "$own" | cut -d' ' -f2) bound unknown_at_exit" \
    "$(python3 -c '
import json, sys
for s in sorted(json.load(open(sys.argv[1]))["sockets"], key=lambda s: s["fd"]):
    print(s["fd"], s["was"], s.get("close_seen"))' "$T/all.json")"
check "ps: 0 open at the end (the program closed both before it exited)" "0" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
print(*[p["open"] for p in json.load(sys.stdin)["processes"] if p["pid"] == int(sys.argv[1])])' "$pid")"
done_testing
