# A process that exited but is not reaped yet (a zombie, state Z in
# /proc/PID/stat) has ended: ps, show and show --json say exited, and its
# sockets are the ones it had open when it exited, not "closed (unseen)"
# (a zombie's /proc/PID/fd is empty). A reaped sibling that ran the same
# code is the ordinary exited process it must read like. Held against the
# children's own view of their sockets and /proc's state.
. "$(dirname "$0")/lib.sh"
cat >"$T/zombie.py" <<'PY'
import os, socket, sys, time

def child():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
    c = socket.create_connection(s.getsockname()); a, _ = s.accept()
    for f, state in ((s, "listening"), (c, "connected"), (a, "connected")):
        peer = "%s:%d" % f.getpeername() if f is not s else "-"
        print("SOCK pid=%d fd=%d local=%s:%d peer=%s state=%s end" %
              ((os.getpid(), f.fileno()) + f.getsockname() + (peer, state)), flush=True)
    for f in (s, c, a):
        f.detach()          # still open when the process exits
    sys.exit(0)             # an ordinary exit: exit handlers run

def state_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]

kids = {}
for name in ("zombie", "reaped"):
    pid = os.fork()
    if pid == 0:
        child()
    kids[name] = pid
    # one at a time, so that their lines do not interleave
    for _ in range(400):    # a hang guard, not a time budget
        if state_of(pid) == "Z":
            break
        time.sleep(0.05)
    print("CHILD %s pid=%d state=%s" % (name, pid, state_of(pid)), flush=True)
os.waitpid(kids["reaped"], 0)   # the zombie is held: never waited for
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
start z --traced python3 "$T/zombie.py"
zpid=$(said z | sed -n 's/^CHILD zombie pid=\([0-9]*\) .*/\1/p')
rpid=$(said z | sed -n 's/^CHILD reaped pid=\([0-9]*\) .*/\1/p')
check "both children reported three sockets" "3 3" \
    "$(own_view z "$zpid" | wc -l) $(own_view z "$rpid" | wc -l)"
check "the zombie child is a zombie (/proc/PID/stat state Z), the other reaped" "Z gone" \
    "$(cut -d' ' -f3 "/proc/$zpid/stat" 2>/dev/null || echo gone) $([ -e "/proc/$rpid" ] && echo there || echo gone)"

# own_states PID: "fd local peer state" from the child's SOCK lines
own_states() {
    said z | grep "^SOCK pid=$1 " |
        sed -E 's/^SOCK pid=[0-9]+ fd=([0-9]+) local=([^ ]*) peer=([^ ]*) state=([^ ]*) .*/\1 \2 \3 \4/' | sort -n
}
# show_states PID: the same from show --json, then the process's state and
# whether it has an exit time, then how each socket's close was seen
show_states() {
    "$SOCKTRACE" show "$1" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in sorted(d["sockets"], key=lambda s: s["fd"]):
    print(s["fd"], s["local"] or "-", s["peer"] or "-", s["state"])
print(d["state"], "ended" if d["ended"] else "no-end-time")
print("closes:", sorted(set(str(s["close_seen"]) for s in d["sockets"] if "close_seen" in s)))'
}
ps_entry() {
    "$SOCKTRACE" ps --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["pid"] == int(sys.argv[1]): print(p["state"], p["open"])' "$1"
}
for who in reaped zombie; do
    pid=$([ $who = zombie ] && echo "$zpid" || echo "$rpid")
    check "$who: show --json lists its sockets as it had them when it exited, exited" \
        "$(own_states "$pid")
exited ended
closes: []" "$(show_states "$pid")"
    check "$who: ps --json says exited, 3 open at the end" "exited 3" "$(ps_entry "$pid")"
    check "$who: ps says exited" "exited" \
        "$("$SOCKTRACE" ps | awk -v p="$pid" '{sub(/^[^0-9]*/, "")} $1 == p {print $3}')"
    check "$who: show says exited, 3 open at the end" "1" \
        "$("$SOCKTRACE" show "$pid" | grep -c "exited .*, 3 open at the end")"
    check "$who: show (exit 0) marks no socket closed unseen" "0 0" \
        "$("$SOCKTRACE" show "$pid" >"$T/show.txt"; echo $?) $(grep -c unseen "$T/show.txt")"
    check "$who: --verify: not running, exit 1" "1" "$(status "$SOCKTRACE" show "$pid" --verify)"
    check_cmd "  ... saying so" grep -q "pid $pid is not running" "$T/err"
done
check "the zombie is still a zombie after all that" "Z" "$(cut -d' ' -f3 "/proc/$zpid/stat")"
finish z

# a main thread that called pthread_exit leaves its leader in state Z while
# the process runs on: that one is running
start le --traced "$B/tests/leaderexit"
lpid=$(ready_pid le)
check "leaderexit: /proc shows its leader Z and a second task" "Z 2" \
    "$(cut -d' ' -f3 "/proc/$lpid/stat") $(ls "/proc/$lpid/task" | wc -l)"
check "  ... ps --json says running" "running" "$(ps_entry "$lpid" | cut -d' ' -f1)"
check "  ... show --json says running" "running" \
    "$("$SOCKTRACE" show "$lpid" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])')"
finish le
done_testing
