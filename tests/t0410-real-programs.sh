# Third-party programs from Debian under the tracer, each process's table
# held against `ss -p` for the same pid at the same moment: socat as a
# forking TCP proxy and as an inetd (EXEC:...,nofork), netcat-openbsd over
# UDP, python3's http.server with curl.
. "$(dirname "$0")/lib.sh"
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
same_as_kernel() {  # DESC PID
    local k; k=$(kernel_view "$2")
    if [ -z "$k" ]; then not_ok "$1 (the kernel shows no socket)"; return; fi
    check "$1" "$k" "$(tracer_view "$2" "$(fds_of "$k")")"
}

if command -v socat >/dev/null; then
    start backend --traced "$EX/fork_server" 0 1
    bport=$(said backend | sed -n 's/^PORT //p')
    fport=$(freeport)
    spawn socat --traced socat "TCP-LISTEN:$fport,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$bport"
    wait_listen "$fport"
    start cli --traced "$EX/client_ephemeral" 127.0.0.1 "$fport"
    wait_for backend 'what=served'
    child=$(pgrep -P "${PIDS[socat]}" | head -1)
    # the backend's accept is no sign that the child's connect returned
    # (and was recorded), nor that the parent closed its copy of the
    # client's connection: wait for each
    wait_traced "$child" '$3 == "127.0.0.1:'"$bport"'"' "the socat child's connect to the backend"
    wait_until "socat closed its copy of the client's connection (the kernel's view)" \
        '[ "$(kernel_view "${PIDS[socat]}" | wc -l)" = 1 ]'
    same_as_kernel "socat proxy, listening parent" "${PIDS[socat]}"
    same_as_kernel "socat proxy, forked child with both connections" "$child"
    check "the backend saw the socat child's ephemeral port" \
        "$(said backend | grep what=served | sed -E 's/.* peer=([^ ]*) .*/\1/')" \
        "$(tracer_view "$child" | awk -v b="127.0.0.1:$bport" '$3 == b {print $2}')"
    finish cli; finish backend
    stop socat

    iport=$(freeport)
    spawn isocat --traced socat "TCP-LISTEN:$iport,bind=127.0.0.1,reuseaddr" \
        "EXEC:$EX/inetd --service,nofork"
    wait_listen "$iport"
    start icli --traced "$EX/client_ephemeral" 127.0.0.1 "$iport"
    wait_for isocat READY
    svc=$(sed -n 's/^READY pid=//p' "$T/isocat.err")
    same_as_kernel "socat EXEC nofork: the exec'd service's inherited connection" "$svc"
    check "  ... the service's peer is the client's own local address" \
        "$(own_view icli | awk '{print $2}')" "$(tracer_field "$svc" 0 peer)"
    finish icli
    stop isocat
else
    skip "socat is not installed"
fi

NC=/bin/nc.openbsd
if [ -x "$NC" ]; then
    uport=$(freeport)
    mkfifo "$T/ncs.in" "$T/ncc.in"
    run_bg ncs "$PRELOAD" "$T/ncs.in" "$NC" -u -l 127.0.0.1 "$uport"
    exec {ncs}>"$T/ncs.in"
    IN_FD[ncs]=$ncs
    wait_listen -u "$uport"
    run_bg ncc "$PRELOAD" "$T/ncc.in" "$NC" -u 127.0.0.1 "$uport"
    exec {ncc}>"$T/ncc.in"
    IN_FD[ncc]=$ncc
    echo hello >&$ncc
    # nc -l -u connects to the first sender before it prints what it got
    wait_for ncs hello
    same_as_kernel "nc -u server" "${PIDS[ncs]}"
    same_as_kernel "nc -u client: port chosen at connect" "${PIDS[ncc]}"
    check "the UDP client's local port is the kernel's choice" "True" \
        "$("$SOCKTRACE" show "${PIDS[ncc]}" --json | python3 -c '
import json, sys
print(any(s["proto"] == "udp" and s["port_chosen_by_kernel"] for s in json.load(sys.stdin)["sockets"]))')"
    stop ncs; stop ncc
else
    skip "netcat-openbsd is not installed"
fi

if command -v curl >/dev/null; then
    hport=$(freeport)
    spawn http --traced python3 -m http.server "$hport" --bind 127.0.0.1
    wait_listen "$hport"
    same_as_kernel "python3 http.server listening" "${PIDS[http]}"
    # curl had its answer: the server's accept had returned (and recorded)
    "$SOCKTRACE" run --json -o "$T/curl.json" -- curl -s -o /dev/null "http://127.0.0.1:$hport/"
    curl_port=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([s["local"] for p in d["processes"] for s in p["sockets"] if s["proto"] == "tcp"][0])' "$T/curl.json")
    check "the server's accept saw curl's ephemeral port" "$curl_port" \
        "$("$SOCKTRACE" events "${PIDS[http]}" --json | python3 -c '
import json, sys
print([e["peer"] for e in map(json.loads, sys.stdin) if e["call"].startswith("accept")][-1])')"
    stop http
else
    skip "curl is not installed"
fi
done_testing
