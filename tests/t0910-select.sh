# Selection and filters (issue 14), one grammar for show, ports, events and
# export, over real programs: nginx master + 2 workers, python3's
# http.server, socat as a forking proxy with a held client, curl. Each
# result is held against what ss prints for the same filter, or against the
# programs' own pids and ports.
. "$(dirname "$0")/lib.sh"
for p in "$NGINX" socat curl ss; do
    if ! command -v "$p" >/dev/null; then skip "$p is not installed"; done_testing; exit; fi
done
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# pids of `show --json` output (one object per line), sorted, one line
show_pids() { python3 -c '
import json, sys
print(" ".join(sorted({str(json.loads(l)["pid"]) for l in sys.stdin if l.strip()}, key=int)))'; }
# "pid local peer" of export lines, sorted
export_rows() { python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l); s = d["socket"]
    print(d["process"]["pid"], s["local"] or "-", s["peer"] or "-")' | sort -u; }
# "pid local peer" from ss output lines given as arguments to ss, for pids
ss_rows() { ss -H -n -p "$@" | awk '{
    line = $0; l = $(NF-2); p = $(NF-1)
    while (match(line, /pid=[0-9]+/)) { print substr(line, RSTART + 4, RLENGTH - 4), l, (p ~ /\*$/ ? "-" : p); line = substr(line, RSTART + RLENGTH) }
}' | sort -u; }
# check_some DESC EXPECTED ACTUAL: check, and an empty EXPECTED fails (the
# programs did not get to the state the test is about)
check_some() {
    if [ -z "$2" ] || [ "$2" = 0 ]; then not_ok "$1 (nothing to compare: '$2')"; else check "$@"; fi
}
only_pids() { local want=" $1 "; awk -v w="$want" 'index(w, " " $1 " ")'; }

nport=$(freeport); pport=$(freeport); sport=$(freeport)
start_nginx "127.0.0.1:$nport"
mkdir "$T/www"
spawn http --traced python3 -m http.server "$pport" --bind 127.0.0.1 --directory "$T/www"
spawn socat --traced socat "TCP-LISTEN:$sport,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$pport"
wait_listen "$pport"
wait_listen "$sport"
master=${PIDS[nginx]}
workers=$(pgrep -P "$master" | sort -n | tr '\n' ' ' | sed 's/ $//')
http=${PIDS[http]}
check "two nginx workers started" "2" "$(wc -w <<<"$workers")"
# curl's own local port, through its -w report
# the plain library: curl under the ASan-built one hangs (its resolver thread)
cport=$(LD_PRELOAD="$B/libsocktrace.so" curl -s -o /dev/null -w '%{local_port}' "http://127.0.0.1:$pport/")
# curl can be gone before the server closed its end: the server's handler
# thread ends after its close (back to the main thread alone)
wait_until "the server's handler thread ended (after its close of curl's connection)" \
    '[ "$(ls /proc/"$http"/task | wc -l)" = 1 ]'
start cli --traced "$EX/client_ephemeral" 127.0.0.1 "$sport"
cli=$(ready_pid cli)
# the client's connect returned once the kernel queued it: then socat
# accepts, forks a child that connects to the server (its connect and the
# server's accept recorded after the kernel's answers), and closes its copy
child=""
for _ in $(seq 1200); do child=$(pgrep -P "${PIDS[socat]}" | head -1); [ -n "$child" ] && break; sleep 0.05; done
[ -n "$child" ] || not_ok "socat forked a child for the client"
wait_traced "$child" '$3 == "127.0.0.1:'"$pport"'"' "the socat child's connect to the server"
wait_traced "$http" '$2 == "127.0.0.1:'"$pport"'" && $3 != "-"' "the server's accept of the socat child's connection"
wait_until "socat closed its copy of the client's connection (the kernel's view)" \
    '[ "$(kernel_view "${PIDS[socat]}" | wc -l)" = 1 ]'

# --- processes
check "show -c nginx: master and workers (pgrep's pids)" \
    "$(pgrep -x nginx | while read -r p; do grep -qw "$p" <<<"$master $workers" && echo "$p"; done | sort -n | tr '\n' ' ' | sed 's/ $//')" \
    "$("$SOCKTRACE" show -c nginx --json | show_pids)"
check "show nginx (a bare name) is show -c nginx" "$master $workers" "$("$SOCKTRACE" show nginx --json | show_pids)"
check "show PID PID: both workers" "$workers" "$("$SOCKTRACE" show $workers --json | show_pids)"
check "show -p PID,PID: both workers" "$workers" "$("$SOCKTRACE" show -p "${workers/ /,}" --json | show_pids)"
check "show --tree MASTER: the master and its forked workers" "$master $workers" \
    "$("$SOCKTRACE" show --tree "$master" --json | show_pids)"
check "show --tree SOCAT: socat and the child it forked for the held client" \
    "$(printf '%s\n' "${PIDS[socat]}" "$child" | sort -n | tr '\n' ' ' | sed 's/ $//')" \
    "$("$SOCKTRACE" show --tree "${PIDS[socat]}" --json | show_pids)"
check "show -c '^python' (a regular expression, as pgrep): the http.server" "$http" \
    "$("$SOCKTRACE" show -c '^python' --json | show_pids)"

# --- filters, against ss with the same filter
check_some "ports 'sport = :NGINX': the listener pids ss gives" \
    "$(ss -H -n -l -t -p "sport = :$nport" | grep -o 'pid=[0-9]*' | sed 's/pid=//' | sort -n | tr '\n' ' ' | sed 's/ $//')" \
    "$("$SOCKTRACE" ports --json "sport = :$nport" | python3 -c '
import json, sys
print(" ".join(sorted({str(p["process"]["pid"]) for p in json.load(sys.stdin)["ports"]}, key=int)))')"
traced="$master $workers $http ${PIDS[socat]} $child $cli"
check_some "export 'state listening and src 127.0.0.0/8' equals ss -tlnp 'src 127.0.0.0/8'" \
    "$(ss_rows -t -l 'src 127.0.0.0/8' | only_pids "$traced")" \
    "$("$SOCKTRACE" export 'state listening and src 127.0.0.0/8' | export_rows | only_pids "$traced")"
check_some "export '( sport = :PY or dport = :PY )' equals ss -tanp for it" \
    "$(ss_rows -t -a "( sport = :$pport or dport = :$pport )" | only_pids "$traced")" \
    "$("$SOCKTRACE" export "( sport = :$pport or dport = :$pport )" | export_rows)"
check_some "export 'dport = :SOCAT and state connected': the held client, as ss" \
    "$(ss_rows -t state established "dport = :$sport" | only_pids "$traced")" \
    "$("$SOCKTRACE" export "dport = :$sport" and state connected | export_rows)"
check "  ... and that is the client's own view" \
    "$cli $(own_view cli | awk '{print $2, $3}')" \
    "$("$SOCKTRACE" export "dport = :$sport" and state connected | export_rows)"
check_some "'(port X or port Y)' in one word, port either end, equals ss" \
    "$(ss_rows -t -a "( sport = :$sport or dport = :$sport or sport = :$pport or dport = :$pport )" | only_pids "$traced")" \
    "$("$SOCKTRACE" export "(port $sport or port $pport)" | export_rows)"
check_some "'tcp and not state listening and dst 127.0.0.1' on socat's child equals ss" \
    "$(ss_rows -t state established 'dst 127.0.0.1' | only_pids "$child")" \
    "$("$SOCKTRACE" export -p "$child" tcp and not state listening and dst 127.0.0.1 | export_rows)"
nunix=$(ss -H -x -a -p | grep -o "pid=$master,fd=[0-9]*" | sort -u | wc -l)
check_some "show MASTER unix: as many unix sockets as ss -xp shows for it" "$nunix" \
    "$("$SOCKTRACE" show "$master" unix --json | python3 -c '
import json, sys; print(len(json.load(sys.stdin)["sockets"]))')"
check "proto udp: none (no program here has a UDP socket, ss agrees)" \
    "$(ss_rows -u -a | only_pids "$traced" | wc -l)" \
    "$("$SOCKTRACE" export proto udp | export_rows | only_pids "$traced" | wc -l)"
check "show -c curl --all 'dport = :PY': curl's socket has the port curl reported" "$cport" \
    "$("$SOCKTRACE" show -c curl --all --json "dport = :$pport" | python3 -c '
import json, sys
for l in sys.stdin:
    for s in json.loads(l)["sockets"]: print(s["local"].rsplit(":", 1)[1])')"
check "events -c curl 'dport = :PY': the connect, with curl's port" "connect 127.0.0.1:$cport" \
    "$("$SOCKTRACE" events -c curl --json "dport = :$pport" | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e["call"] == "connect": print(e["call"], e["local"])')"

# --- sort
check "ports --sort port: ascending ports" \
    "$("$SOCKTRACE" ports --json | python3 -c '
import json, sys
print(sorted(p["socket"]["local_port"] for p in json.load(sys.stdin)["ports"] if p["socket"]["local_port"] is not None))')" \
    "$("$SOCKTRACE" ports --sort port --json | python3 -c '
import json, sys
print([p["socket"]["local_port"] for p in json.load(sys.stdin)["ports"] if p["socket"]["local_port"] is not None])')"
check "show --sort fd --all: fds ascending, open and closed mixed" \
    "$("$SOCKTRACE" show "$http" --all --json | python3 -c '
import json, sys; print(sorted(s["fd"] for s in json.load(sys.stdin)["sockets"]))')" \
    "$("$SOCKTRACE" show "$http" --all --sort fd --json | python3 -c '
import json, sys; print([s["fd"] for s in json.load(sys.stdin)["sockets"]])')"

# --- global options after the verb, errors
check "-d after the verb" "$workers" \
    "$(env -u SOCKTRACE_DIR "$SOCKTRACE" show $workers --json -d "$SOCKTRACE_DIR" | show_pids)"
check "--dir=DIR after the verb" "0" "$(status env -u SOCKTRACE_DIR "$SOCKTRACE" ports --dir="$SOCKTRACE_DIR")"
check "-d naming a regular file: exit 1" "1" "$(status "$SOCKTRACE" ps -d /etc/passwd)"
check "  ... one line saying so" "socktrace: trace directory /etc/passwd: not a directory" "$(cat "$T/err")"
check "-d naming a missing directory: exit 1, one line" "1 1" \
    "$(status "$SOCKTRACE" -d "$T/nonexistent" ports) $(wc -l <"$T/err")"
check "a PID word that is no number: exit 2, one line" \
    "2 socktrace: not a process id, a command name or a filter: 12ab" \
    "$(status "$SOCKTRACE" show 12ab) $(cat "$T/err")"
check "a name no traced process has: exit 1, one line" "1 socktrace: no traced process named nosuchprogram" \
    "$(status "$SOCKTRACE" show nosuchprogram) $(cat "$T/err")"
check "-p with a non-number: exit 2" "2 socktrace: not a process id: x" \
    "$(status "$SOCKTRACE" ports -p 12,x) $(cat "$T/err")"
check "a filter cut short: exit 2, one line" "2 1" \
    "$(status "$SOCKTRACE" show "$http" 'sport = :80 and') $(wc -l <"$T/err")"
check "an unknown state: exit 2, one line" "2 1" \
    "$(status "$SOCKTRACE" export state sleeping) $(wc -l <"$T/err")"
check "unbalanced parentheses: exit 2" "2" "$(status "$SOCKTRACE" export '( port 80')"
check "--sort with an unknown key: exit 2" "2" "$(status "$SOCKTRACE" ports --sort colour)"

finish cli
stop socat; stop http
kill "$master"; wait "$master" 2>/dev/null; unset "PIDS[nginx]"
done_testing
