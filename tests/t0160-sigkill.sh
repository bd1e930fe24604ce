# A process killed with SIGKILL: everything recorded is still there, shown
# as open when it ended. The trace file is written with plain stores into
# a shared mapping, so nothing waits for an exit handler.
. "$(dirname "$0")/lib.sh"
start w --traced "$EX/wildcard_server"
pid=$(ready_pid w)
before=$(tracer_view "$pid")
kernel=$(kernel_view "$pid")
kill -9 "$pid"
wait "${PIDS[w]}" 2>/dev/null
unset "PIDS[w]"
check "after SIGKILL: the table equals what the kernel showed before" "$kernel" "$(tracer_view "$pid")"
check "after SIGKILL: same as before the kill" "$before" "$(tracer_view "$pid")"
state=$("$SOCKTRACE" show "$pid" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["ended"])')
check "after SIGKILL: state exited, no exit time (no exit handler ran)" "exited None" "$state"
check_cmd "after SIGKILL: text output says it ended without exit" \
    sh -c "'$SOCKTRACE' show $pid | grep -q 'ended without exit'"
done_testing
