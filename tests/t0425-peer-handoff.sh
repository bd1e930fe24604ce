# The other end of a connection handed from parent to child (a forking
# server: the parent accepts, forks, closes its copy; the child serves it,
# as smbd and classic inetd-style daemons do): both traced processes have
# an end with the connection's addresses, and the client's peer_pid must
# name the child that holds it, not the parent that closed its copy. Ten
# clients, so a join that takes whichever end it finds first shows. Held
# against each child's own report and ss -p.
. "$(dirname "$0")/lib.sh"
N=10
cat >"$T/server.py" <<'PY'
import os, socket, sys
N = int(sys.argv[1])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(N)
print("PORT %d" % s.getsockname()[1], flush=True)
for _ in range(N):
    a, _ = s.accept()
    pid = os.fork()
    if pid == 0:
        s.close()
        print("CHILD pid=%d fd=%d client=%s:%d" % ((os.getpid(), a.fileno()) + a.getpeername()),
              flush=True)
        sys.stdin.read()        # holds the connection until the test ends
        os._exit(0)
    a.close()                   # the parent's copy
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
cat >"$T/client.py" <<'PY'
import os, socket, sys
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
for c in conns:
    print("SOCK pid=%d fd=%d local=%s:%d peer=%s:%d end" %
          ((os.getpid(), c.fileno()) + c.getsockname() + c.getpeername()), flush=True)
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
mkfifo "$T/srv.in"
run_bg srv "$PRELOAD" "$T/srv.in" python3 "$T/server.py" "$N"
exec {srv_in}>"$T/srv.in"
IN_FD[srv]=$srv_in
wait_for srv '^PORT' || { done_testing; exit 1; }
port=$(said srv | sed -n 's/^PORT //p')
start cli --traced python3 "$T/client.py" "$port" "$N"
wait_for srv '^READY' && wait_for srv '^CHILD' "$N"
cpid=$(ready_pid cli)
spid=$(ready_pid srv)
check "the client made $N connections, the server's children reported $N" "$N $N" \
    "$(said cli | grep -c '^SOCK') $(said srv | grep -c '^CHILD')"

# client port -> the pid of the child that reported serving it
expected=$(said srv | sed -n 's/^CHILD pid=\([0-9]*\) fd=[0-9]* client=127.0.0.1:\([0-9]*\)$/\2 \1/p' | sort -n)
# the same from the kernel: who holds the server side of each connection
kernel=$(ss -H -t -n -p state established "sport = :$port" | awk '{
    split($4, p, ":"); port = p[length(p)]
    if (match($0, /pid=[0-9]+/)) print port, substr($0, RSTART + 4, RLENGTH - 4) }' | sort -n)
check "ss: each connection's server end is held by the child that reported it" "$expected" "$kernel"
check "the parent holds none of them" "0" \
    "$(ss -H -t -n -p state established "sport = :$port" | grep -c "pid=$spid,")"
# the client's view from show --json: its local port -> peer_pid
joined=$("$SOCKTRACE" show "$cpid" --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["sockets"]:
    if s["peer_port"] == int(sys.argv[1]): print(s["local_port"], s["peer_pid"])' "$port" | sort -n)
check "the client's peer_pid names the child that holds each connection" "$expected" "$joined"
# and the other way: each child's socket names the client
back=$(for p in $(awk '{print $2}' <<<"$expected" | sort -u); do
    "$SOCKTRACE" show "$p" --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["sockets"]:
    if s["local_port"] == int(sys.argv[1]) and s["peer_port"]: print(s["peer_pid"])' "$port"
done | sort -u)
check "each child's end names the client" "$cpid" "$back"
finish cli
finish srv
done_testing
