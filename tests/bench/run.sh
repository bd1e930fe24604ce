#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: overhead figures, not a test. Each
# workload runs untraced, traced (and under strace, or an empty preload
# library), interleaved (A B C A B C ...), RUNS times; every row shows
# medians and, in its last figure column, the figure issue 20 sets a goal
# for, beside that GOAL and a verdict ("met" / "MISSED"; "-": no goal).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=build
RUNS=${RUNS:-7}
LIB=$PWD/$B/libsocktrace.so
# loads and does nothing: what any preload library costs (the spawn row)
EMPTY=$PWD/$B/tests/libempty.so
T=$(mktemp -d /tmp/socktrace-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOCKTRACE_DIR=$T/traces
have_strace=$(command -v strace >/dev/null && echo 1 || echo 0)

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

# verdict FIGURE GOAL: "met" or "MISSED" against a GOAL of "<= L", ">= L",
# "== L" or "+-L" (|FIGURE| <= L); "-" without a goal, "n/a" without a
# figure (a workload that could not run)
verdict() {
    case "$2" in ""|-) echo -; return ;; esac
    case "$1" in ""|nan|-) echo n/a; return ;; esac
    awk -v x="$1" -v g="$2" 'BEGIN {
        x += 0
        if (g ~ /^\+-/) { l = substr(g, 3) + 0; ok = (x < 0 ? -x : x) <= l }
        else { split(g, p, " "); l = p[2] + 0
               ok = p[1] == "<=" ? x <= l : p[1] == ">=" ? x >= l : x == l }
        print ok ? "met" : "MISSED" }'
}

# line LABEL A B C D FIGURE GOAL VERDICT: one row of the table; each
# section's heading names its columns
line() {
    printf '%-36s %11s %11s %11s %9s %9s %9s %7s\n' "$1" "${2:-}" "${3:-}" "${4:-}" "${5:-}" "${6:-}" "${7:-}" "${8:-}"
}
met=0; missed=0; unmet=""; sect=""
# judged LABEL A B C D FIGURE GOAL: a row with its verdict, counted for the
# summary at the end (a row of a section, "  label", under its name $sect)
judged() {
    local v name=$1
    case "$1" in "  "*) name="${sect:+$sect, }${1#  }" ;; esac
    v=$(verdict "$6" "$7")
    line "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$v"
    case "$v" in
        met) met=$((met + 1)) ;;
        MISSED|n/a) missed=$((missed + 1)); unmet="$unmet
  $name: $6 (goal $7)" ;;
    esac
}

# interleave NAME CMD...: prints "untraced traced strace" medians of the
# number CMD prints (seconds)
interleave() {
    local name=$1; shift
    : >"$T/$name.u"; : >"$T/$name.t"; : >"$T/$name.s"
    for _ in $(seq "$RUNS"); do
        "$@" >>"$T/$name.u"
        LD_PRELOAD=$LIB "$@" >>"$T/$name.t"
        rm -rf "$SOCKTRACE_DIR"
        if [ "$have_strace" = 1 ]; then
            strace -f -qq -e trace=network -o /dev/null "$@" >>"$T/$name.s"
        fi
    done
    echo "$(median <"$T/$name.u") $(median <"$T/$name.t") $( [ -s "$T/$name.s" ] && median <"$T/$name.s" || echo nan)"
}

# row LABEL UNTRACED TRACED STRACE GOAL: a workload of the first table
# (seconds, lower is better); the goal judges traced / untraced
row() {
    judged "$1" "$2" "$3" "$( [ "$4" = nan ] && echo - || echo "$4")" \
        "$( [ "$4" = nan ] && echo - || ratio "$4" "$2")" "$(ratio "$3" "$2")" "$5"
}

echo "socktrace bench, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "medians of $RUNS interleaved runs; the last figure of a row is the one its GOAL judges (issue 20)"
echo
line "WORKLOAD (s, lower is better)" UNTRACED TRACED STRACE STRACE/x RATIO GOAL VERDICT
N=${CONNS:-20000}
read -r u t s <<<"$(interleave conn $B/bench/connloop "$N")"
sect=connloop; row "connloop ($N connections)" "$u" "$t" "$s" "<= 1.05"
: >"$T/floor"
for _ in $(seq "$RUNS"); do $B/bench/connloop "$N" --floor >>"$T/floor"; done
f=$(median <"$T/floor")
judged "  floor: same + the budget's calls" "$f" "" "" "" "$(ratio "$f" "$u")" -
judged "  traced / floor" "" "" "" "" "$(ratio "$t" "$f")" "<= 1.02"
read -r u t s <<<"$(interleave udp $B/bench/udpbench 200000 0)"
row "udp: 200k datagrams, 2 sockets" "$u" "$t" "$s" -
read -r u t s <<<"$(interleave udps $B/bench/udpbench 0 20000)"
sect="udp 20k"; row "udp: 20k sockets, one send each" "$u" "$t" "$s" "<= 1.08"
: >"$T/floor"
for _ in $(seq "$RUNS"); do $B/bench/udpbench 0 20000 --floor >>"$T/floor"; done
f=$(median <"$T/floor")
judged "  floor: same + getsockname" "$f" "" "" "" "$(ratio "$f" "$u")" -
judged "  traced / floor" "" "" "" "" "$(ratio "$t" "$f")" -

