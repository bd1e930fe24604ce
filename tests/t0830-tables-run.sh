# Tables that fit the terminal and `ports` as ss shows it (nginx master and
# two workers, one listener with a long unix path); `run` with a command
# that leaves a background child running; an orphan's parent; Python's
# setblocking(False) through ioctl(FIONBIO); run's errors and a typo.
. "$(dirname "$0")/lib.sh"
# lines of FILE longer than N characters (not bytes: the cut marker is one)
longer() { python3 -c 'import sys; print(sum(len(l.rstrip("\n")) > int(sys.argv[2]) for l in open(sys.argv[1], encoding="utf-8")))' "$1" "$2"; }
if [ ! -x "$NGINX" ] || ! command -v curl >/dev/null; then
    skip "nginx-light and curl are needed"; done_testing; exit
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# long, within a unix socket's 107 bytes
long="$T/ng/a-directory-name-long-enough/to-widen-any-table"
mkdir -p "$long"
start_nginx "127.0.0.1:$port" "unix:$long/nginx.sock"
master=${PIDS[nginx]}
check "two workers started" "2" "$(pgrep -P "$master" | wc -l)"

# ss: the pids holding the TCP listener, in order
ss_pids=$(ss -H -n -l -t -p "sport = :$port" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -n | paste -sd,)
for cols in 80 200; do
    COLUMNS=$cols "$SOCKTRACE" ports >"$T/ports.$cols"
    check "COLUMNS=$cols: no line longer than $cols" "0" \
        "$(longer "$T/ports.$cols" "$cols")"
    check "  ... the TCP listener once, held by the pids ss gives, port whole" "1 nginx[$ss_pids] $port" \
        "$(awk -v p="$port" '$1 == "tcp" && $3 == p' "$T/ports.$cols" | wc -l) $(awk -v p="$port" '$1 == "tcp" && $3 == p ' "$T/ports.$cols" | grep -o 'nginx\[[0-9,]*\]') $port"
done
check_cmd "COLUMNS=80: the long path cut in the middle (start and end kept)" \
    grep -qE "^unix +$(cut -c1-4 <<<"$T")[^ ]*(…|\.\.\.)[^ ]*sock " "$T/ports.80"
COLUMNS=80 "$SOCKTRACE" ports -w >"$T/ports.w"
check "-w: the unix listener's whole path" "$long/nginx.sock" "$(awk '$1 == "unix" {print $2}' "$T/ports.w")"
check "-w: the whole command line" "1" "$(grep -c -- "-c $T/ng/nginx.conf -g daemon off;\$" "$T/ports.w" | head -1 | sed 's/[2-9]/1/')"
ss_unix=$(ss -H -x -l -p | grep -F "$long/nginx.sock" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -n | paste -sd,)
check "-w: the unix listener once, held by the pids ss gives" "nginx[$ss_unix]" \
    "$(awk '$1 == "unix"' "$T/ports.w" | grep -o 'nginx\[[0-9,]*\]')"
COLUMNS=60 "$SOCKTRACE" show --all "$master" >"$T/show.60"
sed 1,3d "$T/show.60" >"$T/show.60.rows"
check "show --all at COLUMNS=60: no row longer than 60 (the header rows are whole)" "0" \
    "$(longer "$T/show.60.rows" 60)"
# nginx's master exits after its workers have: once it is reaped all have ended
kill "$master"; wait "$master" 2>/dev/null; unset "PIDS[nginx]"
check_cmd "ports --all marks the ended holders" grep -q "ENDED" <("$SOCKTRACE" ports --all)

# run: a background child still running when the command exits
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$sport" --bind 127.0.0.1 >"$T/http.log" 2>&1 &
PIDS[http]=$!
wait_listen "$sport"
curl_cmd="curl -s -m 5 -o /dev/null -w 'CURLPORT %{local_port}\n' http://127.0.0.1:$sport/"
# the background child waits for the test (a FIFO), so it is still
# running when run looks, however late that is
mkfifo "$T/gate"
"$SOCKTRACE" run -- sh -c "(read x <'$T/gate'; exec $curl_cmd >'$T/run1.curl') & exit 5" >"$T/run1.out" 2>"$T/run1.err"
check "run: the command's status" "5" "$?"
check_cmd "  ... names the process still running (one line, its pid and command)" \
    grep -qE "^socktrace: [0-9]+ process(es)? still running" "$T/run1.err"
