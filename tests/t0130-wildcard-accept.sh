# Case 4: a server on the wildcard address [::]:0 learns each connection's
# local IP only from the accepted socket; the peer is known even when
# accept was given no buffer. v4-mapped addresses show as plain IPv4.
. "$(dirname "$0")/lib.sh"
start w --traced "$EX/wildcard_server"
pid=$(ready_pid w)
own=$(own_view w)
check "tracer equals the program's own view" "$own" "$(tracer_view "$pid")"
check "tracer equals the kernel's view" "$(kernel_view "$pid")" "$(tracer_view "$pid")"
a1=$(grep 'what=accepted-v4' "$T/w.out" | sed -E 's/.* fd=([0-9]+) .*/\1/')
a2=$(grep 'what=accepted-v6-null' "$T/w.out" | sed -E 's/.* fd=([0-9]+) .*/\1/')
check "accepted over IPv4: local is 127.0.0.1, not the wildcard" "127.0.0.1" \
    "$(tracer_field "$pid" "$a1" local | sed 's/:[0-9]*$//')"
check "accepted with a NULL address: the peer is still known" \
    "$(grep 'what=client-v6' "$T/w.out" | sed -E 's/.* local=([^ ]*) .*/\1/')" "$(tracer_field "$pid" "$a2" peer)"
check "accept4 SOCK_CLOEXEC recorded" "True" "$(tracer_field "$pid" "$a2" cloexec)"
check "accepted origin" "accept" "$(tracer_field "$pid" "$a1" origin)"
finish w
done_testing
