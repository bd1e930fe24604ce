# The table stays exact through dup, dup2 onto a socket, dup3,
# fcntl(F_DUPFD_CLOEXEC), close_range (and CLOSE_RANGE_CLOEXEC), an fclose
# the tracer cannot see, SCM_RIGHTS, listen without bind,
# IP_BIND_ADDRESS_NO_PORT, shutdown, UDP connect and connect(AF_UNSPEC).
. "$(dirname "$0")/lib.sh"
start f --traced "$EX/fd_table"
pid=$(ready_pid f)
eval "$(said f | sed -n 's/^FDS //p')"
own=$(own_view f)
check "the open table equals the program's own view, fd by fd" "$own" "$(tracer_view "$pid" "$(fds_of "$own")")"
check "and the kernel's view" "$(kernel_view "$pid")" "$(tracer_view "$pid" "$(fds_of "$(kernel_view "$pid")")")"
check "nothing else is open in the table (closed fds gone)" "$(fds_of "$own" | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
    "$("$SOCKTRACE" show "$pid" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in json.load(sys.stdin)["sockets"] if s["state"] != "closed"), end=" ")')"
check "closed by a raw syscall: the viewer finds fd $raw is no socket now" "closed unseen" \
    "$(tracer_field "$pid" "$raw" state) $("$SOCKTRACE" show "$pid" --json | python3 -c '
import json, sys
print([("unseen" if s["closed"] is None else s["close_seen"]) for s in json.load(sys.stdin)["sockets"] if s["fd"] == '"$raw"'][0])')"
check "dup2 onto the UDP socket: fd $victim is now the TCP client" "dup tcp" \
    "$(tracer_field "$pid" "$victim" origin) $(tracer_field "$pid" "$victim" proto)"
check "dup2 closed the UDP socket it replaced" "udp close" \
    "$("$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["sockets"]:
    if s["fd"] == '"$victim"' and s["closed"]: print(s["proto"], s["close_seen"]); break')"
check "F_DUPFD_CLOEXEC: the copy is close-on-exec" "True" "$(tracer_field "$pid" "$d2" cloexec)"
check "dup3(O_CLOEXEC) likewise" "True" "$(tracer_field "$pid" "$d3" cloexec)"
check "close_range(CLOSE_RANGE_CLOEXEC) marks fd 42" "True" "$(tracer_field "$pid" 42 cloexec)"
check "close_range closed 40 and 41" "close close" "$(tracer_closed "$pid" 40 close_seen) $(tracer_closed "$pid" 41 close_seen)"
check "an fclose the tracer missed: found when fd $reuse came back" "unseen" "$(tracer_closed "$pid" "$reuse" close_seen)"
check "  ... and the new socket on it is the IPv6 one" "udp6" "$(tracer_field "$pid" "$reuse" proto)"
check "a listener received over SCM_RIGHTS" "received listening" \
    "$(tracer_field "$pid" "$got" origin) $(tracer_field "$pid" "$got" state)"
check "IP_BIND_ADDRESS_NO_PORT: port chosen at connect" "True" "$(tracer_field "$pid" "$np" port_chosen_by_kernel)"
check "shutdown(SHUT_WR) shown" "wr" "$(tracer_field "$pid" "$a2" shutdown)"
check "UDP connect sets the peer" "connected" "$(tracer_field "$pid" "$u" state)"
check "connect(AF_UNSPEC) dissolves the association" "null created False" \
    "$(tracer_field "$pid" "$u2" peer) $(tracer_field "$pid" "$u2" state) $(tracer_field "$pid" "$u2" port_chosen_by_kernel)"
check "listen without bind: the kernel's port, marked chosen" "True" "$(tracer_field "$pid" 3 port_chosen_by_kernel)"
finish f
done_testing
