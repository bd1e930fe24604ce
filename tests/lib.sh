# tests/lib.sh - sourced by every tests/tNNNN-*.sh. TAP output, starting a
# program under the tracer, and the three views a test holds side by side:
# the program's own (its SOCK lines), the tracer's (socktrace show --json)
# and the kernel's (ss -p).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
EX=$B/examples
SOCKTRACE=$B/socktrace
LIB=$B/san/libsocktrace.so
# an ASan-built library preloaded into an uninstrumented program needs the
# ASan runtime loaded first
ASAN_RT=$(${CC:-cc} -print-file-name=libasan.so)
PRELOAD="$ASAN_RT $LIB"
export ASAN_OPTIONS=detect_leaks=0:exitcode=86:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87
T=$(mktemp -d /tmp/socktrace-test.XXXXXX)
export SOCKTRACE_DIR=$T/traces
# other tests' containers (pid and mount namespaces) on this machine are
# not this test's processes; t1000 turns the search on
export SOCKTRACE_CONTAINERS=0
mkdir -m 700 "$SOCKTRACE_DIR"
n=0
failed=0
declare -A IN_FD PIDS

cleanup() {
    for k in "${!IN_FD[@]}"; do eval "exec ${IN_FD[$k]}>&-" 2>/dev/null; done
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }
done_testing() { echo "1..$n"; [ "$failed" -eq 0 ]; }

# check DESC EXPECTED ACTUAL: equal strings, else a diff under the line
check() {
    if [ "$2" == "$3" ]; then
        ok "$1"
    else
        not_ok "$1"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/#   /'
    fi
}

# check_cmd DESC CMD...: the command succeeds
check_cmd() {
    local d=$1; shift
    if "$@" >"$T/check.out" 2>&1; then ok "$d"; else not_ok "$d"; sed 's/^/#   /' "$T/check.out"; fi
}

# start NAME [--traced] CMD...: runs CMD in the background with stdin from
# a pipe we hold, waits for READY, sets PID_NAME from the READY line.
start() {
    local name=$1; shift
    local pre=""
    if [ "$1" = "--traced" ]; then pre=$PRELOAD; shift; fi
    mkfifo "$T/$name.in"
    run_bg "$name" "$pre" "$T/$name.in" "$@"
    local fd
    exec {fd}>"$T/$name.in"
    IN_FD[$name]=$fd
    # the checks after it would compare nothing with nothing
    if ! wait_for "$name" READY; then
        done_testing
        exit 1
    fi
}

# run_bg NAME PRELOAD STDIN CMD...: CMD in the background, PIDS[NAME] set.
# The child must not hold the write ends of the other programs' pipes, or
# they would never see end-of-file.
run_bg() {
    local name=$1 pre=$2 in=$3; shift 3
    (
        for k in "${!IN_FD[@]}"; do eval "exec ${IN_FD[$k]}>&-"; done
        if [ -n "$pre" ]; then export LD_PRELOAD="$pre"; fi
        exec "$@"
    ) <"$in" >"$T/$name.out" 2>"$T/$name.err" &
    PIDS[$name]=$!
}

# spawn NAME [--traced] CMD...: a server in the background, stdin closed
spawn() {
    local name=$1 pre=""; shift
    if [ "$1" = "--traced" ]; then pre=$PRELOAD; shift; fi
    run_bg "$name" "$pre" /dev/null "$@"
}

# stop NAME: kill a spawned program and reap it
stop() {
    kill "${PIDS[$1]}" 2>/dev/null
    wait "${PIDS[$1]}" 2>/dev/null
    unset "PIDS[$1]"
}

# wait_for NAME PATTERN [COUNT]: until NAME's output has COUNT such lines.
# Not there within the hang guard (60 s), or NAME gone without them: a
# not ok with what NAME printed, status 1.
wait_for() {
    local i
    for i in $(seq 1 1200); do
        [ "$(cat "$T/$1.out" "$T/$1.err" 2>/dev/null | grep -c "$2")" -ge "${3:-1}" ] && return 0
        if [ -n "${PIDS[$1]:-}" ] && ! kill -0 "${PIDS[$1]}" 2>/dev/null; then
            [ "$(cat "$T/$1.out" "$T/$1.err" 2>/dev/null | grep -c "$2")" -ge "${3:-1}" ] && return 0
            break
        fi
        sleep 0.05
    done
    not_ok "$1 printed ${3:-1} line(s) matching '$2'"
    sed 's/^/#   /' "$T/$1.out" "$T/$1.err" 2>/dev/null | tail -20
    return 1
}

# what a program printed, on stdout or stderr
said() { cat "$T/$1.out" "$T/$1.err" 2>/dev/null; }
ready_pid() { said "$1" | grep -m1 '^READY' | sed 's/.*pid=//'; }

