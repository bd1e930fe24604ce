#!/usr/bin/env bash
# t0480 - Python's uvloop (libuv: every close is syscall(SYS_close, fd)):
# an echo server, and a client with 20 connections open at once, all then
# closed; then, in the client, an asyncio subprocess whose pipes take the
# numbers the connections freed. Each connection is closed in history as
# a close, before the subprocess started; closing the pipes invents no
# close. Held against the programs' own reports (ports, the time the
# subprocess phase began, the pipe fds from /proc/self/fd), ss and /proc.
. "$(dirname "$0")/lib.sh"

# Debian's python3-uvloop, for the system python (not a pyenv one on PATH)
PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! "$PY" -c 'import uvloop' 2>/dev/null; then
    skip "uvloop not installed for /usr/bin/python3 (Debian: apt-get install python3-uvloop)"
    done_testing; exit
fi
N=20

cat >"$T/server.py" <<'EOF'
# uvloop echo server: prints the peer port of each connection it closed
import asyncio, os, sys, uvloop

async def echo(reader, writer):
    peer = writer.get_extra_info("peername")[1]
    writer.write(await reader.read(100))
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    print(f"SERVED peer={peer}", flush=True)

async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}\nREADY pid={os.getpid()}", flush=True)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(0, lambda: done.done() or (os.read(0, 100) or done.set_result(None)))
    await done

uvloop.install()
asyncio.run(main())
EOF
cat >"$T/client.py" <<'EOF'
# uvloop client: N echo connections open at once, then all closed; then,
# with the uvloop loop still open, an asyncio subprocess (the standard
# loop: os.pipe, closed by close()) whose pipes take the freed numbers
import asyncio, os, sys, time, uvloop

def fds(kind):
    out = []
    for f in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{f}").startswith(kind):
                out.append(int(f))
        except OSError:
            pass
    return sorted(out)

used = set()

async def conns(port, n):
    pairs = [await asyncio.open_connection("127.0.0.1", port) for _ in range(n)]
    for i, (reader, writer) in enumerate(pairs):
        used.add(writer.get_extra_info("socket").fileno())
        print(f"CONN local={writer.get_extra_info('sockname')[1]}", flush=True)
        writer.write(b"ping %d" % i)
        assert await reader.read(100) == b"ping %d" % i
    for _, writer in pairs:
        writer.close()
    for _, writer in pairs:
        await writer.wait_closed()

async def sub():
    proc = await asyncio.create_subprocess_exec(
        "cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    pipes = [f for f in fds("pipe:") if f in used]
    print(f"PIPES reusing={pipes}", flush=True)
    out, _ = await proc.communicate(b"through the pipes")
    assert out == b"through the pipes"

uv = uvloop.new_event_loop()
uv.run_until_complete(conns(int(sys.argv[1]), int(sys.argv[2])))
time.sleep(0.02)
print(f"SUBPROCESS at={time.time_ns()}", flush=True)
time.sleep(0.02)
std = asyncio.SelectorEventLoop()
asyncio.set_event_loop(std)
std.run_until_complete(sub())
std.close()
print(f"DONE sockets_now={' '.join(map(str, fds('socket:')))}", flush=True)
EOF

start srv --traced "$PY" "$T/server.py" || { not_ok "the uvloop server started"; done_testing; exit; }
spid=$(ready_pid srv)
port=$(said srv | sed -n 's/^PORT //p')
k=$(kernel_view "$spid")
check "the server's table equals ss's view (the listener)" "$k" "$(tracer_view "$spid" "$(fds_of "$k")")"

LD_PRELOAD="$PRELOAD" "$PY" "$T/client.py" "$port" "$N" >"$T/client.out" 2>"$T/client.err"
check "the client ran to the end" "0" "$?"
sed 's/^/# client: /' "$T/client.err" | head -5
cpid=$(ls "$SOCKTRACE_DIR" | sed -n 's/^\([0-9]*\)-.*\.trace$/\1/p' | grep -v "^$spid\$" | head -1)
wait_for srv SERVED "$N"

check "the subprocess's pipes took numbers the connections had used" "yes" \
    "$(grep -q '^PIPES reusing=\[[0-9]' "$T/client.out" && echo yes || grep '^PIPES' "$T/client.out")"

closed() { # PID ORIGIN [NS]: "port close_seen before|after" of its closed TCP
    # sockets (the local port for the client's, the peer's for the
    # server's), and whether closed before NS
    "$SOCKTRACE" show "$1" --all --json | python3 -c '
import json, sys
from datetime import datetime
at = int(sys.argv[2]) if sys.argv[2] else None
for s in json.load(sys.stdin)["sockets"]:
    if s["proto"] == "tcp" and s["closed"] and s["origin"] == sys.argv[1]:
        port = (s["local"] if sys.argv[1] == "socket" else s["peer"]).rsplit(":", 1)[1]
        ms = round(datetime.fromisoformat(s["closed"]).timestamp() * 1000)
        print(port, s["close_seen"], "before" if at is None or ms * 1000000 < at else "after")' "$2" "${3:-}" | sort -n
}
at=$(sed -n 's/^SUBPROCESS at=//p' "$T/client.out")
check "client: each of its $N connections closed once, by a call, before the subprocess began" \
    "$(sed -n 's/^CONN local=//p' "$T/client.out" | sort -n | sed 's/$/ close before/')" "$(closed "$cpid" socket "$at")"
check "client: the sockets open at the end are those its own /proc/self/fd had (uvloop's own)" \
    "$(sed -n 's/^DONE sockets_now=//p' "$T/client.out")" \
    "$("$SOCKTRACE" show "$cpid" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"])))')"
check "client: no event after the subprocess began names a socket (a pipe's close is no socket's)" "" \
    "$(j=$(viewer_json events "$cpid" --json) || { echo "$j"; exit; }; json_rows '
import json, sys
from datetime import datetime
at = int(sys.argv[1])
for l in sys.stdin:
    e = json.loads(l)
    if round(datetime.fromisoformat(e["time"]).timestamp() * 1000) * 1000000 > at and (e["local"] or e["peer"]):
        print(e["call"], e["fd"], e["local"], e["peer"])' "$at" <<<"$j")"

check "server: each connection it served closed once, by a call" \
    "$(said srv | sed -n 's/^SERVED peer=//p' | sort -n | sed 's/$/ close before/')" "$(closed "$spid" accept)"
k=$(kernel_view "$spid")
check "server: the table equals ss's view" "$k" "$(tracer_view "$spid" "$(fds_of "$k")")"
check "server: the open fds equal /proc's sockets" \
    "$(find /proc/"$spid"/fd -lname 'socket:*' -printf '%f\n' | sort -n | tr '\n' ' ')" \
    "$("$SOCKTRACE" show "$spid" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"])), end=" ")')"
"$SOCKTRACE" show --verify "$spid" >"$T/verify" 2>&1
check "server: show --verify exits 0" "0" "$?"
finish srv
done_testing
