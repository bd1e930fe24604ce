# A traced python3 server and client in their own pid and network namespace
# (unshare --pid --net), viewed from outside: the viewer's pid of each is
# the one whose NSpid in /proc ends with the pid the program itself saw;
# show by either pid agrees; the table equals that namespace's kernel view
# (nsenter -n ss), not the host's; --verify agrees; ports names the host
# pid. Then the trace directory only inside the namespace's own mount
# namespace (a private tmpfs), found by root through /proc/PID/root.
. "$(dirname "$0")/lib.sh"
# root's search of other mount namespaces for trace directories: on, and
# every check below looks at this test's own pids only
export SOCKTRACE_CONTAINERS=1

PY=$(python3 -c 'import sys; print(sys.executable)')
why=""
if [ "$(id -u)" != 0 ]; then why="needs root (unshare --pid --net, nsenter)"
elif ! command -v unshare >/dev/null || ! command -v nsenter >/dev/null || ! command -v ip >/dev/null; then
    why="needs unshare, nsenter and ip"
elif ! unshare --pid --net --fork --mount-proc true 2>/dev/null; then
    why="unshare --pid --net --fork --mount-proc fails here (no namespaces)"
fi
if [ -n "$why" ]; then
    for _ in $(seq 1 18); do skip "$why"; done
    done_testing
    exit
fi

# each prints its own pid, as its namespace gave it, then holds its sockets
cat >"$T/srv.py" <<'PYEOF'
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
print("SERVER pid=%d" % os.getpid(), flush=True)
c, _ = s.accept()
print("ACCEPTED", flush=True)
time.sleep(120)
PYEOF
cat >"$T/cli.py" <<'PYEOF'
import os, socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("CLIENT pid=%d" % os.getpid(), flush=True)
time.sleep(120)
PYEOF

# ns NAME DIR [PRIVATE]: server and client inside a new pid and network
# namespace, tracing into DIR; PRIVATE: DIR is a tmpfs of the namespace's
# own mount namespace, invisible from here
ns() {
    local name=$1 dir=$2 private=${3:-}
    mkdir -p -m 700 "$dir"
    spawn "$name" unshare --pid --net --mount --fork --mount-proc --kill-child sh -c '
        ip link set lo up || exit 1
        if [ -n "$4" ]; then mount -t tmpfs -o mode=700 none "$2" || exit 1; fi
        export SOCKTRACE_DIR=$2
        LD_PRELOAD="$3" "$1" "$5/srv.py" "$5/'"$name"'.port" &
        while [ ! -s "$5/'"$name"'.port" ]; do sleep 0.05; done
        LD_PRELOAD="$3" "$1" "$5/cli.py" "$(cat "$5/'"$name"'.port")" &
        wait' ns "$PY" "$dir" "$PRELOAD" "$private" "$T"
    # the client's connect returns before the server's accept has (and
    # has been recorded): both, before any view is held against ss
    wait_for "$name" CLIENT
    wait_for "$name" ACCEPTED
    INIT[$name]=$(pgrep -P "${PIDS[$name]}")
}

# unshare --fork ignores SIGTERM while it waits, and a pid namespace's init
# takes only SIGKILL from outside: that ends the namespace and the unshare
declare -A INIT
ns_stop() {
    kill -KILL "${INIT[$1]}" 2>/dev/null
    wait "${PIDS[$1]}" 2>/dev/null
    unset "PIDS[$1]" "INIT[$1]"
}
trap 'for p in "${INIT[@]}"; do kill -KILL "$p" 2>/dev/null; done; cleanup' EXIT

# host_pid SCRIPT: the pid, as seen here, of the python3 running SCRIPT in
# namespace NAME (the descendants of that namespace's unshare)
host_pid() {
    local p
    for p in $(pgrep -f "$T/$1"); do
        grep -q "$2" "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return; }
    done
}
nspid_last() { awk '/^NSpid:/ {print $NF}' "/proc/$1/status"; }

