# The tracer is invisible: a program doing ~80 call sequences on the edges
# (bad fds, not a socket, bad families and lengths, EFAULT, refused, in
# use, EINPROGRESS, EAGAIN, ENOTCONN, short and zero buffers, bad flags,
# close twice, bad ranges) prints the same bytes with and without it.
. "$(dirname "$0")/lib.sh"
"$B/tests/differential" >"$T/plain" 2>&1
LD_PRELOAD="$PRELOAD" "$B/tests/differential" >"$T/traced" 2>&1
check "output with the preload equals output without, byte for byte" "$(cat "$T/plain")" "$(cat "$T/traced")"
check "the run exercised every sequence" "$(wc -l <"$T/plain")" "$(grep -c '' "$T/traced")"
check_cmd "the sequences do fail as intended (EBADF, ENOTSOCK, EFAULT, ECONNREFUSED, EADDRINUSE seen)" \
    sh -c "grep -q 'errno=9\$' '$T/plain' && grep -q 'errno=88\$' '$T/plain' && grep -q 'errno=14\$' '$T/plain' && grep -q 'errno=111\$' '$T/plain' && grep -q 'errno=98\$' '$T/plain'"
check "the traced run left a trace file" "1" "$(ls "$SOCKTRACE_DIR" | wc -l)"
done_testing
