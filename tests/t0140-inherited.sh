# Case 5: a service started by exec inherits its client socket (inetd).
# The launcher runs untraced; only the exec'd service has the preload, so
# the socket was opened before the tracer started. Then the same with the
# launcher traced too: after exec the same trace file carries on.
. "$(dirname "$0")/lib.sh"
start i "$EX/inetd" env LD_PRELOAD="$PRELOAD" "$EX/inetd" --service
svc=$(ready_pid i)
check "the service's own view of fd 0 equals the tracer's" "$(own_view i "$svc")" "$(tracer_view "$svc" 0)"
check "inherited fd 0 recorded with origin inherited" "inherited" "$(tracer_field "$svc" 0 origin)"
check "inherited fds 0 and 1 equal the kernel's view" "$(kernel_view "$svc" "0 1")" "$(tracer_view "$svc" "0 1")"
client_local=$(grep 'what=client' "$T/i.out" | sed -E 's/.* local=([^ ]*) .*/\1/')
check "the service's peer is the client's local address" "$client_local" "$(tracer_field "$svc" 0 peer)"
finish i

start j --traced "$EX/inetd" "$EX/inetd" --service
svc=$(ready_pid j)
check "traced launcher + exec: own view of fd 0 equals the tracer's" "$(own_view j "$svc")" "$(tracer_view "$svc" 0)"
check "traced launcher + exec: same pid, fd 0 still a socket" "$(kernel_view "$svc" "0 1")" "$(tracer_view "$svc" "0 1")"
check "traced launcher + exec: one exec recorded" "1" \
    "$("$SOCKTRACE" ps --json | python3 -c 'import json,sys; print([p["execs"] for p in json.load(sys.stdin)["processes"] if p["pid"]=='"$svc"'][0])')"
check "traced launcher + exec: fd 0 came from dup2 before exec" "dup" "$(tracer_field "$svc" 0 origin)"
check "traced launcher + exec: the listener was closed before exec" "" "$(tracer_view "$svc" 3)"
finish j
done_testing
