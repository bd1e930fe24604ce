# A signal handler closes sockets while the interrupted thread is inside
# the tracer: no deadlock (the run is bounded), and every close the handler
# made is applied (the tracer queues it for the lock's holder), so the
# table equals the socket fds of /proc/PID/fd.
. "$(dirname "$0")/lib.sh"
start sig --traced timeout 60 "$B/tests/sigclose" 400000
pid=$(said sig | sed -n 's/^READY pid=//p')
if [ -z "$pid" ]; then not_ok "the program did not finish its rounds (deadlock?)"; done_testing; exit 1; fi
check "the handler closed sockets while the loop ran" "yes" \
    "$([ "$(said sig | sed -n 's/^HANDLED //p')" -gt 0 ] && echo yes)"
proc_fds=$(for f in /proc/"$pid"/fd/*; do
    case $(readlink "$f") in socket:*) basename "$f" ;; esac
done | sort -n | tr '\n' ' ')
# every entry of the table, including any the viewer's own /proc check
# would show as closed-unseen: a lost close must fail here, not be masked
traced_fds=$("$SOCKTRACE" show "$pid" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"])))')
check "the table has exactly the socket fds of /proc/PID/fd" "$(echo $proc_fds)" "$(echo $traced_fds)"
check "the handler's closes were recorded as closes, in history" "$(said sig | sed -n 's/^HANDLED //p')" \
    "$("$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
print(sum(1 for s in json.load(sys.stdin)["sockets"] if s["proto"] == "udp" and s.get("close_seen") == "close"))')"
finish sig
done_testing
