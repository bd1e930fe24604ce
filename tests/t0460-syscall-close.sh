#!/usr/bin/env bash
# t0460 - closes made through syscall(2) (as libuv's) are recorded as
# closes, at the time the program made them; closes the tracer cannot see
# (an inline syscall instruction) followed by the number's reuse for a
# pipe, an eventfd or a file leave the socket "unseen" and record nothing
# false when the new owner is closed, dup2'd over, fcntl'd or dup'd.
# Held against the program's own report (fd numbers, times, byte counts),
# /proc/PID/fd and ss.
. "$(dirname "$0")/lib.sh"

# the library's own system calls must not go through its exported syscall
for lib in "$B/libsocktrace.so" "$LIB"; do
    check "$(basename "$(dirname "$lib")")/$(basename "$lib"): no PLT slot for syscall (internal calls stay raw)" "" \
        "$(readelf -rW "$lib" | awk '$3 == "R_X86_64_JUMP_SLOT" && $5 ~ /^syscall(@|$)/')"
done
check "syscall is exported" "syscall" "$(nm -D --defined-only "$B/libsocktrace.so" | awk '$3 == "syscall" {print $3}')"

# numbers passed straight through: the same answers, errno and all six
# arguments (mmap's offset), as without the preload
"$B/tests/sysclose" pass >"$T/pass.plain" 2>&1
LD_PRELOAD="$PRELOAD" "$B/tests/sysclose" pass >"$T/pass.traced" 2>&1
check "syscall() passes other numbers through unchanged (ret, errno, 6th argument, 64-bit result)" \
    "$(cat "$T/pass.plain")" "$(cat "$T/pass.traced")"

"$B/tests/sysclose" </dev/null >"$T/plain.out" 2>&1
start sc --traced "$B/tests/sysclose"
pid=$(ready_pid sc)
check "the program reuses the same fd numbers traced as untraced" \
    "$(grep -E '^(REUSE|RANGE|RAW|DUP)' "$T/plain.out")" "$(said sc | grep -E '^(REUSE|RANGE|RAW|DUP)')"

own=$(own_view sc)
check "open sockets (made, connected, dup'd through syscall; one a vfork child closed): table = own view" \
    "$own" "$(tracer_view "$pid")"
check "  ... = ss" "$own" "$(kernel_view "$pid")"
proc_socks=$(for f in /proc/"$pid"/fd/*; do
    [[ $(readlink "$f") == socket:* ]] && basename "$f"; done | sort -n | tr '\n' ' ')
check "the table's open fds = /proc/$pid/fd's sockets (nothing dup'd from a file, no stale entry)" \
    "$proc_socks" "$("$SOCKTRACE" show "$pid" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"])), end=" ")')"
"$SOCKTRACE" show --verify "$pid" >"$T/verify" 2>&1
check "show --verify exits 0" "0" "$?"

"$SOCKTRACE" show "$pid" --all --json >"$T/all.json"
"$SOCKTRACE" events "$pid" --json >"$T/events.json"
said sc >"$T/report"
python3 - "$T/report" "$T/all.json" "$T/events.json" >"$T/checks" <<'PY'
import json, re, sys
from datetime import datetime

report = open(sys.argv[1]).read()
socks = json.load(open(sys.argv[2]))["sockets"]
events = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]

def ns(text):   # the viewer's times are whole milliseconds
    return round(datetime.fromisoformat(text).timestamp() * 1000) * 1000000

steps = {m[0]: (int(m[1]), int(m[2]), int(m[3]))
         for m in re.findall(r"^STEP (\S+) fd=(\d+) before=(\d+) after=(\d+)$", report, re.M)}

def closed_in(step):
    _, lo, hi = steps[step]
    return sorted(((s["fd"], s["close_seen"]) for s in socks
                   if s["closed"] and lo < ns(s["closed"]) < hi), key=str)

def line(desc, expected, actual):
    print(f"{desc}\t{expected}\t{actual}")

fd = steps["sys_close_listener"][0]
line(f"syscall(SYS_close) of the listener at fd {fd}: closed then, as a close",
     [(fd, "close")], closed_in("sys_close_listener"))
line("closing the pipe that took its number closes no socket", [], closed_in("pipe_close"))

fd = steps["sys_close_tcp"][0]
m = re.search(r"^BYTES fd=(\d+) sent=(\d+) received=(\d+)$", report, re.M)
line(f"syscall(SYS_close) of the TCP client at fd {fd}: closed then, as a close",
     [(fd, "close")], closed_in("sys_close_tcp"))
tcp = [s for s in socks if s["closed"] and s["fd"] == fd and
       steps["sys_close_tcp"][1] < ns(s["closed"]) < steps["sys_close_tcp"][2]]
line("  ... with the bytes the program sent and received",
     f"{m[2]} {m[3]}", " ".join(str(s.get("bytes_sent")) + " " + str(s.get("bytes_received")) for s in tcp))

m = re.search(r"^RANGE lo=(\d+) hi=(\d+)$", report, re.M)
lo, hi = int(m[1]), int(m[2])
line(f"syscall(SYS_close_range, {lo}, {hi}): each socket closed then, as a close",
     [(f, "close") for f in range(lo, hi + 1)], closed_in("sys_close_range"))
line("closing the pipe and eventfd that took the numbers closes no socket", [], closed_in("reused_close"))

m = re.search(r"^RAW listener=(\d+) tcp=(\d+) udp=(\d+) udp2=(\d+) listener2=(\d+)$", report, re.M)
raw = sorted(int(x) for x in m.groups())
accepted = int(re.search(r"^REUSE raw_listener fd=(\d+)", report, re.M)[1])
_, lo, hi = steps["raw_reuse"]
after_range = steps["reused_close"][2]
raw_socks = [s for s in socks if s["opened"] and after_range < ns(s["opened"]) < lo and
             s["origin"] != "found"]
unseen = sorted(s["fd"] for s in raw_socks if s.get("close_seen") == "unseen")
line("the sockets closed by inline syscalls (and their accepted peer) are in history as unseen",
     sorted(raw + [raw[1] + 1]), unseen)
line("  ... and none of them as closed by a call", [],
     sorted(s["fd"] for s in raw_socks if s.get("close_seen") != "unseen"))
line("  ... each retired when its number's new owner was worked on, not later",
     "yes", "yes" if all(s["closed"] and lo < ns(s["closed"]) < hi for s in raw_socks
                         if s["fd"] != raw[1] + 1) else [s["closed"] for s in raw_socks])
found = [(s["fd"], s["proto"], s.get("close_seen")) for s in socks if s["origin"] == "found"]
line("the UDP socket made raw on the listener's number: found, then closed by close()",
     [(raw[4], "udp", "close")], found)
addrs = {s["local"] for s in raw_socks if s["local"]}
false = [(e["call"], e["fd"]) for e in events
         if e["call"] not in ("closed-unseen",) and lo < ns(e["time"]) < hi and e["local"] in addrs]
line("no event in the reuse step names a socket closed by an inline syscall", [], false)
PY
while IFS=$'\t' read -r desc exp act; do check "$desc" "$exp" "$act"; done <"$T/checks"
[ -s "$T/checks" ] || not_ok "the trace could be checked"

finish sc
check "the program exited 0" "0" "$?"
done_testing
