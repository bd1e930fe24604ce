#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: overhead figures, not a test. Each
# workload runs untraced, traced and under strace, interleaved (A B C A B
# C ...), RUNS times; the table shows medians and traced/untraced ratios.
# The rows for the multi-threaded loop, spawn and the per-call cost run
# untraced and traced only.
set -u
cd "$(dirname "$0")/../.."
B=build
RUNS=${RUNS:-7}
LIB=$PWD/$B/libsocktrace.so
T=$(mktemp -d /tmp/socktrace-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOCKTRACE_DIR=$T/traces
have_strace=$(command -v strace >/dev/null && echo 1 || echo 0)

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

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

row() { # NAME UNIT UNTRACED TRACED STRACE (lower is better)
    printf '%-34s %12s %12s %12s %8s %8s\n' "$1" "$3" "$4" "$5" "$(ratio "$4" "$3")" \
        "$( [ "$5" = nan ] && echo - || ratio "$5" "$3")"
}

echo "socktrace bench, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "medians of $RUNS interleaved runs; times in seconds (lower is better)"
printf '%-34s %12s %12s %12s %8s %8s\n' WORKLOAD UNTRACED TRACED STRACE RATIO STRACE/x
N=${CONNS:-20000}
read -r u t s <<<"$(interleave conn $B/bench/connloop "$N")"
row "connloop ($N connections)" s "$u" "$t" "$s"
: >"$T/floor"
for _ in $(seq "$RUNS"); do $B/bench/connloop "$N" --floor >>"$T/floor"; done
f=$(median <"$T/floor")
printf '%-34s %12s %12s %12s %8s\n' "  floor: same + the budget's calls" "$f" "" "" "$(ratio "$f" "$u")"
printf '%-34s %12s %12s %12s %8s\n' "  traced / floor" "" "" "" "$(ratio "$t" "$f")"
read -r u t s <<<"$(interleave udp $B/bench/udpbench 200000 0)"
row "udp: 200k datagrams, 2 sockets" s "$u" "$t" "$s"
read -r u t s <<<"$(interleave udps $B/bench/udpbench 0 20000)"
row "udp: 20k sockets, one send each" s "$u" "$t" "$s"
: >"$T/floor"
for _ in $(seq "$RUNS"); do $B/bench/udpbench 0 20000 --floor >>"$T/floor"; done
f=$(median <"$T/floor")
printf '%-34s %12s %12s %12s %8s\n' "  floor: same + getsockname" "$f" "" "" "$(ratio "$f" "$u")"
printf '%-34s %12s %12s %12s %8s\n' "  traced / floor" "" "" "" "$(ratio "$t" "$f")"

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
    u=$(median <"$T/ng.u"); t=$(median <"$T/ng.t"); s=$(median <"$T/ng.s")
    printf '%-34s %12s %12s %12s %8s %8s\n' "nginx+wrk Connection: close (req/s)" "$u" "$t" "${s:-nan}" \
        "$(ratio "$t" "$u")" "$( [ -n "$s" ] && ratio "$s" "$u" || echo -)"
else
    echo "nginx+wrk: skipped (apt-get install nginx-light wrk)"
fi

# the viewer on 100,000 open sockets
mkfifo "$T/hold.in"
LD_PRELOAD=$LIB $B/bench/holdsocks 100000 <"$T/hold.in" >"$T/hold.out" &
exec 3>"$T/hold.in"
for _ in $(seq 600); do grep -q READY "$T/hold.out" && break; sleep 0.05; done
read -r _ hpid hn <"$T/hold.out"
for mode in "" "--json"; do
    : >"$T/show"
    for _ in $(seq "$RUNS"); do
        s0=$(date +%s%N); $B/socktrace show "$hpid" $mode >/dev/null; s1=$(date +%s%N)
        echo $(( (s1 - s0) / 1000 )) >>"$T/show"
    done
    printf '%-34s %12s\n' "show ${mode:-text} on $hn sockets (ms)" "$(awk '{print $1/1000}' "$T/show" | median)"
done
exec 3>&-
wait

# ps and ports over 1,000 trace files (of processes with a socket: one
# without leaves no file)
for i in $(seq 1000); do LD_PRELOAD=$LIB $B/examples/bind_port_zero </dev/null >/dev/null; done
for verb in ps ports; do
    : >"$T/v"
    for _ in $(seq "$RUNS"); do
        s0=$(date +%s%N); $B/socktrace "$verb" >/dev/null; s1=$(date +%s%N)
        echo $(( (s1 - s0) / 1000 )) >>"$T/v"
    done
    printf '%-34s %12s\n' "$verb over $(ls "$SOCKTRACE_DIR" | wc -l) trace files (ms)" "$(awk '{print $1/1000}' "$T/v" | median)"
done
rm -rf "$SOCKTRACE_DIR"

# the multi-threaded connection loop: MT connections split over T
# threads, each with a listener of its own; aggregate cycles/s, untraced
# and traced interleaved (higher is better; goal: ratio >= 0.95 at every T)
MT=${MT_CONNS:-16000}
echo "mtconn: $MT loopback connections over T threads (cycles/s, higher is better)"
for th in 1 2 4 8 16; do
    : >"$T/mt.u"; : >"$T/mt.t"
    for _ in $(seq "$RUNS"); do
        $B/bench/mtconn "$th" $((MT / th)) >>"$T/mt.u"
        LD_PRELOAD=$LIB $B/bench/mtconn "$th" $((MT / th)) >>"$T/mt.t"
        rm -rf "$SOCKTRACE_DIR"
    done
    u=$(median <"$T/mt.u"); t=$(median <"$T/mt.t")
    printf '%-34s %12s %12s %12s %8s\n' "  $th thread$([ "$th" -gt 1 ] && echo s)" "$u" "$t" "" "$(ratio "$t" "$u")"
done

# process spawn: a shell starting 300 /bin/true (seconds; goal: ratio
# <= 1.10), and the trace files the traced run left (a process that
# never touches a socket should leave none)
spawn_s() {
    local s0 s1
    s0=$(date +%s%N)
    "$@" sh -c 'for i in $(seq 300); do /bin/true; done'
    s1=$(date +%s%N)
    awk -v d=$((s1 - s0)) 'BEGIN {printf "%.4f\n", d / 1e9}'
}
: >"$T/sp.u"; : >"$T/sp.t"; : >"$T/sp.f"
for _ in $(seq "$RUNS"); do
    spawn_s env >>"$T/sp.u"
    rm -rf "$SOCKTRACE_DIR"
    spawn_s env LD_PRELOAD="$LIB" >>"$T/sp.t"
    find "$SOCKTRACE_DIR" -name '*.trace' 2>/dev/null | wc -l >>"$T/sp.f"
    rm -rf "$SOCKTRACE_DIR"
done
row "spawn: sh + 300 /bin/true" s "$(median <"$T/sp.u")" "$(median <"$T/sp.t")" nan
printf '%-34s %12s %12s\n' "  trace files left (traced run)" "" "$(median <"$T/sp.f")"

# the tracer's own work per intercepted call: callcost times a tight
# loop of calls the tracer records, untraced and traced; the difference
# is the tracer's (goal: <= 50 ns per call)
: >"$T/cc.u"; : >"$T/cc.t"
for _ in $(seq "$RUNS"); do
    $B/bench/callcost >>"$T/cc.u"
    LD_PRELOAD=$LIB $B/bench/callcost >>"$T/cc.t"
    rm -rf "$SOCKTRACE_DIR"
done
echo "tracer ns per intercepted call (untraced ns, traced ns, tracer's ns)"
for kind in setsockopt getsockname socket+close write syscall-getpid; do
    u=$(awk -v k="$kind" '$1 == k {print $2}' "$T/cc.u" | median)
    t=$(awk -v k="$kind" '$1 == k {print $2}' "$T/cc.t" | median)
    label="  $kind"
    [ "$kind" = socket+close ] && label="  socket+close (per pair)"
    [ "$kind" = write ] && label="  write (passed through)"
    # a number syscall()'s hook only passes on: the cost of the pass
    [ "$kind" = syscall-getpid ] && label="  syscall(SYS_getpid), passed on"
    printf '%-34s %12s %12s %12s\n' "$label" "$u" "$t" "$(awk -v a="$t" -v b="$u" 'BEGIN {printf "%.1f", a - b}')"
done

# memory per open socket: the trace file of holdsocks holding 10,002
# sockets against the one holding 2, with rings small enough to be full
# in both (goal: <= 160 bytes per socket)
hold_size() { # N: "used allocated" bytes of the holder's trace file (used:
    # the header's alloc_end, what the writer handed out; the file itself
    # grows by doubling)
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
    [ -n "$f" ] && echo "$(python3 -c 'import struct, sys; print(struct.unpack_from("<Q", open(sys.argv[1], "rb").read(4096), 2432)[0])' "$f")" \
        "$(stat -c '%b %B' "$f" | awk '{print $1 * $2}')"
    exec 4>&-
    wait
}
read -r a0 b0 <<<"$(hold_size 2)"
read -r a1 b1 <<<"$(hold_size 10002)"
if [ -n "${a0:-}" ] && [ -n "${a1:-}" ]; then
    printf '%-34s %12s %12s\n' "bytes per open socket (10,000)" "used" "allocated"
    printf '%-34s %12s %12s\n' "" "$(( (a1 - a0) / 10000 ))" "$(( (b1 - b0) / 10000 ))"
    printf '%-34s %12s %12s\n' "  trace file, 2 sockets held" "$a0" "$b0"
else
    echo "bytes per open socket: no trace file found"
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
    echo "syscalls per connection cycle: untraced $(ratio "$cu" $n), traced $(ratio "$ct" $n), extra $(awk -v a="$ct" -v b="$cu" -v n=$n 'BEGIN {printf "%.2f", (a - b) / n}')"
    grep -E ' (getsockname|getsockopt|getpeername)$' "$T/c2" | awk -v n=$n '{printf "  traced: %-12s %.2f per cycle\n", $NF, $4 / n}'
    rm -rf "$SOCKTRACE_DIR"
fi
