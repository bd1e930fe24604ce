#!/bin/bash
# What became of each connect, held against what the program itself was
# told: curl's exit status and message, nc's status, Python's exception
# (blocking, non-blocking through send, getpeername and SO_ERROR, asyncio),
# node's error code; a connect given up by curl --connect-timeout and one
# closed while still connecting (a listener whose backlog is full drops
# the SYNs); a connection reset after it connected.
. "$(dirname "$0")/lib.sh"

# a port nothing listens on: the kernel gave it, and it was closed again
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# last_sock PID PEER FIELD...: fields of the last socket (open or closed)
# whose peer is PEER, from show --all --json
last_sock() {
    local pid=$1 peer=$2; shift 2
    "$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = [s for s in d["sockets"] if s["peer"] == sys.argv[1]]
if not v: print("no socket to", sys.argv[1]); sys.exit()
s = max(v, key=lambda s: s["opened"])
print(" ".join("null" if s.get(k) is None else str(s.get(k)).lower() if isinstance(s.get(k), bool) else str(s.get(k)) for k in sys.argv[2:]))' "$peer" "$@"
}
# pid of the one traced process whose command line starts with WORD
traced_pid() {
    "$SOCKTRACE" ps --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    c = p["command"] if isinstance(p["command"], str) else " ".join(p["command"])
    if c.split(" ")[0].endswith(sys.argv[1]): print(p["pid"])' "$1" | tail -1
}
refused="127.0.0.1:$closed_port"
# curl hangs in setlocale with the ASan runtime preloaded (with or without
# the tracer): curl and nc get the normal build
PLAIN=$B/libsocktrace.so

# --- curl, nc: non-blocking connects whose outcome comes by SO_ERROR ----
if command -v curl >/dev/null; then
    LD_PRELOAD=$PLAIN curl -sS "http://$refused/" >"$T/curl.out" 2>&1
    rc=$?
    pid=$(traced_pid curl)
    check "curl: exit 7, 'Couldn't connect'" "7 yes" "$rc $(grep -q "Couldn't connect" "$T/curl.out" && echo yes)"
    check "curl: the socket failed with ECONNREFUSED, not connected" "false failed ECONNREFUSED failed" \
        "$(last_sock "$pid" "$refused" connected connect_outcome connect_error was)"
    "$SOCKTRACE" show --all "$pid" >"$T/curl.show"
    check "curl: the table says 'failed ECONNREFUSED'" "1" "$(grep -c "failed ECONNREFUSED .*$refused" "$T/curl.show")"
    "$SOCKTRACE" ports --all --json >"$T/ports.json"
    check "ports: the destination has 0 connections, 1 failed (ECONNREFUSED)" "0 1 {'ECONNREFUSED': 1}" \
        "$(python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["ephemeral"]:
    if e["process"]["pid"] == int(sys.argv[2]):
        for d in e["destinations"]:
            if d["peer"] == sys.argv[3]: print(d["connections"], d["failed"], d["errors"])' "$T/ports.json" "$pid" "$refused")"
    "$SOCKTRACE" events "$pid" --json >"$T/curl.ev"
    check "events: getsockopt returned SO_ERROR ECONNREFUSED" "1" \
        "$(grep -c '"call":"getsockopt".*"so_error":"ECONNREFUSED"' "$T/curl.ev")"
    "$SOCKTRACE" run -- curl -sS "http://$refused/" >/dev/null 2>"$T/run.err"
    check "run: the summary counts the failed connect" "1" "$(grep -c '1 connect failed' "$T/run.err")"
else
    for _ in 1 2 3 4 5 6; do skip "curl not installed"; done
fi
if [ -x /bin/nc.openbsd ]; then
    LD_PRELOAD=$PLAIN /bin/nc.openbsd -z 127.0.0.1 "$closed_port" 2>/dev/null
    rc=$?
    pid=$(traced_pid nc.openbsd)
    check "nc -z: exit 1; the socket failed with ECONNREFUSED" "1 false ECONNREFUSED" \
        "$rc $(last_sock "$pid" "$refused" connected connect_error)"
else
    skip "netcat-openbsd not installed"
fi

# --- Python: every way a program learns the outcome ----------------------
cat >"$T/client.py" <<'PY'
import asyncio, errno, os, select, socket, sys, time
port, how = int(sys.argv[1]), sys.argv[2]
print("PID %d" % os.getpid(), flush=True)
print("READY pid=%d" % os.getpid(), flush=True)
def err(e): print("ERR %s" % errno.errorcode[e.errno], flush=True)
def pending():
    s = socket.socket(); s.setblocking(False)
    print("CONNECT_EX %s" % errno.errorcode.get(s.connect_ex(("127.0.0.1", port)), "0"), flush=True)
    return s
if how == "blocking":
    s = socket.socket()
    try: s.connect(("127.0.0.1", port))
    except OSError as e: err(e)
    s.close()
elif how == "send":
    s = pending(); select.select([], [s], [], 5)
    try: s.send(b"x")
    except OSError as e: err(e)
    s.close()
