# Issue 12's first bullet, 20 times under load: 4 threads churning
# socket, bind (port 0), listen, connect/accept, dup2, dup3,
# F_DUPFD_CLOEXEC and close over one shared range of fd numbers, a SIGALRM
# handler closing sockets every 200 us, close_range, fork. Each run, for
# the parent and the forked child: the open table has exactly the socket
# fds of /proc/PID/fd, the addresses equal ss for every bound or
# connected socket, and nothing was dropped. Two busy loops keep the
# machine loaded so a writer gets preempted in the middle of recording.
. "$(dirname "$0")/lib.sh"
RUNS=${CHURN_RUNS:-20}
ITER=${CHURN_ITER:-8000}
# the busy loops are killed by pid with the programs, by lib.sh's cleanup
sh -c 'while :; do :; done' & PIDS[hog1]=$!
sh -c 'while :; do :; done' & PIDS[hog2]=$!

socket_fds() { # PID: the socket fds of /proc/PID/fd
    find /proc/"$1"/fd -lname 'socket:*' -printf '%f\n' | sort -n | tr '\n' ' '
}

# table PID: "open-fds|dropped" from the viewer: every entry of the table
# that is not closed (the viewer's own /proc look-up must not mask a lost
# close: t0520 does the same)
table() {
    "$SOCKTRACE" show "$1" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
fds = sorted(s["fd"] for s in d["sockets"] if s["state"] != "closed")
print(" ".join(map(str, fds)) + (" " if fds else "") + "|" + str(d["dropped"]))'
}

# ss once per run for both processes (they hold still): kernel_view
# calls `ss`, which this function answers from the snapshot
ss() { cat "$T/ss.snap"; }

held() { # RUN WHO PID: the three checks for one process
    local r=$1 who=$2 pid=$3 t k
    t=$(table "$pid")
    check "run $r, $who: the table has exactly the socket fds of /proc/PID/fd" "$(socket_fds "$pid")" "${t%|*}"
    k=$(kernel_view "$pid")
    check "run $r, $who: addresses equal ss for every bound or connected socket" "$k" \
        "$(tracer_view "$pid" "$(fds_of "$k")")"
    check "run $r, $who: nothing dropped" "0" "${t#*|}"
}

for r in $(seq "$RUNS"); do
    name=churn$r
    start "$name" --traced timeout 120 "$B/tests/churn" "$ITER"
    pid=$(said "$name" | sed -n 's/^READY pid=//p')
    cpid=$(said "$name" | sed -n 's/^CHILD pid=//p')
    if [ -z "$pid" ] || [ -z "$cpid" ]; then
        not_ok "run $r: the program did not get to READY"; finish "$name"; continue
    fi
    command ss -H -n -a -p -A inet,unix >"$T/ss.snap" 2>/dev/null
    held "$r" parent "$pid"
    held "$r" child "$cpid"
    finish "$name"
    check "run $r: exited cleanly (no sanitizer report)" "" \
        "$(grep -E 'ERROR: (Address|Undefined)Sanitizer|runtime error' "$T/$name.err")"
    rm -f "$SOCKTRACE_DIR"/*
done
done_testing
