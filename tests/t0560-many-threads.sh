# 64 threads x 200 loopback connections (socket, connect, accept, close
# both) on 2 cores, with a history large enough to hold every record: no
# record dropped, none overwritten, and every socket the program created
# (it counts them and closes them all before READY) is in history as
# closed exactly once, with exactly one close event.
. "$(dirname "$0")/lib.sh"
THREADS=${MT_THREADS:-64}
CYCLES=${MT_CYCLES:-200}
pin=()
[ "$(nproc)" -gt 2 ] && command -v taskset >/dev/null && pin=(taskset -c 0,1)
export SOCKTRACE_HISTORY=64M
start mt --traced timeout 120 "${pin[@]}" "$B/tests/manythreads" "$THREADS" "$CYCLES"
read -r pid made fails < <(said mt | sed -n 's/^READY pid=\([0-9]*\) sockets=\([0-9]*\) failed=\([0-9]*\)/\1 \2 \3/p')
if [ -z "${pid:-}" ]; then not_ok "the program did not get to READY"; done_testing; exit 1; fi
check "the program's own calls all succeeded" "0 $((1 + 2 * THREADS * CYCLES))" "$fails $made"

"$SOCKTRACE" show "$pid" --all --json >"$T/show.json"
read -r dropped overwritten open closed distinct once < <(python3 -c '
import json, sys, collections
d = json.load(open(sys.argv[1]))
s = d["sockets"]
closed = [x for x in s if x["closed"] is not None]
# one socket life: its fd, when it was opened and its addresses
keys = collections.Counter((x["fd"], x["opened"], x["local"], x["peer"]) for x in closed)
print(d["dropped"], d["history_overwritten"], len(s) - len(closed), len(closed), len(keys),
      sum(1 for k, v in keys.items() if v == 1))' "$T/show.json")
check "nothing dropped" "0" "$dropped"
check "history not overwritten (SOCKTRACE_HISTORY=64M holds it all)" "0" "$overwritten"
check "no socket left open in the table (the program closed them all)" "0" "$open"
check "every socket created is in history as closed ($made created)" "$made" "$closed"
check "  ... each listed once" "$closed $closed" "$distinct $once"

# the events: one successful socket or accept per socket, one close each
"$SOCKTRACE" events "$pid" --json >"$T/events.json"
read -r opened closes badclose unpaired < <(python3 -c '
import json, sys, collections
opened = closes = bad = 0
per_fd = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    c = e["call"]
    if c in ("socket", "accept", "accept4") and e["ret"] >= 0:
        opened += 1; per_fd[e["ret"]] += 1
    elif c == "close":
        if e["ret"] == 0: closes += 1; per_fd[e["fd"]] -= 1
        else: bad += 1
# per fd number, as many closes as opens (not in order: a close and the
# next open of its number race between threads)
print(opened, closes, bad, sum(1 for v in per_fd.values() if v))' "$T/events.json")
check "socket+accept events: one per socket created" "$made" "$opened"
check "close events: exactly one per socket created" "$made" "$closes"
check "no failed close" "0" "$badclose"
check "per fd number, as many close events as socket/accept events (fds off: $unpaired)" "0" "$unpaired"
finish mt
check "exited cleanly (no sanitizer report)" "" \
    "$(grep -E 'ERROR: (Address|Undefined)Sanitizer|runtime error' "$T/mt.err")"
done_testing
