# graph: the connections between traced processes as Graphviz DOT. A
# python3 server, socat as a forking proxy in front of it, python clients
# through the proxy and direct, one to an untraced server: an edge per
# connection between the two traced pids, with the ports the clients
# reported and ss shows for the proxy's child; the bytes each client
# counted once closed (--all); dot -Tsvg parses the output.
. "$(dirname "$0")/lib.sh"
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if ! command -v socat >/dev/null; then skip "socat is not installed"; done_testing; exit; fi
cat >"$T/server.py" <<'PY'
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(16)
print("READY", flush=True)
def serve(c):
    c.recv(100); c.sendall(b"y" * 5000)
    while c.recv(100): pass
    port = c.getpeername()[1]
    c.close()
    print("CLOSED", port, flush=True)
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat >"$T/client.py" <<'PY'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hello 123")
got = 0
while got < 5000:
    got += len(s.recv(65536) or b"x" * 5000)
print("CLIENT pid=%d port=%d sent=9 got=%d" % (os.getpid(), s.getsockname()[1], got), flush=True)
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.readline()
s.close()
PY
sport=$(freeport) fport=$(freeport) uport=$(freeport)
spawn srv --traced python3 "$T/server.py" "$sport"
spawn usrv python3 "$T/server.py" "$uport"
wait_for srv READY
wait_for usrv READY
spawn socat --traced socat "TCP-LISTEN:$fport,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$sport"
wait_listen "$fport"
start c1 --traced python3 "$T/client.py" "$fport"
start c2 --traced python3 "$T/client.py" "$sport"
start c3 --traced python3 "$T/client.py" "$uport"
cport() { said "$1" | sed -n 's/.* port=\([0-9]*\) .*/\1/p'; }
# the proxy's child and its upstream port, from the kernel
child=$(pgrep -P "${PIDS[socat]}" | head -1)
up=$(ss -Htnp "dport = :$sport" | awk -v c="pid=$child," 'index($0, c) {n = split($4, a, ":"); print a[n]}')

# edges NAME: "TAILPID HEADPID CPORT SPORT" per edge, process nodes by pid
edges() { python3 -c '
import re, sys
dot = open(sys.argv[1]).read()
if "digraph" not in dot: print("NO GRAPH in " + sys.argv[1]); sys.exit(1)
pid = dict(re.findall(r"\"(p\d+)\" \[label=\"(\d+)\\n", dot))
for t, h, l in re.findall(r"\"([^\"]+)\" -> \"([^\"]+)\" \[label=\"([^\"]*)\"", dot):
    m = re.match(r"(?:udp )?(\d+) → (\d+)", l)
    print(pid.get(t, t), pid.get(h, h), m.group(1), m.group(2), l.split("\\n")[1] if "\\n" in l else "")' "$1" | sort; }

"$SOCKTRACE" graph >"$T/g.dot" 2>"$T/g.err"
want=$(printf '%s\n' \
    "$(ready_pid c1) $child $(cport c1) $fport " \
    "$child ${PIDS[srv]} $up $sport " \
    "$(ready_pid c2) ${PIDS[srv]} $(cport c2) $sport " \
    "$(ready_pid c3) ip:127.0.0.1 $(cport c3) $uport " | sort)
check "graph: an edge per open connection, client to server, the ports the clients and ss report" \
    "$want" "$(edges "$T/g.dot")"
check "  ... processes as nodes with pid and command" "1" \
    "$(grep -c "label=\"$child\\\\nsocat\"" "$T/g.dot")"
if command -v dot >/dev/null; then
    check_cmd "dot -Tsvg parses the DOT" sh -c "dot -Tsvg <'$T/g.dot' | grep -q '<svg'"
    check_cmd "graph --svg prints SVG" sh -c "'$SOCKTRACE' graph --svg | grep -q '<svg'"
else
    skip "Graphviz's dot is not installed (Debian package graphviz)"
    skip "Graphviz's dot is not installed (Debian package graphviz)"
fi
check "--svg without dot: exit 1" "1" "$(PATH=/nonexistent status "$SOCKTRACE" graph --svg)"
check "  ... one line naming Graphviz" "1" "$(grep -c 'Graphviz' "$T/err")"

finish c1; finish c2; finish c3
# the other ends: the server closes its two (c2's, the proxy child's
# upstream) and says so; the proxy's child exits after closing both of its
wait_for srv '^CLOSED' 2
wait_gone "$child"
check "graph after the clients ended: exit 0, a graph" "0 1" \
    "$("$SOCKTRACE" graph >"$T/g2.dot" 2>"$T/g2.err"; echo $?) $(grep -c '^digraph' "$T/g2.dot")"
# (edges' line for a file with no graph in it passes the filter: it fails)
check "without --all, closed connections are gone" "" \
    "$(edges "$T/g2.dot" | grep -w -e 'NO GRAPH' -e "$(cport c1)" -e "$(cport c2)" -e "$(cport c3)")"
"$SOCKTRACE" graph --all >"$T/g3.dot"
check "--all: the closed connections with the bytes each client counted" \
    "$(for c in c1 c2 c3; do echo "$(cport $c) 9 B → / ← $(said $c | sed -n 's/.* got=\([0-9]*\)/\1/p') B"; done | sort)" \
    "$(edges "$T/g3.dot" | awk -v a="$(cport c1) $(cport c2) $(cport c3)" 'BEGIN {split(a, p, " "); for (i in p) w[p[i]] = 1} $3 in w' | cut -d' ' -f3,5- | sort)"
if command -v dot >/dev/null; then
    check_cmd "  ... which dot -Tsvg parses too" sh -c "dot -Tsvg <'$T/g3.dot' >/dev/null"
else
    skip "Graphviz's dot is not installed"
fi
stop socat; stop srv; stop usrv
done_testing