# the namespace's kernel view: ss run in its network namespace
ns_kernel_view() {
    nsenter -t "$1" -n bash -c ". /dev/stdin; kernel_view $1" <<<"$(declare -f kernel_view)"
}

ns one "$SOCKTRACE_DIR"
said one | sed 's/^/# /'
srv=$(host_pid srv.py one.port); cli=$(host_pid cli.py "$(cat "$T/one.port")")
srv_own=$(said one | sed -n 's/^SERVER pid=//p'); cli_own=$(said one | sed -n 's/^CLIENT pid=//p')
check "the server's own pid is the last of its NSpid here (a pid namespace below ours)" \
    "$srv_own" "$(nspid_last "$srv")"
[ "$srv" != "$srv_own" ] && ok "  ... and differs from the host pid ($srv, $srv_own)" || not_ok "  ... host pid $srv equals its own $srv_own"

check "ps --json: the server by its host pid, ns_pid its own (NSpid)" "$srv $srv_own" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["pid"] == '"$srv"': print(p["pid"], p["ns_pid"])')"
check "ps --json: the client the same way" "$cli $cli_own" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["pid"] == '"$cli"': print(p["pid"], p["ns_pid"])')"
check "ps: the PID cell names both" "$srv (container pid $srv_own)" \
    "$("$SOCKTRACE" ps | grep -o "^ *[└ ]*$srv (container pid [0-9]*)" | sed 's/^[ └]*//')"
check "show: the header line names both" "pid $srv (container pid $srv_own)" \
    "$("$SOCKTRACE" show "$srv" | head -1 | grep -o '^pid [0-9]* ([^)]*)')"

"$SOCKTRACE" show "$srv" --json >"$T/by_host.json"
"$SOCKTRACE" show "$srv_own" --json >"$T/by_ns.json"
check "show by the container pid is show by the host pid" "$(cat "$T/by_host.json")" "$(cat "$T/by_ns.json")"

# the sockets are in the namespace's tables, not the host's
check "the host's ss has no socket of the server (another network namespace)" "" "$(kernel_view "$srv")"
for who in srv cli; do
    p=${!who}
    k=$(ns_kernel_view "$p")
    [ -n "$k" ] || not_ok "$who: nsenter ss shows no socket"
    check "$who: the table equals the namespace's kernel view (nsenter -n ss -p)" "$k" "$(tracer_view "$p")"
done
check "--verify by the host pid: exit 0" "0" "$(status "$SOCKTRACE" show "$srv" --verify)"
check "--verify by the container pid: exit 0" "0" "$(status "$SOCKTRACE" show "$srv_own" --verify)"

port=$(cat "$T/one.port")
check "ports --json: the listener's port held by the host pid" "$srv $srv_own" \
    "$("$SOCKTRACE" ports --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["ports"]:
    if p["socket"]["local"] == "127.0.0.1:'"$port"'": print(p["process"]["pid"], p["process"]["ns_pid"])')"
ns_stop one
check "ended: ps --json keeps its own pid, the host pid null (no process to map)" "None $srv_own" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["ns_pid"] == '"$srv_own"' and p["pid"] != '"$srv_own"': print(p["pid"], p["ns_pid"])')"

# second: the trace directory exists only in the namespace's mount namespace
priv=$T/private
ns two "$priv" private
srv2=$(host_pid srv.py two.port)
srv2_own=$(said two | sed -n 's/^SERVER pid=//p')
check "the private directory is empty from here (a tmpfs over it inside)" "" "$(ls -A "$priv")"
check "root finds the server's trace through /proc/PID/root: ps --json by host pid" "$srv2 $srv2_own" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["pid"] == '"$srv2"': print(p["pid"], p["ns_pid"])')"
check "  ... its NSpid says the same" "$srv2_own" "$(nspid_last "$srv2")"
check "  ... show's table equals the namespace's kernel view" "$(ns_kernel_view "$srv2")" "$(tracer_view "$srv2")"
ns_stop two
done_testing
