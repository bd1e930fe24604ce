# Exec out of the tracer: a traced process execs a program that does not
# load the library (a static binary, an environment without LD_PRELOAD,
# one whose preload the loader cannot find). show names /proc's command
# and says "exec'd into an untraced program"; the table is held against
# ss -p and the new program's own getsockname/getpeername. An exec that
# fails leaves no mark; one into a traced program, caught while its
# loader is still at work, is not taken for untraced.
. "$(dirname "$0")/lib.sh"

cat >"$T/launch.py" <<'PY'
# a listener, a connection to it (both ends) kept across exec, and a UDP
# socket that close-on-exec takes; then exec argv[1:]
import os, socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
for s in (l, c, a):
    s.set_inheritable(True)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
print("CLOEXEC %d" % u.fileno(), flush=True)
env = dict(os.environ)
if os.environ.get("NEXT_PRELOAD") is not None:
    env["LD_PRELOAD"] = os.environ["NEXT_PRELOAD"]
    if not env["LD_PRELOAD"]:
        del env["LD_PRELOAD"]
if os.environ.get("SAY_READY"):
    print("READY pid=%d" % os.getpid(), flush=True)
os.execve(sys.argv[1], sys.argv[1:], env)
PY

# proc_argv PID: /proc's command line, one line, as show prints it
proc_argv() { tr '\0' ' ' <"/proc/$1/cmdline" | sed 's/ $//'; }
# open_view PID: "fd local peer" of the entries show has open (not the
# ones it found closed)
open_view() {
    "$SOCKTRACE" show "$1" --json | python3 -c '
import json, sys
for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"]):
    if s["state"] != "closed":
        print(s["fd"], s["local"] or "-", s["peer"] or "-")'
}
json_field() { # PID EXPR: a Python expression over the show --json object d
    "$SOCKTRACE" show "$1" --json | python3 -c 'import json, sys; d = json.load(sys.stdin); print('"$2"')'
}
# wait_exec PID PROGRAM: until /proc/PID/exe is PROGRAM (the exec happened)
wait_exec() {
    local i
    for i in $(seq 1 3000); do
        [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.02
    done
    not_ok "pid $1 exec'd $2 (exe: $(readlink "/proc/$1/exe" 2>/dev/null))"
    return 1
}

STATIC=$T/holdstatic
if ! ${STATIC_CC:-gcc} -static -O2 -o "$STATIC" "$ROOT/tests/helpers/static/holdstatic.c" \
        >"$T/static.log" 2>&1; then
    skip "cannot build a static binary (gcc -static needs libc6-dev's libc.a): $(head -1 "$T/static.log")"
else
    # a traced python, then a traced sh (which reopens the file), then the
    # static program: the same pid throughout
    start sh --traced python3 "$T/launch.py" /bin/sh -c 'exec "$0" held' "$STATIC"
    pid=$(ready_pid sh)
    cloexec=$(said sh | sed -n 's/^CLOEXEC //p')
    "$SOCKTRACE" show "$pid" >"$T/show.txt"
    check "show: the command is /proc's, not the traced one" "pid $pid  $(proc_argv "$pid")" \
        "$(head -1 "$T/show.txt")"
    check_cmd "show: says it exec'd into an untraced program, naming the path" \
        grep -q "exec'd into an untraced program ($STATIC)" "$T/show.txt"
    check "json: running, exec_untraced, command_now as /proc has it, exec_path" \
        "running True ['$STATIC', 'held'] $STATIC" \
        "$(json_field "$pid" 'd["state"], d["exec_untraced"], d["command_now"], d["exec_path"]')"
    check "json: command is still the last traced image's (sh)" "/bin/sh" \
        "$(json_field "$pid" 'd["command"][0]')"
    check "the table equals ss -p for the pid" "$(kernel_view "$pid")" "$(open_view "$pid")"
    check "the table equals the static program's own view" "$(own_view sh "$pid")" \
        "$(open_view "$pid")"
    check "three sockets went through both execs" "3" "$(kernel_view "$pid" | wc -l)"
    check "the UDP socket was closed by sh's exec (close-on-exec), seen by the tracer" "exec" \
        "$(tracer_closed "$pid" "$cloexec" close_seen)"
    check "ps: /proc's command, marked" "$(proc_argv "$pid")  [exec'd, untraced; was: /bin/sh -c exec \"\$0\" held $STATIC]" \
        "$("$SOCKTRACE" ps | awk -v pid="$pid" '$1 == pid' | sed -E 's/^([^ ]+ +){6}//')"
    check "ps --json: one traced exec, exec_untraced, open as ss" "1 True 3" \
        "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["processes"] if p["pid"] == '"$pid"'][0]
print(p["execs"], p["exec_untraced"], p["open"])')"
    check "--verify: the trace agrees with the kernel (exit 0)" "0" \
        "$(status "$SOCKTRACE" show "$pid" --verify)"
    finish sh

    # straight from python to the static program: the close-on-exec UDP
    # socket goes with that exec, which no tracer saw; /proc shows it gone
    start st --traced python3 "$T/launch.py" "$STATIC" held
    pid=$(ready_pid st)
    cloexec=$(said st | sed -n 's/^CLOEXEC //p')
    check "untraced exec with a close-on-exec socket: the table equals ss" \
        "$(kernel_view "$pid")" "$(open_view "$pid")"
    check "  ... the close-on-exec socket shown closed by the exec" "closed (was bound, exec)" \
        "$("$SOCKTRACE" show "$pid" | awk -v fd="$cloexec" '$1 == fd' | grep -o 'closed ([^)]*)')"
    check "  ... --verify exit 0, the socket found closed" "0 [$cloexec]" \
        "$(status "$SOCKTRACE" show "$pid" --verify --json) $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["found_closed"])' "$T/out")"
    check "  ... show's open count equals the kernel's" "$(kernel_view "$pid" | wc -l) open" \
        "$("$SOCKTRACE" show "$pid" | grep -m1 '^  ppid' | grep -o '[0-9]* open')"
    finish st
fi

# an environment that dropped LD_PRELOAD: a dynamic program, untraced
start env --traced env NEXT_PRELOAD= SAY_READY=1 python3 "$T/launch.py" /bin/cat
pid=$(ready_pid env)
wait_exec "$pid" "$(readlink -f /bin/cat)"
check "LD_PRELOAD dropped: exec_untraced, command_now [cat]" "True ['/bin/cat']" \
    "$(json_field "$pid" 'd["exec_untraced"], d["command_now"]')"
check "  ... the table equals ss" "$(kernel_view "$pid")" "$(open_view "$pid")"
finish env

# a preload the loader cannot find there (it warns and runs the program):
# the viewer gives the loader its moment, then says untraced
start miss --traced env NEXT_PRELOAD="$T/nowhere/libsocktrace.so" SAY_READY=1 \
    python3 "$T/launch.py" /bin/cat
pid=$(ready_pid miss)
wait_exec "$pid" "$(readlink -f /bin/cat)"
check "a preload the loader could not load: exec_untraced" "True" \
    "$(json_field "$pid" 'd["exec_untraced"]')"
finish miss

# a traced program caught mid-load: its loader blocks opening a FIFO
# named before the library in LD_PRELOAD. The viewer, asked then, must
# wait for the loader instead of calling the process untraced; released,
# the new image reopens the file, and show names it.
mkfifo "$T/fifo.so"
start load --traced env NEXT_PRELOAD="$ASAN_RT $T/fifo.so $LIB" SAY_READY=1 \
    python3 "$T/launch.py" /bin/cat
pid=$(ready_pid load)
wait_exec "$pid" "$(readlink -f /bin/cat)"
if grep -q libsocktrace "/proc/$pid/maps"; then
    not_ok "the loader mapped the library before the FIFO was opened"
else
    ok "the new image's loader is blocked before mapping the library"
fi
"$SOCKTRACE" show "$pid" --json >"$T/mid.json" 2>&1 &
viewer=$!
# released once the viewer has looked and found it loading (asleep in its
# 10 ms wait, which gives the loader 500 ms), not after a fixed time: later
# it would say untraced, earlier it would not have caught the loader
waiting=""
for _ in $(seq 6000); do
    case $(cat /proc/"$viewer"/wchan 2>/dev/null) in *nanosleep*) waiting=1; break ;; esac
    kill -0 "$viewer" 2>/dev/null || break
    sleep 0.01