# nginx under wrk with Connection: close (requests/s; higher is better)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -x "$NGINX" ] && command -v wrk >/dev/null; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$T/ng/logs"
    cat >"$T/ng/nginx.conf" <<CONF
worker_processes 2;
pid $T/ng/nginx.pid;
error_log /dev/null;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$port; location / { return 200 "hi\n"; } } }
CONF
    [ "$(id -u)" = 0 ] && sed -i '1i user root;' "$T/ng/nginx.conf"
    rps() { # PRELOAD-or-empty
        local pre=$1 out
        if [ "$pre" = strace ]; then
            strace -f -qq -e trace=network -o /dev/null "$NGINX" -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off;' &
        else
            LD_PRELOAD=$pre "$NGINX" -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off;' &
        fi
        local pid=$!
        for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
        out=$(wrk -t2 -c32 -d${WRK_SECONDS:-5}s -H 'Connection: close' "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
        # through the pid file: strace would not pass our signal on
        kill "$(cat "$T/ng/nginx.pid")" 2>/dev/null; wait "$pid" 2>/dev/null
        rm -rf "$SOCKTRACE_DIR"
        echo "$out"
    }
    : >"$T/ng.u"; : >"$T/ng.t"; : >"$T/ng.s"
    for _ in $(seq "${NGINX_RUNS:-3}"); do
        rps "" >>"$T/ng.u"; rps "$LIB" >>"$T/ng.t"
        [ "$have_strace" = 1 ] && rps strace >>"$T/ng.s"
    done
    u=$(median <"$T/ng.u"); t=$(median <"$T/ng.t")
    s=$( [ -s "$T/ng.s" ] && median <"$T/ng.s")     # none without strace
    judged "nginx+wrk Connection: close (req/s)" "$u" "$t" "${s:--}" \
        "$( [ -n "$s" ] && ratio "$s" "$u" || echo -)" "$(ratio "$t" "$u")" -
else
    echo "nginx+wrk: skipped (apt-get install nginx-light wrk)"
fi

# the multi-threaded connection loop: MT connections split over T
# threads, each with a listener of its own; aggregate cycles/s, untraced
# and traced interleaved (higher is better)
MT=${MT_CONNS:-16000}
echo
line "mtconn: $MT conns over T threads" UNTRACED TRACED "" "" RATIO GOAL VERDICT; sect=mtconn
echo "  (cycles/s, higher is better)"
for th in 1 2 4 8 16; do
    : >"$T/mt.u"; : >"$T/mt.t"
    for _ in $(seq "$RUNS"); do
        $B/bench/mtconn "$th" $((MT / th)) >>"$T/mt.u"
        LD_PRELOAD=$LIB $B/bench/mtconn "$th" $((MT / th)) >>"$T/mt.t"
        rm -rf "$SOCKTRACE_DIR"
    done
    u=$(median <"$T/mt.u"); t=$(median <"$T/mt.t")
    judged "  $th thread$([ "$th" -gt 1 ] && echo s)" "$u" "$t" "" "" "$(ratio "$t" "$u")" ">= 0.95"
done

# process spawn: a shell starting 300 /bin/true, untraced, under the
# empty preload library and traced, interleaved. Any preload library
# costs the loader's work in each process; the goal is on what the
# tracer adds to that: its ratio within 0.03 of the empty library's. And
# the trace files the traced run left (a process that never touches a
# socket should leave none).
spawn_s() {
    local s0 s1
    s0=$(date +%s%N)
    "$@" sh -c 'for i in $(seq 300); do /bin/true; done'
    s1=$(date +%s%N)
    awk -v d=$((s1 - s0)) 'BEGIN {printf "%.4f\n", d / 1e9}'
}
: >"$T/sp.u"; : >"$T/sp.e"; : >"$T/sp.t"; : >"$T/sp.f"
for _ in $(seq "$RUNS"); do
    spawn_s env >>"$T/sp.u"
    spawn_s env LD_PRELOAD="$EMPTY" >>"$T/sp.e"
    rm -rf "$SOCKTRACE_DIR"
    spawn_s env LD_PRELOAD="$LIB" >>"$T/sp.t"
    find "$SOCKTRACE_DIR" -name '*.trace' 2>/dev/null | wc -l >>"$T/sp.f"
    rm -rf "$SOCKTRACE_DIR"
done
u=$(median <"$T/sp.u"); e=$(median <"$T/sp.e"); t=$(median <"$T/sp.t")
re=$(ratio "$e" "$u"); rt=$(ratio "$t" "$u")
echo
line "spawn: sh + 300 /bin/true (s)" UNTRACED "EMPTY .so" TRACED EMPTY/x TRACED/x GOAL VERDICT; sect=spawn
judged "  medians, ratios to untraced" "$u" "$e" "$t" "$re" "$rt" -
judged "  traced/x - empty/x" "" "" "" "" "$(awk -v a="$rt" -v b="$re" 'BEGIN {printf "%+.3f", a - b}')" "+-0.03"
judged "  trace files left (traced run)" "" "" "" "" "$(median <"$T/sp.f")" "== 0"

# the viewer on a large table: show over a holder of N open sockets. The
# goals are set for 20,000; 100,000 shows how it scales. Where
# RLIMIT_NOFILE's hard limit keeps holdsocks below 20,000 the goal is
# scaled down to the count held (show's time grows with the table, so
# the scaled goal is no easier) and the 100,000 holder is left out.
echo
line "viewer (ms, lower is better)" "" "" "" "" MS GOAL VERDICT; sect=viewer
for n in 20000 100000; do
    [ "$n" -gt 20000 ] && [ "${hn:-0}" -lt 20000 ] && break
    rm -rf "$SOCKTRACE_DIR"; rm -f "$T/hold.in"
    mkfifo "$T/hold.in"
    LD_PRELOAD=$LIB $B/bench/holdsocks "$n" <"$T/hold.in" >"$T/hold.out" &
    exec 3>"$T/hold.in"
    for _ in $(seq 600); do grep -q READY "$T/hold.out" && break; sleep 0.05; done
    read -r _ hpid hn <"$T/hold.out"
    [ "$hn" -lt "$n" ] && echo "  (RLIMIT_NOFILE $(ulimit -Hn): $hn of $n held)"
    for mode in "" "--json"; do
        goal=-
        if [ "$n" = 20000 ]; then
            goal=$(awk -v g="$([ -z "$mode" ] && echo 82 || echo 95)" -v h="$hn" \
                'BEGIN {printf (h == 20000 ? "<= %g" : "<= %.1f"), g * h / 20000}')
        fi
        : >"$T/show"
        for _ in $(seq "$RUNS"); do
            s0=$(date +%s%N); $B/socktrace show "$hpid" $mode >/dev/null; s1=$(date +%s%N)
            echo $(( (s1 - s0) / 1000 )) >>"$T/show"
        done
        judged "  show ${mode:-text} on $hn sockets" "" "" "" "" "$(awk '{print $1/1000}' "$T/show" | median)" "$goal"
    done
    exec 3>&-
    wait
done

# ps and ports over 1,000 trace files (of processes with a socket: one
# without leaves no file)
rm -rf "$SOCKTRACE_DIR"
for _ in $(seq 1000); do LD_PRELOAD=$LIB $B/examples/bind_port_zero </dev/null >/dev/null; done
nf=$(ls "$SOCKTRACE_DIR" | wc -l)
for verb in ps ports; do
    : >"$T/v"
    for _ in $(seq "$RUNS"); do
        s0=$(date +%s%N); $B/socktrace "$verb" >/dev/null; s1=$(date +%s%N)
        echo $(( (s1 - s0) / 1000 )) >>"$T/v"
    done
    judged "  $verb over $nf trace files" "" "" "" "" "$(awk '{print $1/1000}' "$T/v" | median)" \
        "$([ "$nf" = 1000 ] && echo "<= 40" || echo -)"
done
rm -rf "$SOCKTRACE_DIR"

# the tracer's own work per intercepted call: callcost times a tight
# loop of calls the tracer records, untraced and traced; the difference
# is the tracer's
: >"$T/cc.u"; : >"$T/cc.t"
for _ in $(seq "$RUNS"); do
    $B/bench/callcost >>"$T/cc.u"
    LD_PRELOAD=$LIB $B/bench/callcost >>"$T/cc.t"
    rm -rf "$SOCKTRACE_DIR"
done
echo
line "tracer's own ns per call" UNTRACED TRACED "" "" OWN GOAL VERDICT; sect="own ns"
for kind in setsockopt setsockopt-2threads getsockname socket+close write syscall-getpid; do
    u=$(awk -v k="$kind" '$1 == k {print $2}' "$T/cc.u" | median)
    t=$(awk -v k="$kind" '$1 == k {print $2}' "$T/cc.t" | median)
    label="  $kind"; goal="<= 50"
    [ "$kind" = setsockopt-2threads ] && label="  setsockopt, 2 threads at once"
    [ "$kind" = socket+close ] && label="  socket+close (UDP, per pair)" && goal="<= 300"
    [ "$kind" = write ] && label="  write (passed through)" && goal=-
    # a number syscall()'s hook only passes on: the cost of the pass
    [ "$kind" = syscall-getpid ] && label="  syscall(SYS_getpid), passed on" && goal=-
    judged "$label" "$u" "$t" "" "" "$(awk -v a="$t" -v b="$u" 'BEGIN {printf "%.1f", a - b}')" "$goal"
done

# memory per open socket: the trace file of holdsocks holding 10,002
# sockets against the one holding 2, with rings small enough to be full
# in both. "used" is the header's alloc_end, what the writer handed out
# (the goal's figure); "allocated" the file's blocks, which grow by
# doubling. hdroff gives alloc_end's offset from trace_format.h.
ALLOC_OFF=$($B/bench/hdroff)
hold_size() { # N: "used allocated" bytes of the holder's trace file
    local n=$1 hpid
    rm -rf "$SOCKTRACE_DIR"; rm -f "$T/hs.in"
    mkfifo "$T/hs.in"
    # small rings, full in both runs: the difference is the table's
    SOCKTRACE_HISTORY=64K LD_PRELOAD=$LIB $B/bench/holdsocks "$n" <"$T/hs.in" >"$T/hs.out" &
    exec 4>"$T/hs.in"
    for _ in $(seq 600); do grep -q READY "$T/hs.out" && break; sleep 0.05; done
    read -r _ hpid _ <"$T/hs.out"
    local f
    f=$(ls "$SOCKTRACE_DIR/$hpid"-*.trace 2>/dev/null | head -1)
    # od reads the word in this machine's byte order, the writer's
    [ -n "$f" ] && echo "$(od -An -t u8 -j "$ALLOC_OFF" -N 8 "$f" | tr -d ' ')" \
        "$(stat -c '%b %B' "$f" | awk '{print $1 * $2}')"
    exec 4>&-
    wait
}
read -r a0 b0 <<<"$(hold_size 2)"
read -r a1 b1 <<<"$(hold_size 10002)"
echo
line "bytes per open socket" ALLOCATED "" "" "" USED GOAL VERDICT; sect=memory
if [ -n "${a0:-}" ] && [ -n "${a1:-}" ]; then
    judged "  per socket (10,000 more held)" "$(( (b1 - b0) / 10000 ))" "" "" "" "$(( (a1 - a0) / 10000 ))" "<= 160"
    judged "  trace file, 2 sockets held" "$b0" "" "" "" "$a0" -
else
    judged "  no trace file found" "" "" "" "" "" "<= 160"
fi
rm -rf "$SOCKTRACE_DIR"

# the syscall budget: strace -c of connloop, traced minus untraced
if [ "$have_strace" = 1 ]; then
    n=2000
    # the "total" line: % seconds usecs/call calls [errors] total
    total() { awk '$NF == "total" {print $4}' "$1"; }
    strace -f -c -o "$T/c" $B/bench/connloop $n >/dev/null
    LD_PRELOAD=$LIB strace -f -c -o "$T/c2" $B/bench/connloop $n >/dev/null
    cu=$(total "$T/c"); ct=$(total "$T/c2")
    echo
    line "syscalls per connloop cycle" UNTRACED TRACED "" "" EXTRA GOAL VERDICT; sect=syscalls
    judged "  all" "$(ratio "$cu" $n)" "$(ratio "$ct" $n)" "" "" \
        "$(awk -v a="$ct" -v b="$cu" -v n=$n 'BEGIN {printf "%.2f", (a - b) / n}')" -
    while read -r call calls; do
        judged "  $call (the tracer's asks)" "" "$(ratio "$calls" $n)" "" "" "" -
    done < <(grep -E ' (getsockname|getsockopt|getpeername)$' "$T/c2" | awk '{print $NF, $4}')
    rm -rf "$SOCKTRACE_DIR"
fi

echo
echo "goals: $met met, $missed missed${unmet:+:$unmet}"