# finish NAME: close its stdin, wait for it; returns its exit status
finish() {
    eval "exec ${IN_FD[$1]}>&-"
    unset "IN_FD[$1]"
    wait "${PIDS[$1]}"
    local rc=$?
    unset "PIDS[$1]"
    return $rc
}

# own_view NAME [PID]: "fd local peer" from the program's SOCK lines
own_view() {
    said "$1" | grep '^SOCK' | { if [ -n "${2:-}" ]; then grep "pid=$2 "; else cat; fi; } |
        sed -E 's/^SOCK pid=[0-9]+ fd=([0-9]+) local=([^ ]*) peer=([^ ]*) .*/\1 \2 \3/' | sort -n
}

# viewer_json ARGS...: the viewer's JSON on stdout. When the viewer exits
# non-zero or prints nothing, one line that no check expects, with its
# stderr, and status 1: a crashed viewer must never equal an expected "".
viewer_json() {
    local out rc
    out=$("$SOCKTRACE" "$@" 2>"$T/viewer.err")
    rc=$?
    if [ "$rc" -ne 0 ] || [ -z "$out" ]; then
        echo "VIEWER FAILED: socktrace $* exited $rc, printed ${#out} bytes: $(head -3 "$T/viewer.err" | tr '\n' ' ')"
        return 1
    fi
    printf '%s\n' "$out"
}

# json_rows PROGRAM ARGS... <JSON: python3 PROGRAM over the JSON; when it
# fails (unreadable JSON, a field missing), one line saying so, status 1
json_rows() {
    local prog=$1 out rc; shift
    out=$(python3 -c "$prog" "$@" 2>"$T/json_rows.err")
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "VIEWER OUTPUT UNREADABLE: $(tail -1 "$T/json_rows.err")"
        return 1
    fi
    [ -z "$out" ] || printf '%s\n' "$out"
}

# tracer_view PID [FDS]: "fd local peer" for open sockets, from the viewer
tracer_view() {
    local j
    j=$(viewer_json show "$1" --json) || { echo "$j"; return 1; }
    json_rows '
import json, sys
fds = set(sys.argv[1].split()) if len(sys.argv) > 1 and sys.argv[1] else None
d = json.load(sys.stdin)
for s in sorted(d["sockets"], key=lambda s: s["fd"]):
    if fds is None or str(s["fd"]) in fds:
        print(s["fd"], s["local"] or "-", s["peer"] or "-")' "${2:-}" <<<"$j"
}

# tracer_field PID FD FIELD: one JSON field of one open socket
tracer_field() {
    local j
    j=$(viewer_json show "$1" --all --json) || { echo "$j"; return 1; }
    json_rows '
import json, sys
d = json.load(sys.stdin)
for s in d["sockets"]:
    if str(s["fd"]) == sys.argv[1] and s["closed"] is None:
        v = s.get(sys.argv[2]); print("null" if v is None else v)' "$2" "$3" <<<"$j"
}

# tracer_closed PID FD FIELD: a field of the last closed socket of fd
tracer_closed() {
    local j
    j=$(viewer_json show "$1" --all --json) || { echo "$j"; return 1; }
    json_rows '
import json, sys
d = json.load(sys.stdin)
v = [s.get(sys.argv[2]) for s in d["sockets"] if str(s["fd"]) == sys.argv[1] and s["closed"]]
print("none" if not v else "null" if v[-1] is None else v[-1])' "$2" "$3" <<<"$j"
}

# kernel_view PID [FDS]: "fd local peer" from ss for the inet sockets of
# PID, and "fd local -" for its named unix sockets (ss shows no unix peer
# name). Addresses normalised to the viewer's text form.
kernel_view() {
    local k
    k=$(ss -H -n -a -p -A inet,unix 2>"$T/ss.err") || { echo "SS FAILED: $(head -1 "$T/ss.err")"; return 1; }
    awk -v pid="$1" -v fds="${2:-}" '
    function norm(a) {
        if (a ~ /^\*:\*$/ || a ~ /^0\.0\.0\.0:\*$/ || a ~ /^\[::\]:\*$/) return "-"
        if (a ~ /^\*:/) sub(/^\*/, "[::]", a)
        if (a ~ /^\[::ffff:[0-9.]+\]:/) { sub(/^\[::ffff:/, "", a); sub(/\]:/, ":", a) }
        if (a ~ /%[a-z0-9]+\]?:/) sub(/%[a-z0-9]+/, "", a)
        return a
    }
    BEGIN { split(fds, f, " "); for (i in f) want[f[i]] = 1 }
    {
        line = $0
        while (match(line, "pid=" pid ",fd=[0-9]+")) {
            fd = substr(line, RSTART, RLENGTH); sub(/.*fd=/, "", fd)
            line = substr(line, RSTART + RLENGTH)
            if (fds != "" && !(fd in want)) continue
            if ($1 ~ /^u_/) { if ($5 != "*") print fd, $5, "-" }
            else print fd, norm($5), norm($6)
        }
    }' <<<"$k" | sort -n -u
}