done
[ -n "$waiting" ] ||
    not_ok "the viewer reached its wait for the loader (wchan: $(cat /proc/"$viewer"/wchan 2>/dev/null))"
exec {w}>"$T/fifo.so"      # the loader reads end-of-file, skips it, goes on
exec {w}>&-
wait "$viewer"
check "caught mid-load: not untraced, the new command" "False ['/bin/cat']" \
    "$(python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print(d["exec_untraced"], d["command"])' "$T/mid.json")"
check "  ... the table equals ss (the new image swept and asked the kernel)" \
    "$(kernel_view "$pid")" "$(open_view "$pid")"
finish load

# an exec that fails (ENOENT, by path and by a PATH search): the program
# sees what libc says, goes on traced, and leaves no mark. Killed with
# SIGKILL afterwards (no exit mark), a mark left behind would read as an
# exec into an untraced program.
cat >"$T/fail.py" <<'PY'
import errno, os, socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
for f in (lambda: os.execv("/nonexistent/prog", ["x"]), lambda: os.execvp("no-such-program-st", ["x"])):
    try:
        f()
    except OSError as e:
        print("EXECFAIL", errno.errorcode[e.errno], flush=True)
after = socket.socket(); after.bind(("127.0.0.1", 0)); after.listen(4)
print("READY pid=%d" % os.getpid(), flush=True)
import sys; sys.stdin.read()
PY
python3 "$T/fail.py" </dev/null >"$T/fail.untraced" 2>&1
start fail --traced python3 "$T/fail.py"
pid=$(ready_pid fail)
check "failed exec: the program sees what it sees untraced" "$(grep EXECFAIL "$T/fail.untraced")" \
    "$(said fail | grep EXECFAIL)"
