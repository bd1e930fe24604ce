# Three races on one fd number that a second reading of the write path
# found, each pinned here: a dup2 held between its real call and its
# publish while bind acts on the socket it installed; close_range freeing
# two numbers while a dup2 onto one of them is held; a signal handler's
# close of the fd a close is closing. A thread is held by the test-only
# stall (SOCKTRACE_TEST_STALL) and by a signal handler that sleeps.
. "$(dirname "$0")/lib.sh"
socket_fds() { # PID: the socket fds of /proc/PID/fd
    for f in /proc/"$1"/fd/*; do
        case $(readlink "$f") in socket:*) basename "$f" ;; esac
    done | sort -n | xargs
}
open_fds() { # PID: the open fds of the trace
    "$SOCKTRACE" show "$1" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"])))'
}

SOCKTRACE_TEST_STALL=50:300 start db --traced "$B/tests/races" dup2-bind
pid=$(ready_pid db)
check "dup2 held mid-record, bind on its socket meanwhile: fd 50 as the program sees it" \
    "$(own_view db | grep '^50 ')" "$(tracer_view "$pid" 50)"
check "  ... the open table has exactly the socket fds of /proc" "$(socket_fds "$pid")" "$(open_fds "$pid")"
check "  ... and the socket dup2 displaced is in history, closed" "1" "$("$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
print(sum(1 for s in json.load(sys.stdin)["sockets"] if s["fd"] == 50 and s["closed"] and s["peer"]))')"
finish db

SOCKTRACE_TEST_STALL=51:300 start rd --traced "$B/tests/races" range-dup2
pid=$(ready_pid rd)
check "close_range over 50-51 while a dup2 onto 51 is held: the table has exactly the socket fds of /proc" \
    "$(socket_fds "$pid")" "$(open_fds "$pid")"
finish rd

SOCKTRACE_HISTORY=64M start sc --traced "$B/tests/races" signal-close
pid=$(ready_pid sc)
# 20,000 sockets and their 20,000 aliases at fd 50: a close recorded
# twice, or not at all, changes the count
check "a handler closing the fd a close is closing, 20,000 times: 40,000 closed in history, none twice" \
    "40000 0" "$("$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for s in d["sockets"] if s["closed"]), d["history_overwritten"])')"
check "  ... nothing left open but what /proc has" "$(socket_fds "$pid")" "$(open_fds "$pid")"
finish sc
check "no sanitizer report" "" "$(cat "$T"/*.err | grep -E 'ERROR: (Address|Undefined)Sanitizer|runtime error')"
done_testing
