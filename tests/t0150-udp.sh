# An iterative UDP server and a client that never binds: the client's first
# sendto makes the kernel choose its port, which the tracer resolves.
. "$(dirname "$0")/lib.sh"
start u --traced "$EX/udp_server" 3
pid=$(ready_pid u)
check "tracer equals the program's own view" "$(own_view u)" "$(tracer_view "$pid")"
check "tracer equals the kernel's view" "$(kernel_view "$pid")" "$(tracer_view "$pid")"
check "the client's port was chosen by the kernel at its first send" "True" "$(tracer_field "$pid" 4 port_chosen_by_kernel)"
check "the client is bound now" "bound" "$(tracer_field "$pid" 4 state)"
finish u
done_testing