# fds_of VIEW: the fd column
fds_of() { awk '{print $1}' <<<"$1" | tr '\n' ' '; }

# the peer column blanked for unix sockets, to compare with kernel_view
unix_peer_blank() { awk '$2 ~ /^[\/@]/ {$3 = "-"} {print}' <<<"$1"; }

# share_with_user UID: for a test that runs something as UID. Copies what
# that user needs (the viewer, both libraries, the ASan runtime, the helpers,
# the examples) into $T/shared, which it can read wherever the checkout is
# (root's 0700 home, a mktemp -d), and points B, EX, SOCKTRACE, LIB and
# PRELOAD at the copies; AS_USER is the command prefix. If UID still cannot
# run them the test stops with one line saying so.
share_with_user() {
    local uid=$1 d=$T/shared
    mkdir -p "$d/san" "$d/tests"
    cp "$B/socktrace" "$B/libsocktrace.so" "$d/"
    cp "$LIB" "$d/san/libsocktrace.so"
    cp "$ASAN_RT" "$d/libasan.so"
    cp -r "$EX" "$d/examples"
    find "$B/tests" -maxdepth 1 -type f ! -name '*.d' -exec cp {} "$d/tests/" \;
    chmod 711 "$T"
    chmod -R a+rX "$d"
    B=$d EX=$d/examples SOCKTRACE=$d/socktrace LIB=$d/san/libsocktrace.so
    ASAN_RT=$d/libasan.so PRELOAD="$ASAN_RT $LIB"
    AS_USER=(setpriv --reuid="$uid" --regid="$uid" --clear-groups)
    if ! "${AS_USER[@]}" "$SOCKTRACE" --version >"$T/share.err" 2>&1 ||
       ! "${AS_USER[@]}" sh -c 'for f; do [ -r "$f" ] || { echo "cannot read $f"; exit 1; }; done' _ \
            "$LIB" "$ASAN_RT" "$B/libsocktrace.so" >>"$T/share.err" 2>&1; then
        echo "Bail out! uid $uid cannot use the copies in $d (is /tmp noexec?): $(head -1 "$T/share.err")"
        exit 1
    fi
}

# status CMD...: its exit status; stdout in $T/out, stderr in $T/err
status() { "$@" >"$T/out" 2>"$T/err"; echo $?; }

# start_nginx LISTEN...: nginx (master + 2 workers) under the preload in
# $T/ng, each argument one listen directive's address ("127.0.0.1:8080",
# "[::1]:8080", "unix:/path"); returns once both workers run, with
# PIDS[nginx] the master.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
start_nginx() {
    local listen="" a
    for a in "$@"; do listen="$listen listen $a;"; done
    mkdir -p "$T/ng/logs"
    cat >"$T/ng/nginx.conf" <<CONF
worker_processes 2;
pid $T/ng/nginx.pid;
error_log $T/ng/logs/error.log;
events { worker_connections 64; }
http {
    access_log $T/ng/logs/access.log;
    client_body_temp_path $T/ng/body; proxy_temp_path $T/ng/proxy;
    fastcgi_temp_path $T/ng/fcgi; uwsgi_temp_path $T/ng/uwsgi; scgi_temp_path $T/ng/scgi;
    server {$listen location / { return 200 "hi\n"; } }
}
CONF
    # as root the workers would run as nobody, another user than the master
    [ "$(id -u)" = 0 ] && sed -i '1i user root;' "$T/ng/nginx.conf"
    LD_PRELOAD="$PRELOAD" "$NGINX" -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off;' 2>"$T/ng.err" &
    PIDS[nginx]=$!
    # both workers forked, then each in its event loop (/proc shows it in
    # epoll_wait): its fork handler has written its file, its start-up is
    # over. Hang guard 60 s, then a not ok.
    local i w ws=""
    for i in $(seq 1200); do
        ws=$(pgrep -P "${PIDS[nginx]}")
        [ "$(wc -w <<<"$ws")" -ge 2 ] && break
        kill -0 "${PIDS[nginx]}" 2>/dev/null || break
        sleep 0.05
    done
    if [ "$(wc -w <<<"$ws")" -lt 2 ]; then
        not_ok "nginx started two workers (pgrep -P: '$ws')"; sed 's/^/#   /' "$T/ng.err" "$T/ng/logs/error.log" 2>/dev/null
        return 1
    fi
    for w in $ws; do
        for i in $(seq 1200); do
            case $(cat /proc/"$w"/wchan 2>/dev/null) in *epoll_wait*|ep_poll*) continue 2 ;; esac
            sleep 0.05
        done
        not_ok "nginx worker $w reached its event loop (wchan: $(cat /proc/"$w"/wchan 2>/dev/null))"
        return 1
    done
}

