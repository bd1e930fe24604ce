#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS - fuzzes the trace-file reader for SECONDS,
# starting from real trace files written by the examples under the tracer
# (made once, kept in build/fuzz/seeds). Prints TAP: one line, ok when
# nothing crashed, hung or leaked under ASan+UBSan.
cd "$(dirname "$0")/../.." || exit 1
B=$PWD/build
FUZZ=$B/fuzz/fuzz_snapshot
secs=${1:-30}
if [ ! -x "$FUZZ" ]; then
    echo "ok 1 # SKIP fuzz target not built (clang with libFuzzer missing; see build/fuzz/build.log)"
    exit 0
fi
# seeds of the trace format this viewer reads: a build of an older one
# leaves its own behind
fmt=$("$B/socktrace" --version | sed -n 's/.*trace format \([0-9]*\).*/\1/p')
seeds=$B/fuzz/seeds-v$fmt work=$B/fuzz/corpus-v$fmt
mkdir -p "$work"
if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
    dir=$(mktemp -d /tmp/socktrace-seeds.XXXXXX)
    for e in wildcard_server fd_table families bind_port_zero udp_server; do
        SOCKTRACE_DIR=$dir SOCKTRACE_HISTORY=16K LD_PRELOAD=$B/libsocktrace.so \
            timeout 10 "$B/examples/$e" </dev/null >/dev/null 2>&1
    done
    mkdir -p "$seeds"
    cp "$dir"/*.trace "$seeds"/ 2>/dev/null
    rm -rf "$dir"
fi
log=$B/fuzz/last.log
# inputs stay within one seed's size; crashes land in build/fuzz/
"$FUZZ" -max_total_time="$secs" -max_len=131072 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$B/fuzz/" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ]; then
    echo "ok 1 - ${runs:-?} inputs in ${secs} s from $(ls "$seeds" | wc -l) real trace files, no crash"
else
    echo "not ok 1 - the fuzzer found a crash (exit $rc); input in build/fuzz/, log:"
    grep -m20 -E 'ERROR|SUMMARY|#0|#1|#2|#3' "$log" | sed 's/^/#   /'
fi
echo "1..1"
[ "$rc" -eq 0 ]
