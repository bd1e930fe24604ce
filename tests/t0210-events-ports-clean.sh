# events (with failures, JSON Lines, follow), ports (exposure, who chose the
# port, ephemeral ranges) and clean.
. "$(dirname "$0")/lib.sh"
start srv --traced "$EX/fork_server" 0 2
pid=$(ready_pid srv)
port=$(said srv | sed -n 's/^PORT //p')
# timeout(1): the hang guard; SIGTERM ends it
timeout 300 "$SOCKTRACE" events "$pid" -f --json >"$T/follow.jsonl" &
PIDS[follow]=$!
for _ in $(seq 1200); do follow=$(pgrep -P "${PIDS[follow]}") && break; sleep 0.05; done
watching "$follow"
start c1 --traced "$EX/client_ephemeral" 127.0.0.1 "$port"
start c2 --traced "$EX/client_ephemeral" 127.0.0.1 "$port"
wait_for srv 'what=served' 2
# its pid, not the newest file's (the server's last close can come later)
LD_PRELOAD="$PRELOAD" "$EX/client_ephemeral" 127.0.0.1 1 </dev/null >/dev/null 2>&1 &
refused=$!
wait "$refused"
# SIGTERM: its last look, after the signal, prints both accepts
kill -TERM "$follow"; wait "${PIDS[follow]}"; unset "PIDS[follow]"
accepts=$(python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["call"] == "accept": n += 1
print(n)' "$T/follow.jsonl")
check "events -f printed each connection as it was accepted" "2" "$accepts"
peers=$(python3 -c '
import json, sys
print(" ".join(e["peer"] for e in map(json.loads, open(sys.argv[1])) if e["call"] == "accept"))' "$T/follow.jsonl")
check "  ... with the clients' own local addresses as peers" \
    "$(own_view c1 | awk '{print $2}') $(own_view c2 | awk '{print $2}')" "$peers"
check "  ... naming each client at the other end (processes started after it)" \
    "$(ready_pid c1) $(ready_pid c2)" "$(python3 -c '
import json, sys
print(" ".join(str(e["peer_pid"]) for e in map(json.loads, open(sys.argv[1])) if e["call"] == "accept"))' "$T/follow.jsonl")"
check "a refused connect is an event with its errno name" "connect ECONNREFUSED 127.0.0.1:1" \
    "$("$SOCKTRACE" events "$refused" --json | python3 -c '
import json, sys
for e in map(json.loads, sys.stdin):
    if e["call"] == "connect": print(e["call"], e["errno"], e["peer"])')"
check_cmd "every events --json line parses" python3 -c '
import json, sys
[json.loads(l) for l in open(sys.argv[1])]' "$T/follow.jsonl"
check_cmd "text events show the refused connect" sh -c "'$SOCKTRACE' events $refused | grep -q 'connect .*ECONNREFUSED'"

ports=$("$SOCKTRACE" ports --json)
check "ports lists the server's listener, port chosen by the kernel, loopback only" \
    "127.0.0.1:$port True False $pid" "$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
for p in d["ports"]:
    print(p["socket"]["local"], p["socket"]["port_chosen_by_kernel"], p["reachable_from_other_hosts"], p["process"]["pid"])' "$ports")"
check "ephemeral ports of each client, as they saw them" \
    "$(own_view c1 | awk '{split($2,a,":"); print a[2]}') $(own_view c2 | awk '{split($2,a,":"); print a[2]}')" \
    "$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(" ".join(str(e["lowest"]) for e in sorted(d["ephemeral"], key=lambda e: e["process"]["pid"])))' "$ports")"
start w --traced "$EX/wildcard_server"
check "a wildcard listener is marked reachable from other hosts" "True" "$("$SOCKTRACE" ports --json | python3 -c '
import json, sys
print(any(p["reachable_from_other_hosts"] and p["process"]["pid"] == '"$(ready_pid w)"' for p in json.load(sys.stdin)["ports"]))')"
check_cmd "text ports says REACHABLE visibly" sh -c "'$SOCKTRACE' ports | grep -q 'REACHABLE: all interfaces'"
finish w; finish c1; finish c2; finish srv

start live --traced "$EX/bind_port_zero"
before=$(ls "$SOCKTRACE_DIR" | wc -l)
"$SOCKTRACE" clean >/dev/null
check "clean keeps only the running process's file" "$(ls "$SOCKTRACE_DIR")" \
    "$(ls "$SOCKTRACE_DIR" | grep "^$(ready_pid live)-")"
check "  ... having removed the others" "1" "$([ "$before" -gt 1 ] && echo 1)"
check "  ... and the .PID links of their files, keeping the running one's" ".$(ready_pid live)" \
    "$(cd "$SOCKTRACE_DIR" && for l in .[0-9]*; do [ -L "$l" ] && echo "$l"; done)"
check "  ... which names the running process's file" "$(ls "$SOCKTRACE_DIR")" \
    "$(readlink "$SOCKTRACE_DIR/.$(ready_pid live)")"
"$SOCKTRACE" clean --all >/dev/null
check "clean --all removes every file, and every link" "0" "$(ls -A "$SOCKTRACE_DIR" | wc -l)"
finish live
done_testing