timeout 60 sh -c "echo go >'$T/gate'"
wait_until "the released background curl reported its port" \
    'grep -q "^CURLPORT" "$T/run1.curl" 2>/dev/null'
cmd="(sleep 1; exec $curl_cmd) & exit 5"
COLUMNS=200 "$SOCKTRACE" run --wait -- sh -c "$cmd" >"$T/run2.out" 2>"$T/run2.err"
check "run --wait: the command's status" "5" "$?"
own=$(sed -n 's/^CURLPORT //p' "$T/run2.out")
check "  ... curl ran to the end before the summary" "1" "$(grep -c '^CURLPORT [0-9]' "$T/run2.out")"
check "  ... its connection in the summary, at the port curl reports" "127.0.0.1:$own * 127.0.0.1:$sport" \
    "$(grep -o '127\.0\.0\.1:[0-9]* \* *127\.0\.0\.1:[0-9]*' "$T/run2.err" | tr -s ' ')"
check "  ... no still-running line" "0" "$(grep -c 'still running' "$T/run2.err")"
check_cmd "  ... the byte counts, as show prints them" grep -q "sent [0-9]" "$T/run2.err"
stop http
"$SOCKTRACE" run -- "$EX/bind_port_zero" </dev/null >/dev/null 2>"$T/run3.err"
"$SOCKTRACE" run -- sh -c 'exec 3<>/dev/null; python3 -c "import socket; socket.socketpair()"' \
    >/dev/null 2>"$T/run4.err"
check "the kernel-port footnote under a row with ' *'" "1" "$(grep -c 'port chosen by the kernel' "$T/run3.err")"
check "  ... and not without one (socketpair only)" "0 0" \
    "$(grep -c ' \* ' "$T/run4.err") $(grep -c 'port chosen by the kernel' "$T/run4.err")"

"$SOCKTRACE" run -- /nonexistent >"$T/out" 2>"$T/err"
check "run -- /nonexistent: exit 127" "127" "$?"
check "  ... one line, the error, no summary" "socktrace: /nonexistent: No such file or directory" "$(cat "$T/err")"
check "a typo: exit 2" "2" "$(status "$SOCKTRACE" show --jsn)"
check "  ... one line naming it and where help is" \
    "socktrace: unknown option --jsn; see socktrace show --help" "$(cat "$T/err")"
check "a typo in run's options: one line" "1 2" "$("$SOCKTRACE" run --qiet -- true 2>&1 | wc -l) $(status "$SOCKTRACE" run --qiet -- true)"

# an orphan: its parent (no socket, so no file) forks it and exits first;
# the parent recorded must be that process, as it reported its own pid
cat >"$T/orphan.py" <<'PY'
import os, socket, time
r, w = os.pipe()                 # EOF here once the grandchild has exited
if os.fork() == 0:
    os.close(r)
    parent = os.getpid()
    print("PARENT", parent, flush=True)
    if os.fork() == 0:
        end = time.time() + 60   # until the parent has exited (hang guard 60 s)
        while os.getppid() == parent and time.time() < end:
            time.sleep(0.01)
        s = socket.socket(); s.bind(("127.0.0.1", 0))
        print("CHILD", os.getpid(), os.getppid(), flush=True)
        time.sleep(0.5)
        os._exit(0)
    os._exit(0)
