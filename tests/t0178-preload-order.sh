#!/usr/bin/env bash
# t0178 - another preloaded library that wraps socket() and bind(), in
# front of ours and behind it: each of the program's calls goes through
# both libraries once, in LD_PRELOAD's order, and is recorded. The tracer
# finds the next definition after itself, as dlsym(RTLD_NEXT) does: one
# taken from in front would loop back into the wrapper (and on into us),
# one that skipped what follows would miss the wrapper behind us.
. "$(dirname "$0")/lib.sh"

WRAP=$B/tests/libwrapsock.so
# the plain library: the ASan one needs its runtime loaded first, which
# would stand in front of both
PLAIN=$B/libsocktrace.so

n_order=0
for order in "$WRAP $PLAIN" "$PLAIN $WRAP"; do
    name=$([ "${order%% *}" = "$WRAP" ] && echo "wrapper first" || echo "tracer first")
    n_order=$((n_order + 1))
    export SOCKTRACE_DIR=$T/traces$n_order
    mkdir -m 700 "$SOCKTRACE_DIR"
    out=$(LD_PRELOAD="$order" timeout 20 "$EX/bind_port_zero" </dev/null 2>"$T/wrap.err")
    rc=$?
    check "$name: the program ran to its end" "0" "$rc"
    check "$name: each socket and bind call went through the wrapper once" \
        "3 3" "$(grep -c '^WRAP socket$' "$T/wrap.err") $(grep -c '^WRAP bind$' "$T/wrap.err")"
    pid=$(sed -n 's/^READY pid=//p' <<<"$out")
    own=$(sed -n 's/^SOCK pid=[0-9]* fd=\([0-9]*\) local=\([^ ]*\) .*/\1 \2/p' <<<"$out" | sort)
    check "$name: the program reported its three sockets" "3" "$(grep -c . <<<"$own")"
    traced=$(viewer_json show "$pid" --all --json | json_rows '
import json, sys
for s in json.load(sys.stdin)["sockets"]:
    print(s["fd"], s["local"])' | sort)
    check "$name: the table has each socket at the address the program's getsockname gave" \
        "$own" "$traced"
done
done_testing
