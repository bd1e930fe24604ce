# Case 3: family, type and protocol come from the socket itself: inet,
# inet6, unix path, unix abstract, socketpair (unnamed), netlink (another
# family, recorded by name).
. "$(dirname "$0")/lib.sh"
start f --traced "$EX/families" "$T/ex.sock"
pid=$(ready_pid f)
check "addresses equal the program's own view" "$(own_view f)" "$(tracer_view "$pid")"
check "named unix and inet sockets equal the kernel's view" \
    "$(kernel_view "$pid")" "$(unix_peer_blank "$(tracer_view "$pid" "$(fds_of "$(kernel_view "$pid")")")")"
# what the kernel says of each fd (SO_DOMAIN/TYPE/PROTOCOL) vs the tracer
kinds=$(grep '^KIND' "$T/f.out" | sed -E 's/KIND fd=([0-9]+) domain=([0-9]+) type=([0-9]+) protocol=([0-9]+).*/\1 \2 \3 \4/')
traced=$("$SOCKTRACE" show "$pid" --json | python3 -c '
import json, sys
fam = {"inet": 2, "inet6": 10, "unix": 1, "netlink": 16}
typ = {"stream": 1, "dgram": 2, "raw": 3, "seqpacket": 5}
pro = {"tcp": 6, "udp": 17, "tcp6": 6, "udp6": 17}
for s in json.load(sys.stdin)["sockets"]:
    print(s["fd"], fam.get(s["family"], -1), typ.get(s["type"], -1), pro.get(s["proto"], 0))')
check "family, type and protocol equal the kernel's SO_DOMAIN/SO_TYPE/SO_PROTOCOL" "$kinds" "$traced"
check "unnamed socketpair end shows null addresses" "null null" \
    "$(tracer_field "$pid" 7 local) $(tracer_field "$pid" 7 peer)"
check "socketpair origin" "socketpair" "$(tracer_field "$pid" 7 origin)"
check "abstract name shown with @" "@socktrace-example" "$(tracer_field "$pid" 6 local)"
finish f
done_testing