os.close(w)
os.wait()
os.read(r, 1)
PY
LD_PRELOAD="$PRELOAD" python3 "$T/orphan.py" >"$T/orphan.out" 2>&1
parent=$(sed -n 's/^PARENT //p' "$T/orphan.out")
read -r _ child now_ppid < <(grep '^CHILD' "$T/orphan.out")
check "orphan: reparented by the kernel (test precondition)" "yes" "$([ "$now_ppid" != "$parent" ] && echo yes)"
check "  ... the trace records the real parent, as it gave its own pid" "$parent" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
print([p["ppid"] for p in json.load(sys.stdin)["processes"] if p["pid"] == '"$child"'][0])')"

# the issue's case: a shell's background job that execs a program after
# the shell has exited (`sh -c '(sleep; exec prog) & exit 5'`): the new
# image's getppid() says 1; the trace must name the shell, as it gave its
# own pid ($$), and run --wait must report the program's socket
cat >"$T/late.py" <<'PY'
import os, socket
s = socket.socket(); s.bind(("127.0.0.1", 0))
print("LATE", os.getpid(), os.getppid(), s.getsockname()[1], flush=True)
PY
# the job execs once the shell has exited (a zombie: its children are
# reparented by then); hang guard 60 s
gone='i=0; while [ $i -lt 1200 ] && [ -e /proc/$$ ] && ! grep -q "^[0-9]* (.*) Z" /proc/$$/stat; do sleep 0.05; i=$((i + 1)); done'
"$SOCKTRACE" run --wait -- sh -c "echo SH \$\$ >'$T/late.out'; ($gone; exec python3 '$T/late.py' >>'$T/late.out') & exit 5" \
    2>"$T/late.err"
rc=$?
sh_pid=$(sed -n 's/^SH //p' "$T/late.out")
read -r _ late_pid late_getppid late_port < <(grep '^LATE' "$T/late.out")
check "exec after the shell exited: run exits with the shell's 5; the program saw getppid() != the shell" \
    "5 yes" "$rc $([ "$late_getppid" != "$sh_pid" ] && echo yes)"
check "  ... the trace records the shell as its parent, as the shell gave its pid" "$sh_pid" \
    "$("$SOCKTRACE" show "$late_pid" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ppid"])')"
check "  ... run --wait's summary has its socket, the port it reported" "1" \
    "$(grep -c "^$late_pid .*127.0.0.1:$late_port" "$T/late.err")"

# a process in the middle of execve reads as an empty /proc/PID/environ;
# run --wait must not take that for a process outside the run: a job that
# execs itself 300 times, after the shell exited, writes its file at the end
cat >"$T/chain.sh" <<'SH'
if [ "$1" -gt 0 ]; then exec sh "$0" $(($1 - 1)) "$2"; fi
echo done >"$2"
SH
missed=0
for i in 1 2 3 4 5; do
    rm -f "$T/chain.out"
    "$SOCKTRACE" run --quiet --wait -- sh -c "($gone; exec sh '$T/chain.sh' 300 '$T/chain.out') & exit 0"
    [ -s "$T/chain.out" ] || missed=$((missed + 1))
done
check "run --wait through 300 execs after the shell exited: the last one's file exists when run returns (5 runs)" \
    "0" "$missed"

# setblocking(False) is ioctl(FIONBIO) in CPython
cat >"$T/nb.py" <<'PY'
import fcntl, os, socket, sys
s = socket.socket(); s.setblocking(False)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.setblocking(False); u.setblocking(True)
own = lambda x: "true" if fcntl.fcntl(x.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK else "false"
print("READY pid=%d" % os.getpid(), flush=True)
print("NB", s.fileno(), own(s), u.fileno(), own(u), flush=True)
sys.stdin.read()
PY
start nb --traced python3 "$T/nb.py"
wait_for nb '^NB'
read -r _ sfd sown ufd uown < <(said nb | grep '^NB')
pid=$(ready_pid nb)
check "setblocking(False): nonblocking as fcntl(F_GETFL) says; True again after setblocking(True)" \
    "$sown $uown" "$(tracer_field "$pid" "$sfd" nonblocking | tr A-Z a-z) $(tracer_field "$pid" "$ufd" nonblocking | tr A-Z a-z)"
check "  ... (held against a known value: the first is non-blocking)" "true" "$sown"
finish nb
done_testing