check "  ... not untraced, no command_now, its own command" "False None $T/fail.py" \
    "$(json_field "$pid" 'd["exec_untraced"], d["command_now"], d["command"][1]')"
check "  ... traced on: the socket made after it equals ss" "$(kernel_view "$pid")" "$(open_view "$pid")"
kill -9 "$pid"; wait "${PIDS[fail]}" 2>/dev/null; unset "PIDS[fail]"
check "  ... killed afterwards: still no exec mark" "exited False" \
    "$(json_field "$pid" 'd["state"], d["exec_untraced"]')"

# every hooked exec function, failing every way a program meets, then an
# execlp with arguments: the same output traced and untraced (errno too),
# and the file records one exec, into a traced sh
ST_EXEC_TEST=7 "$B/tests/execcalls" >"$T/calls.untraced" 2>&1
ST_EXEC_TEST=7 LD_PRELOAD="$PRELOAD" "$B/tests/execcalls" >"$T/calls.traced" 2>&1 &
cpid=$!
wait "$cpid"
check "the exec family: traced output equals untraced, byte for byte" \
    "$(cat "$T/calls.untraced")" "$(cat "$T/calls.traced")"
check "  ... 17 failing calls and the arguments of the one that worked" "18 ARGS a b c  env=7" \
    "$(wc -l <"$T/calls.traced") $(tail -1 "$T/calls.traced")"
check "  ... its file: one exec, into a traced program (not untraced)" "1 False" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["processes"] if p["pid"] == '"$cpid"'][0]
print(p["execs"], p["exec_untraced"])')"
done_testing
