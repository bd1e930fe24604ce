# Case 2: bind to port 0 lets the kernel choose the port (TCP, UDP, TCP6).
. "$(dirname "$0")/lib.sh"
start b --traced "$EX/bind_port_zero"
pid=$(ready_pid b)
check "tracer equals the program's own view" "$(own_view b)" "$(tracer_view "$pid")"
check "tracer equals the kernel's view" "$(kernel_view "$pid")" "$(tracer_view "$pid")"
for fd in $(fds_of "$(own_view b)"); do
    check "fd $fd: port chosen by the kernel" "True" "$(tracer_field "$pid" "$fd" port_chosen_by_kernel)"
done
check "listener state" "listening" "$(tracer_field "$pid" 3 state)"
check "udp state" "bound" "$(tracer_field "$pid" 4 state)"
finish b
done_testing
