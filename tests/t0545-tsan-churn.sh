# ThreadSanitizer over the churn of t0550: 4 threads on shared fd
# numbers, a SIGALRM handler closing sockets, close_range and fork, with
# the TSan build of the preload and a TSan build of the program (the TSan
# runtime must come with the executable). halt_on_error: the first
# report ends the run.
# The program races on fd numbers by design (two threads dup2 onto, or
# close, the same number): TSan reports each such pair as a data race on
# "file descriptor N", from the accesses its own close/dup2/...
# interceptors make, and with hundreds of them it deadlocks in its own
# reporting (seen: every thread waiting for the thread registry in
# ReportRace). ignore_interceptors_accesses=1 drops only the accesses
# made inside libtsan's interceptors; the tracer's own instrumented code
# (tables, rings, counters, its lock or its atomics) is still checked,
# also when a signal handler runs it.
. "$(dirname "$0")/lib.sh"
if [ ! -x "$B/tsan/libsocktrace.so" ]; then
    for _ in 1 2 3 4 5 6; do skip "no ThreadSanitizer build (see build/tsan/build.log)"; done
    done_testing; exit 0
fi
if ! ${CC:-cc} -std=gnu11 -O1 -g -fsanitize=thread -D_GNU_SOURCE "$ROOT/tests/helpers/churn.c" \
    -o "$T/churn-tsan" -lpthread 2>"$T/cc.err"; then
    for _ in 1 2 3 4 5 6; do skip "cannot build churn with -fsanitize=thread: $(head -1 "$T/cc.err")"; done
    done_testing; exit 0
fi
for r in 1 2 3; do
    TSAN_OPTIONS="halt_on_error=1 exitcode=66 ignore_interceptors_accesses=1" \
        LD_PRELOAD="$B/tsan/libsocktrace.so" timeout 60 "$T/churn-tsan" "${TSAN_ITER:-10000}" </dev/null >"$T/ts$r.out" 2>"$T/ts$r.err"
    rc=$?
    reports=$(grep -c 'WARNING: ThreadSanitizer' "$T/ts$r.err")
    check "run $r: churn under TSan ran to the end (exit 0, READY, no report)" "0 1 0" \
        "$rc $(grep -c '^READY' "$T/ts$r.out") $reports"
    [ "$reports" -gt 0 ] && grep -A12 -m1 'WARNING: ThreadSanitizer' "$T/ts$r.err" | sed 's/^/#   /'
    pid=$(sed -n 's/^READY pid=//p' "$T/ts$r.out")
    check "run $r: traced (the parent's trace reads, over 1,000 sockets in it)" yes \
        "$("$SOCKTRACE" show "${pid:-0}" --all --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("yes" if d["history_overwritten"] + len(d["sockets"]) > 1000 else "no")' 2>/dev/null)"
done
done_testing
