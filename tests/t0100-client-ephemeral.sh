# Case 1: a TCP client that never binds gets its local IP and port from the
# kernel at connect. The tracer's table must equal the client's own view
# and the kernel's, blocking and non-blocking (EINPROGRESS).
. "$(dirname "$0")/lib.sh"

start srv --traced "$EX/fork_server" 0 2
port=$(grep -m1 '^PORT' "$T/srv.out" | cut -d' ' -f2)

start cli --traced "$EX/client_ephemeral" 127.0.0.1 "$port"
pid=$(ready_pid cli)
own=$(own_view cli)
check "blocking client: tracer equals the program's own view" "$own" "$(tracer_view "$pid")"
check "blocking client: tracer equals the kernel's view (ss)" "$(kernel_view "$pid")" "$(tracer_view "$pid")"
check "blocking client: the port is marked chosen by the kernel" "True" "$(tracer_field "$pid" 3 port_chosen_by_kernel)"

start nb --traced "$EX/client_ephemeral" 127.0.0.1 "$port" --nonblock
pid2=$(ready_pid nb)
check "non-blocking client: tracer equals its own view" "$(own_view nb)" "$(tracer_view "$pid2")"
check "non-blocking client: tracer equals the kernel's view" "$(kernel_view "$pid2")" "$(tracer_view "$pid2")"
check "non-blocking client: connected once SO_ERROR said so" "connected" "$(tracer_field "$pid2" 3 state)"

# the server side: each forked child serves one connection
wait_for srv '^SOCK.*served' 2
check "both forked children reported the connection they served" 2 "$(grep -c 'what=served' "$T/srv.out")"
for child in $(grep 'what=served' "$T/srv.out" | sed -E 's/.*pid=([0-9]+) .*/\1/'); do
    fd=$(grep "pid=$child .*what=served" "$T/srv.out" | sed -E 's/.* fd=([0-9]+) .*/\1/')
    check "fork server child $child: accepted socket as it sees it" \
        "$(own_view srv "$child")" "$(tracer_view "$child" "$fd")"
    check "fork server child $child: equals the kernel's view" \
        "$(kernel_view "$child" "$fd")" "$(tracer_view "$child" "$fd")"
    check "fork server child $child: listener closed in the child" "" "$(tracer_view "$child" 3)"
done
finish cli; finish nb; finish srv
check "after exit: the closed socket kept its local address in history" \
    "$(awk '{print $2}' <<<"$own")" "$(tracer_closed "$pid" 3 local)"
check "after exit: and its peer" "$(awk '{print $3}' <<<"$own")" "$(tracer_closed "$pid" 3 peer)"
done_testing