elif how == "peername":
    s = pending(); select.select([], [s], [], 5)
    try: s.getpeername()
    except OSError as e: err(e)
    print("STEP", flush=True); sys.stdin.readline()
    print("SO_ERROR %s" % errno.errorcode[s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)], flush=True)
    print("STEP", flush=True); sys.stdin.readline()
    s.close()
elif how == "asyncio":
    async def main():
        try: await asyncio.open_connection("127.0.0.1", port)
        except OSError as e: err(e)
    asyncio.run(main())
elif how == "giveup":
    # the tracer's span (connect's start to close's end) lies between
    # these: after connect returned to before close, and before connect
    # to after close returned
    t0 = time.monotonic(); s = pending(); t1 = time.monotonic()
    time.sleep(0.3)
    t2 = time.monotonic(); s.close(); t3 = time.monotonic()
    print("SPAN %.3f %.3f" % ((t2 - t1) * 1e3, (t3 - t0) * 1e3), flush=True)
elif how in ("reset", "reset_recv"):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"x")
    time.sleep(0.2)
    try: os.read(s.fileno(), 10) if how == "reset" else s.recv(10)
    except OSError as e: err(e)
    s.close()
PY
py() { # NAME HOW PORT [LIB]: the client under the tracer, finished
    LD_PRELOAD=${4:-$PRELOAD} python3 "$T/client.py" "$3" "$2" >"$T/$1.out" 2>"$T/$1.err" </dev/null
    sed -n 's/^PID //p' "$T/$1.out"
}
pid=$(py blocking blocking "$closed_port")
check "blocking connect: the program got ECONNREFUSED; the socket keeps the peer it tried" \
    "ERR ECONNREFUSED|false ECONNREFUSED failed" \
    "$(grep ^ERR "$T/blocking.out")|$(last_sock "$pid" "$refused" connected connect_error was)"
pid=$(py send send "$closed_port")
check "non-blocking connect, outcome by send: ECONNREFUSED both" \
    "EINPROGRESS ERR ECONNREFUSED|false ECONNREFUSED" \
    "$(sed -n 's/^CONNECT_EX //p' "$T/send.out") $(grep ^ERR "$T/send.out")|$(last_sock "$pid" "$refused" connected connect_error)"
pid=$(py asyncio asyncio "$closed_port")
check "asyncio open_connection: ECONNREFUSED both" "ERR ECONNREFUSED|false ECONNREFUSED" \
    "$(grep ^ERR "$T/asyncio.out")|$(last_sock "$pid" "$refused" connected connect_error)"

# getpeername's ENOTCONN after the connect failed: failed, the error not
# yet known (reading SO_ERROR would take it from the program); the
# program's own SO_ERROR then names it
start peer --traced python3 "$T/client.py" "$closed_port" peername
pid=$(said peer | sed -n 's/^PID //p')
wait_for peer '^STEP'
check "getpeername: the program got ENOTCONN; the socket failed, error not known yet" \
    "ERR ENOTCONN|false failed null" \
    "$(said peer | grep ^ERR)|$(last_sock "$pid" "$refused" connected connect_outcome connect_error)"
echo >&"${IN_FD[peer]}"
wait_for peer '^STEP' 2
check "SO_ERROR: the program got ECONNREFUSED; so does the socket" "SO_ERROR ECONNREFUSED|ECONNREFUSED" \
    "$(said peer | grep ^SO_ERROR)|$(last_sock "$pid" "$refused" connect_error)"
finish peer

# a listener whose backlog is full: the kernel drops further SYNs, so a
# connect to it stays in SYN-SENT until the program gives up
cat >"$T/full.py" <<'PY'
import os, socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
fill = []
for _ in range(2):
    c = socket.socket(); c.setblocking(False); c.connect_ex(l.getsockname()); fill.append(c)
print("PORT %d" % l.getsockname()[1]); print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
start full python3 "$T/full.py"
full_port=$(said full | sed -n 's/^PORT //p')
full="127.0.0.1:$full_port"
if command -v curl >/dev/null && command -v strace >/dev/null; then
    # curl says how long it waited, but from before it made the socket, so
    # its figure bounds nothing. The kernel's view instead, through strace
    # (-r: monotonic): the tracer's span starts before the connect call
    # enters and ends after the close returns, so it holds strace's
    # connect-entry-to-close-exit; and it lies inside curl's whole run.
    python3 - "$full" "$PLAIN" "$T" >"$T/curlto.span" 2>"$T/curlto.err" <<'PY'
import os, re, subprocess, sys, time
full, lib, t = sys.argv[1:]
# the library for curl only, not for strace
env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
t0 = time.monotonic()
r = subprocess.run(["strace", "-E", "LD_PRELOAD=" + lib, "-f", "-r", "-T", "-e", "trace=connect,close", "-o", t + "/curlto.strace",
                    "curl", "-sS", "--connect-timeout", "1", "http://%s/" % full],
                   env=env, stdout=subprocess.DEVNULL, stderr=open(t + "/curlto.out", "w"))
