# 8 threads racing socket/connect/accept/dup2/fcntl(F_DUPFD)/close over a
# shared range of fd numbers, tens of thousands of operations, with the
# ASan+UBSan build of the preload: afterwards the table holds exactly the
# fds that are sockets in /proc/PID/fd, with the addresses ss shows.
. "$(dirname "$0")/lib.sh"
start th --traced "$B/tests/threads" 5000
pid=$(ready_pid th)
if [ -z "$pid" ]; then not_ok "the racing program did not start"; done_testing; exit 1; fi
proc_fds=$(for f in /proc/"$pid"/fd/*; do
    case $(readlink "$f") in socket:*) basename "$f" ;; esac
done | sort -n | tr '\n' ' ')
traced_fds=$("$SOCKTRACE" show "$pid" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"]) if s["state"] != "closed"), end=" ")')
check "the open table has exactly the socket fds of /proc/PID/fd" "$proc_fds" "$traced_fds"
k=$(kernel_view "$pid")
check "addresses equal the kernel's view for every bound or connected socket" "$k" "$(tracer_view "$pid" "$(fds_of "$k")")"
# nothing waits, so nothing is dropped while the file can grow
check "no record dropped" "0" \
    "$("$SOCKTRACE" show "$pid" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["dropped"])')"
check "over 40,000 calls recorded" "yes" "$("$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("yes" if d["history_overwritten"] + len(d["sockets"]) > 10000 else "no")')"
finish th
check "the program exited cleanly (no sanitizer report)" "" "$(grep -E 'ERROR: (Address|Undefined)Sanitizer|runtime error' "$T/th.err")"
done_testing
