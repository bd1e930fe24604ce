#!/usr/bin/env bash
# t0470 - a Node.js cluster (a primary handing each connection to one of 2
# workers over IPC) under 200 sequential connections. libuv closes every
# socket with syscall(SYS_close, fd): without following syscall(2) each
# handed-over and each answered connection stayed "connected" in the
# table. After every connection: --verify exits 0 for the three
# processes; every 20th and the last: each table equals ss's view, and
# `ps` open counts equal /proc's. At the end each process's history holds
# exactly the connections the client reports it had.
. "$(dirname "$0")/lib.sh"

NODE=$(command -v node || command -v nodejs || true)
if [ -z "$NODE" ]; then
    skip "node not installed (Debian: apt-get install nodejs)"
    done_testing; exit
fi
N=200

cat >"$T/cluster.js" <<'EOF'
// primary + 2 workers; a worker answers with its pid, then closes
const cluster = require('cluster');
const net = require('net');
const port = Number(process.argv[2]);
if (cluster.isPrimary) {
  let up = 0;
  for (let i = 0; i < 2; i++) cluster.fork();
  cluster.on('listening', (w) => {
    console.log(`WORKER pid=${w.process.pid}`);
    if (++up === 2) console.log(`READY pid=${process.pid}`);
  });
  process.stdin.on('end', () => {
    for (const id in cluster.workers) cluster.workers[id].kill();
    process.exit(0);
  });
  process.stdin.resume();
} else {
  // the close comes before the client's end-of-file: once the client has
  // read to the end, the worker's socket is gone from the kernel
  // 'close' comes after libuv's close of the fd (and the tracer's record)
  net.createServer((c) => {
    const p = c.remotePort;
    c.on('close', () => console.log(`CLOSED ${p}`));
    c.write(`pid=${process.pid}\n`, () => c.destroy());
  }).listen(port, '127.0.0.1');
}
EOF
cat >"$T/client.py" <<'EOF'
# one connection per line read: prints "local_port worker_pid" once the
# server has closed it
import socket, sys
for _ in sys.stdin:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    data = b""
    while True:
        b = s.recv(100)
        if not b:
            break
        data += b
    print(s.getsockname()[1], data.decode().strip().split("=")[1], flush=True)
    s.close()
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start node --traced "$NODE" "$T/cluster.js" "$port" || { not_ok "the cluster started"; done_testing; exit; }
primary=$(ready_pid node)
wait_for node WORKER 2
workers=$(said node | sed -n 's/^WORKER pid=//p' | sort -n | tr '\n' ' ')
pids="$primary $workers"

socket_fds() { # PID: socket fds open in the kernel, from /proc
    find /proc/"$1"/fd -lname 'socket:*' -printf '%f\n' 2>/dev/null | sort -n | tr '\n' ' '
}
declare -A BASE
for p in $pids; do BASE[$p]=$(socket_fds "$p"); done
# the kernel is back to the resting state: the primary's copy of a
# handed-over socket is closed once the worker has taken it
settle() {
    local p i
    for p in $pids; do
        for i in $(seq 6000); do [ "$(socket_fds "$p")" = "${BASE[$p]}" ] && continue 2; sleep 0.01; done
        not_ok "pid $p back to its ${BASE[$p]} socket fds (has $(socket_fds "$p"))"
    done
}

verify_fail="" table_fail="" count_fail=""
: >"$T/conns"
coproc CLIENT { python3 "$T/client.py" "$port" 2>"$T/client.err"; }
for i in $(seq "$N"); do
    echo >&"${CLIENT[1]}"
    read -r -t 60 line <&"${CLIENT[0]}" && echo "$line" >>"$T/conns"
    # the client's end-of-file comes with the worker's close in the kernel,
    # the worker's record of it a moment later: its own word that it closed
    wait_for node '^CLOSED' "$i" || break
    settle
    for p in $pids; do
        "$SOCKTRACE" show --verify "$p" >"$T/verify" 2>&1 || verify_fail="$verify_fail $i:$p($(tr '\n' ' ' <"$T/verify"))"
    done
    if [ $((i % 20)) -eq 0 ]; then
        for p in $pids; do
            k=$(kernel_view "$p")
            [ "$k" = "$(tracer_view "$p" "$(fds_of "$k")")" ] || table_fail="$table_fail $i:$p"
        done
        counts=$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
procs = json.load(sys.stdin)["processes"]
print(" ".join(str(p["open"]) for w in sys.argv[1].split() for p in procs if str(p["pid"]) == w))' "$pids")
        kc=$(for p in $pids; do wc -w <<<"$(socket_fds "$p")"; done | tr '\n' ' ' | sed 's/ $//')
        [ "$counts" = "$kc" ] || count_fail="$count_fail $i:[$counts]/[$kc]"
    fi
done
eval "exec ${CLIENT[1]}>&-"
wait "$CLIENT_PID" 2>/dev/null
check "$N connections made, each answered by a worker" "$N" "$(grep -c . "$T/conns")"
check "--verify exits 0 for the primary and both workers after each of $N connections" "" "$verify_fail"
check "each table equals ss's view, every 20 connections" "" "$table_fail"
check "ps open counts equal /proc's socket counts, every 20 connections" "" "$count_fail"
check "both workers answered" "2" "$(awk '{print $2}' "$T/conns" | sort -u | wc -l)"

# history against the client's report: the primary accepted and closed
# every connection; each worker received and closed the ones it answered
hist() { # PID ORIGIN: "peer_port close_seen" of the closed TCP sockets
    "$SOCKTRACE" show "$1" --all --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["sockets"]:
    if s["proto"] == "tcp" and s["closed"] and s["origin"] == sys.argv[1]:
        print(s["peer"].rsplit(":", 1)[1], s["close_seen"])' "$2" | sort -n
}
check "the primary's history: each client connection accepted, then closed by a call" \
    "$(awk '{print $1, "close"}' "$T/conns" | sort -n)" "$(hist "$primary" accept)"
for w in $workers; do
    check "worker $w's history: exactly the connections it answered, closed by a call" \
        "$(awk -v w="$w" '$2 == w {print $1, "close"}' "$T/conns" | sort -n)" "$(hist "$w" received)"
done
finish node
done_testing