outer = (time.monotonic() - t0) * 1000
host, port = full.split(":")
lines = open(t + "/curlto.strace").read().splitlines()
start = fd = None
total = 0.0
for i, l in enumerate(lines):
    m = re.match(r"\s*\d+\s+([\d.]+) (.*)", l)
    if not m:
        continue
    rel, call = float(m.group(1)), m.group(2)
    if start is None:
        c = re.match(r"connect\((\d+), .*htons\(%s\).*EINPROGRESS" % port, call)
        if c:
            start, fd = i, c.group(1)
        continue
    total += rel
    d = re.match(r"close\(%s\)\s+= 0 <([\d.]+)>" % fd, call)
    if d:
        print(r.returncode, "%.3f" % ((total + float(d.group(1))) * 1000), "%.3f" % outer)
        sys.exit(0)
print(r.returncode, "none", "%.3f" % outer)
PY
    read -r rc kernel outer <"$T/curlto.span"
    pid=$(traced_pid curl)
    read -r outcome conn ms <<<"$(last_sock "$pid" "$full" connect_outcome connected connect_ms)"
    check "curl --connect-timeout 1: exit 28; the socket timed out after ${ms} ms, within [${kernel:-?}, ${outer:-?}] (the kernel's connect-to-close, curl's whole run)" \
        "28 timed_out false yes" \
        "${rc:-?} $outcome $conn $(python3 -c 'import sys; a, b, c = sys.argv[1:]; print("yes" if float(a) <= float(b) <= float(c) else "no") if a != "none" else print("no: strace saw no connect+close")' "${kernel:-none}" "${ms:-0}" "${outer:-0}" 2>&1)"
    [ -s "$T/curlto.err" ] && sed 's/^/#   /' "$T/curlto.err"
    check "curl --connect-timeout 1: the table says 'timed out after' with that figure" "1" \
        "$("$SOCKTRACE" show --all "$pid" | grep -c -E "timed out after ($(python3 -c '
import math, sys
m = float(sys.argv[1])  # 3 decimals, rounded: the text truncates the ns
print("|".join(sorted({format(math.floor(m), ","), format(math.floor(m - 0.0005), ",")})))' "${ms:-0}")) ms .*$full")"
else
    skip "curl or strace not installed"; skip "curl or strace not installed"
fi
pid=$(py giveup giveup "$full_port")
read -r outcome ms <<<"$(last_sock "$pid" "$full" connect_outcome connect_ms)"
read -r _ inner outer < <(grep ^SPAN "$T/giveup.out")
check "closed while connecting (SYN-SENT) after a 300 ms sleep: timed out, after ${ms} ms, within the program's own span [${inner}, ${outer}] ms" \
    "timed_out yes" "$outcome $(python3 -c 'import sys; a, b, c = map(float, sys.argv[1:]); print("yes" if a <= b <= c else "no")' "$inner" "$ms" "$outer")"
finish full

# a connection reset after it connected: connected, and the error its
# end came with (read() of the socket fd)
cat >"$T/rst.py" <<'PY'
import os, socket, struct, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
print("PORT %d" % l.getsockname()[1]); print("READY pid=%d" % os.getpid(), flush=True)
for _ in range(2):
    c, _ = l.accept(); c.recv(1)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
sys.stdin.read()
PY
start rst python3 "$T/rst.py"
rport=$(said rst | sed -n 's/^PORT //p')
# (the ASan runtime's read and recv do not reach the tracer's: the
# normal build)
pid=$(py reset_recv reset_recv "$rport" "$PLAIN")
check "reset after connecting: the program's recv got ECONNRESET; connected, ended by ECONNRESET" \
    "ERR ECONNRESET|true connected ECONNRESET" \
    "$(grep ^ERR "$T/reset_recv.out")|$(last_sock "$pid" "127.0.0.1:$rport" connected connect_outcome end_error)"
pid=$(py reset reset "$rport" "$PLAIN")
check "reset after connecting: the program's read got ECONNRESET; connected, ended by ECONNRESET" \
    "ERR ECONNRESET|true connected ECONNRESET" \
    "$(grep ^ERR "$T/reset.out")|$(last_sock "$pid" "127.0.0.1:$rport" connected connect_outcome end_error)"
finish rst

# --- node: libuv's non-blocking connect ----------------------------------
if command -v node >/dev/null; then
    LD_PRELOAD=$PRELOAD node -e '
const c = require("net").connect(+process.argv[1], "127.0.0.1");
c.on("error", e => { console.log("ERR " + e.code); console.log("PID " + process.pid); });' \
        "$closed_port" >"$T/node.out" 2>"$T/node.err"
    pid=$(sed -n 's/^PID //p' "$T/node.out")
    check "node net.connect: error ECONNREFUSED both" "ERR ECONNREFUSED|false ECONNREFUSED" \
        "$(grep ^ERR "$T/node.out")|$(last_sock "$pid" "$refused" connected connect_error)"
else
    skip "node not installed"
fi
done_testing