# wait_listen [-u] PORT: until ss shows a TCP listener on PORT (with -u: a
# UDP socket bound to it): the program got as far as listen() (bind), and
# its hooks for the calls before it have recorded them. Hang guard 60 s,
# then a not ok, status 1.
wait_listen() {
    local i p=t
    if [ "$1" = -u ]; then p=u; shift; fi
    for i in $(seq 1200); do
        [ -n "$(ss -H -l -n -$p "sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    not_ok "something listens on port $1 (ss -l -n -$p)"
    return 1
}

# wait_until DESC COND: until the shell condition COND (a string, eval'd)
# holds, for a wait no helper above names. Hang guard 60 s, then a not ok
# for DESC, status 1.
wait_until() {
    local i
    for i in $(seq 1200); do
        eval "$2" && return 0
        sleep 0.05
    done
    not_ok "$1"
    return 1
}

# wait_gone PID: until PID has exited (gone, or a zombie not yet reaped):
# whatever it did before its exit is done. Hang guard 60 s, then a not ok.
wait_gone() {
    local i st
    for i in $(seq 1200); do
        st=$(awk '{sub(/.*\) /, ""); print $1}' /proc/"$1"/stat 2>/dev/null)
        case $st in ""|Z|X) return 0 ;; esac
        sleep 0.05
    done
    not_ok "process $1 exited (state $st)"
    return 1
}

# wait_traced PID AWK-CONDITION DESC: until the tracer's table of PID (the
# rows of tracer_view: $1 fd, $2 local, $3 peer) has a row for which the
# condition holds: the call the test waits for has been recorded, as its
# hook does after the kernel answered (ss can show it a moment before).
# Hang guard 60 s, then a not ok with the last view, status 1.
wait_traced() {
    local i v
    for i in $(seq 600); do
        v=$(tracer_view "$1") && awk "$2 {f = 1} END {exit !f}" <<<"$v" && return 0
        sleep 0.1
    done
    not_ok "the tracer recorded $3 (pid $1)"
    sed 's/^/#   /' <<<"$v"
    return 1
}

# watching PID...: until each PID (a `watch` or `events -f`) has made its
# first pass over the trace directory, which it ends by sleeping: what
# happens after that is new to it. Hang guard 60 s, then a not ok.
watching() {
    local p i w
    for p in "$@"; do
        for i in $(seq 1200); do
            w=$(cat /proc/"$p"/wchan 2>/dev/null)
            case $w in *nanosleep*) continue 2 ;; esac
            kill -0 "$p" 2>/dev/null || break
            sleep 0.05
        done
        not_ok "watcher $p began watching (wchan: ${w:-gone})"
        return 1
    done
}

# check_call_graph DESC DIR "CFLAGS" [ARGS...]: the file-level call graph
# of DIR/*.c, from gcc -fcallgraph-info (each file compiled from $ROOT with
# CFLAGS), printed under the check; ok when tests/callgraph.py ARGS finds
# no loop (nor, with --layers, a call up a layer). Skips without gcc's
# -fcallgraph-info.
check_call_graph() {
    local desc=$1 dir=$2 flags=$3 f built=1
    shift 3
    if ! command -v gcc >/dev/null ||
        ! gcc -fcallgraph-info -x c -c /dev/null -o "$T/probe.o" -dumpdir "$T/" 2>/dev/null; then
        skip "gcc without -fcallgraph-info: no call graph"
        return
    fi
    rm -rf "$T/cg" && mkdir "$T/cg"
    for f in "$ROOT/$dir"/*.c; do
        # shellcheck disable=SC2086 # the flags are words
        (cd "$ROOT" && gcc $flags -fcallgraph-info -c "$dir/$(basename "$f")" \
            -o "$T/cg/$(basename "$f" .c).o" -dumpdir "$T/cg/") || built=0
    done
    if [ "$built" = 1 ] && (cd "$ROOT" && python3 tests/callgraph.py "$@" "$T"/cg/*.ci) >"$T/graph" 2>&1; then
        ok "$desc (graph below)"
    else
        not_ok "$desc (graph below)"
    fi
    sed 's/^/#   /' "$T/graph"
    grep -q ' -> ' "$T/graph" || not_ok "the call graph has edges (gcc -fcallgraph-info gave a graph)"
}
