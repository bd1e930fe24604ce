# watch and events -f: the live stream of every traced process. Started
# first, then real programs (a python3 http.server that logs each client's
# port, socat as a forking proxy, curl, a python client that forks
# children and a grandchild): every connect, accept and close appears once,
# with the ports the clients reported and the server logged, the bytes
# curl counted, nothing from before watch started (unless --since).
. "$(dirname "$0")/lib.sh"
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if ! command -v socat >/dev/null || ! command -v curl >/dev/null; then
    skip "socat and curl are needed"; done_testing; exit
fi
mkdir "$T/www" && head -c 3000 /dev/zero | tr '\0' x >"$T/www/f"
cat >"$T/server.py" <<'PY'
import functools, http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *a):
        print("CLIENT", self.client_address[1], flush=True)
class S(http.server.ThreadingHTTPServer):
    # after the server's close of the connection (its close event written)
    def process_request_thread(self, request, client_address):
        super().process_request_thread(request, client_address)
        print("CLOSED", client_address[1], flush=True)
h = functools.partial(H, directory=sys.argv[2])
S(("127.0.0.1", int(sys.argv[1])), h).serve_forever()
PY
cat >"$T/forker.py" <<'PY'
import os, socket, sys
port = int(sys.argv[1])
def conn(tag):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /f HTTP/1.0\r\n\r\n")
    while s.recv(65536): pass
    print("CONN", tag, os.getpid(), s.getsockname()[1], flush=True)
    s.close()
conn("before")
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.readline()
kids = []
for i in range(2):
    pid = os.fork()
    if pid == 0:
        if i == 1:      # a grandchild, forked before its parent has a socket
            g = os.fork()
            if g == 0:
                conn("grandchild"); os._exit(0)
            os.waitpid(g, 0)
        conn("child"); os._exit(0)
    kids.append(pid)
for k in kids: os.waitpid(k, 0)
print("DONE", flush=True)
PY
hport=$(freeport) fport=$(freeport)
spawn http --traced python3 "$T/server.py" "$hport" "$T/www"
for _ in $(seq 1200); do ss -Hltn "sport = :$hport" | grep -q . && break; sleep 0.05; done
# curl -w: its own count of the bytes it sent and received, and its port
CURLW='%{local_port} %{size_request} %{size_header} %{size_download}\n'
# curl hangs with the ASan runtime preloaded: the plain library for it
tcurl() { LD_PRELOAD="$B/libsocktrace.so" curl -s -o /dev/null -w "$CURLW" "$@"; }
before=$(tcurl "http://127.0.0.1:$hport/f")
start fk --traced python3 "$T/forker.py" "$hport"
fkpid=$(ready_pid fk)
# the server's closes of these two as well: nothing of them comes later
wait_for http '^CLOSED' 2

# --timeout and timeout(1): hang guards; SIGTERM ends them
W() { local name=$1; shift; "$SOCKTRACE" watch --timeout 300 "$@" >"$T/$name.out" 2>"$T/$name.err" & PIDS[$name]=$!; }
W all --json; W conn --connects --json; W clos --closes --json; W text
# the selection grammar: calls on connections to the proxy; socat's processes
W flt --json "dport = :$fport"; W sc --json -c socat
timeout 300 "$SOCKTRACE" events -f "$fkpid" --json >"$T/tree.out" 2>"$T/tree.err" & PIDS[tree]=$!
for _ in $(seq 1200); do tree_pid=$(pgrep -P "${PIDS[tree]}") && break; sleep 0.05; done
"$SOCKTRACE" watch --connects --json --timeout 300 > >(while read -r l; do echo "$l" >>"$T/piped.out"; done) &
PIDS[piped]=$!
# each has looked once: from here on everything is new to them
watching "${PIDS[all]}" "${PIDS[conn]}" "${PIDS[clos]}" "${PIDS[text]}" "${PIDS[flt]}" \
    "${PIDS[sc]}" "$tree_pid" "${PIDS[piped]}"

# after watch: a new forking proxy, curls through it and directly, the forker's children
spawn socat --traced socat "TCP-LISTEN:$fport,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$hport"
for _ in $(seq 1200); do ss -Hltn "sport = :$fport" | grep -q . && break; sleep 0.05; done
first=$(tcurl "http://127.0.0.1:$fport/f")
piped=no
for _ in $(seq 1200); do
    grep -q "\"local\":\"127.0.0.1:${first%% *}\"" "$T/piped.out" 2>/dev/null && { piped=yes; break; }
    sleep 0.05
done
kill -0 "${PIDS[piped]}" 2>/dev/null || piped="$piped, but watch has ended"
check "a pipe sees each line while watch still runs (not held to its end)" "yes" "$piped"
: >"$T/curls"
echo "$first" >>"$T/curls"
for _ in 1 2; do tcurl "http://127.0.0.1:$fport/f" >>"$T/curls"; done
direct=$(tcurl "http://127.0.0.1:$hport/f")
echo go >&"${IN_FD[fk]}"
wait_for fk DONE
finish fk
# the checks below take the children's ports and pids from these lines: a
# child that did not report (it raised, or died) is shown with its stderr
kids_said=$(said fk | awk '$1 == "CONN" && $2 != "before" {print $2}' | sort | tr '\n' ' ')
check "the forker's two children and its grandchild each reported its connection" \
    "child child grandchild " "$kids_said"
[ "$kids_said" = "child child grandchild " ] || sed 's/^/#   fk stderr: /' "$T/fk.err"
wait_for http '^CLOSED' 9
# the server's nine closes made (it says so after each: the kernel's view
# comes before the close event is written), every connection over in the
# kernel (socat's children exit after their ends close), then SIGTERM: a
# watcher's last look, after the signal, sees every call made
for _ in $(seq 1200); do
    ss -Htan | awk -v h=":$hport" -v f=":$fport" '$1 != "LISTEN" && $1 != "TIME-WAIT" && (index($4 " " $5 " ", h " ") || index($4 " " $5 " ", f " ")) {n++} END {exit n > 0}' && break
    sleep 0.05
done
for w in all conn clos text piped flt sc; do kill -TERM "${PIDS[$w]}" 2>/dev/null; done
wait "${PIDS[text]}"; rc=$?; unset "PIDS[text]"
check "SIGTERM ends watch cleanly (exit 0)" "0" "$rc"
for w in all conn clos piped flt sc; do wait "${PIDS[$w]}" 2>/dev/null; unset "PIDS[$w]"; done
wait "${PIDS[tree]}"; rc=$?; unset "PIDS[tree]"
check "events -f PID ends by itself when the process and its children have" "0" "$rc"

check_cmd "every watch --json line parses" python3 -c '
import json, sys
for f in sys.argv[1:]:
    [json.loads(l) for l in open(f)]' "$T/all.out" "$T/conn.out" "$T/clos.out" "$T/tree.out"
# and each follows the schema (docs/socktrace.schema.json, $defs/watch)
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
    for f in all conn clos tree; do
        /usr/bin/python3 -c 'import json, sys
for l in open(sys.argv[1]):
    if l.strip(): print(l.strip())' "$T/$f.out" >"$T/$f.jsonl"
        check_cmd "watch JSON ($f) validates against the schema" /usr/bin/python3 - "$ROOT/docs/socktrace.schema.json" "$T/$f.jsonl" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/watch"})
bad = [e.message[:200] for l in open(sys.argv[2]) for e in v.iter_errors(json.loads(l))]
print("\n".join(bad[:5])); sys.exit(1 if bad else 0)
PY
    done
else
    for _ in 1 2 3 4; do skip "python3-jsonschema is not installed"; done
fi

socat_pid=${PIDS[socat]}
server_ports=$(said http | sed -n 's/^CLIENT //p' | sort -n | tr '\n' ' ')
before_port=${before%% *}
curl_ports=$(cut -d' ' -f1 "$T/curls" | sort -n | tr '\n' ' ')
kid_ports=$(said fk | awk '$1 == "CONN" && $2 != "before" {print $4}' | sort -n | tr '\n' ' ')
fk_before=$(said fk | awk '$2 == "before" {print $4}')
# q FILE EXPR: a python expression over the list of events E, printed; a
# watcher that printed nothing is one line no check expects
q() { python3 -c '
import json, sys
E = [json.loads(l) for l in open(sys.argv[1])]
if not E: print("NO EVENTS in " + sys.argv[1]); sys.exit(1)
port = lambda a: int(a.rsplit(":", 1)[1]) if a else None
print(eval(sys.argv[2]))' "$@"; }
new_ports=$(printf '%s\n' $server_ports | grep -vx -e "$before_port" -e "$fk_before" | sort -n | tr '\n' ' ')
check "watch --connects: every connect to the server once, its port as the server logged it" \
    "$new_ports" "$(q "$T/conn.out" "' '.join(str(p) for p in sorted(port(e['local']) for e in E if e['call'] == 'connect' and port(e['peer']) == $hport)) + ' '")"
check "  ... each connected, by the outcome known later (curl connects non-blocking)" \
    "True" "$(q "$T/conn.out" "all(e['connected'] is True and e['connect_outcome'] == 'connected' for e in E if e['call'] == 'connect')")"
check "  ... curl's connects to the proxy, with the ports curl reported" "$curl_ports" \
    "$(q "$T/conn.out" "' '.join(str(p) for p in sorted(port(e['local']) for e in E if e['call'] == 'connect' and port(e['peer']) == $fport)) + ' '")"
check "  ... the proxy's accepts (a process started after watch), the same ports" "$curl_ports" \
    "$(q "$T/conn.out" "' '.join(str(p) for p in sorted(port(e['peer']) for e in E if e['call'].startswith('accept') and e['pid'] == $socat_pid)) + ' '")"
check "  ... the server's accepts: the ports it logged" "$new_ports" \
    "$(q "$T/conn.out" "' '.join(str(p) for p in sorted(port(e['peer']) for e in E if e['call'].startswith('accept') and e['pid'] == ${PIDS[http]})) + ' '")"
up_ports=$(printf '%s\n' $new_ports | grep -vx -e "${direct%% *}" $(printf -- '-e %s ' $kid_ports) | tr '\n' ' ')
socat_kids=$(q "$T/conn.out" "' '.join(sorted({str(e['pid']) for e in E if e['call'] == 'connect' and port(e['local']) in [int(x) for x in '$up_ports'.split()]}))")
check "  ... the proxy's upstream connects: one per curl, each from a child the proxy forked" \
    "3 $socat_pid " "$(wc -w <<<"$socat_kids") $(for p in $socat_kids; do "$SOCKTRACE" show "$p" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ppid"])'; done | sort -u | tr '\n' ' ')"
check "nothing from before watch started (curl's and the forker's first connections)" "0" \
    "$(for f in all conn clos; do [ -s "$T/$f.out" ] || echo "$f.out is empty"; done
       grep -c -e ":$before_port\"" -e ":$fk_before\"" "$T/all.out" "$T/conn.out" "$T/clos.out" | awk -F: '{s += $NF} END {print s}')"
check "watch (every call) has each connect and accept of --connects" \
    "$(q "$T/conn.out" "sorted((e['pid'], e['seq']) for e in E)")" \
    "$(q "$T/all.out" "sorted((e['pid'], e['seq']) for e in E if e['call'] == 'connect' or (e['call'].startswith('accept') and e['ret'] >= 0))")"
check "  ... each call once" "0" "$(q "$T/all.out" "len(E) - len({(e['pid'], e['seq']) for e in E})")"

check "watch 'dport = :PROXY': the connects to the proxy, from the ports curl reported" "$curl_ports" \
    "$(q "$T/flt.out" "' '.join(str(p) for p in sorted(port(e['local']) for e in E if e['call'] == 'connect')) + ' '")"
check "  ... and no call on another connection" "0" \
    "$(q "$T/flt.out" "sum(1 for e in E if port(e['peer']) != $fport)")"
check "watch -c socat: the proxy and its forked children only (each child's parent is the proxy)" \
    "yes" "$(q "$T/sc.out" "'yes' if $socat_pid in {e['pid'] for e in E} and {e['pid'] for e in E} <= {$socat_pid} | {int(x) for x in '$socat_kids'.split()} else sorted({e['pid'] for e in E})")"

# closes: bytes as curl counted them, at both ends of each connection
want=$(while read -r lp req hdr body; do echo "$lp $req $((hdr + body))"; done <<<"$(cat "$T/curls"; echo "$direct")" | sort -n)
check "watch --closes: curl's connections, bytes sent and received as curl counted" "$want" \
    "$(q "$T/clos.out" "'\n'.join(sorted('%d %d %d' % (port(e['local']), e['bytes_sent'], e['bytes_received']) for e in E if port(e['peer']) in ($fport, $hport) and port(e['local']) in [int(x) for x in '$curl_ports ${direct%% *}'.split()]))")"
# the server's end of curl's direct connection: what curl sent and got
# (http.server shuts down its sending side before the close; the peer's
# FIN is no byte); a socat child's ends close at its exit, which no close
# call records, so --closes has none of them
read -r dport dreq dhdr dbody <<<"$direct"
check "  ... the server's end of curl's direct connection: received and sent as curl counted" \
    "$dreq $((dhdr + dbody))" \
    "$(q "$T/clos.out" "' '.join('%d %d' % (e['bytes_received'], e['bytes_sent']) for e in E if e['pid'] == ${PIDS[http]} and port(e['peer']) == $dport)")"
http_pid=${PIDS[http]}
check "  ... every connection the server accepted closed once by the server, with a duration" \
    "$new_ports" "$(q "$T/clos.out" "' '.join(str(p) for p in sorted(port(e['peer']) for e in E if e['pid'] == $http_pid and e['duration_ms'] > 0)) + ' '")"
check "  ... each close once" "0" "$(q "$T/clos.out" "len(E) - len({(e['pid'], e['seq']) for e in E})")"

# events -f PID: the forker's children and grandchild, started after it
check "events -f PID follows the children and the grandchild it forks" "$kid_ports" \
    "$(q "$T/tree.out" "' '.join(str(p) for p in sorted(port(e['local']) for e in E if e['call'] == 'connect')) + ' '")"
check "  ... with their pids, as they reported" \
    "$(said fk | awk '$1 == "CONN" && $2 != "before" {print $3}' | sort -n | tr '\n' ' ')" \
    "$(q "$T/tree.out" "' '.join(str(e['pid']) for e in sorted(E, key=lambda e: e['pid']) if e['call'] == 'connect') + ' '")"
check "  ... and nothing of other processes, nor from before it started" "[]" \
    "$(q "$T/tree.out" "sorted({e['pid'] for e in E} - {int(p) for p in '$(said fk | awk '$1 == "CONN" && $2 != "before" {print $3}' | tr '\n' ' ')'.split()})")"

# --since: what the rings still hold, from before watch started
"$SOCKTRACE" watch --connects --json --since 30m --timeout 1 >"$T/since.out"
check "watch --since 30m has the connects from before watch started" "$before_port $fk_before" \
    "$(q "$T/since.out" "' '.join(str(port(e['local'])) for e in E if e['call'] == 'connect' and port(e['local']) in ($before_port, $fk_before))")"
"$SOCKTRACE" watch --connects --json --since "$(date -d '-30 min' '+%Y-%m-%d %H:%M:%S')" --timeout 1 >"$T/since2.out"
check "  ... the same with a clock time" "$(cat "$T/since.out" | wc -l)" "$(wc -l <"$T/since2.out")"
check "  ... and every connect/accept since then, once" \
    "$(( $(wc -w <<<"$server_ports") * 2 + 3 * 2 ))" "$(wc -l <"$T/since.out")"

# --count, --closes text, bad input
"$SOCKTRACE" watch --json --count 3 --timeout 60 >"$T/count.out" & PIDS[count]=$!
watching "${PIDS[count]}"
tcurl "http://127.0.0.1:$hport/f" >/dev/null
wait "${PIDS[count]}"; rc=$?; unset "PIDS[count]"
wait_for http '^CLOSED' 10
check "--count 3 stops after 3 lines" "0 3" "$rc $(wc -l <"$T/count.out")"
# curl's close and the server's: two lines, then it stops
"$SOCKTRACE" watch --closes --count 2 --timeout 60 >"$T/ct.out" & PIDS[ct]=$!
watching "${PIDS[ct]}"
last=$(tcurl "http://127.0.0.1:$hport/f")
wait "${PIDS[ct]}"; unset "PIDS[ct]"
read -r lp req hdr body <<<"$last"
check "watch --closes text: TX_BYTES and RX_BYTES as curl counted" "$req $((hdr + body))" \
    "$(awk -v lp="127.0.0.1:$lp" '$5 == lp {print $(NF-2), $(NF-1)}' "$T/ct.out")"
check "--since garbage is a usage error" "2" "$(status "$SOCKTRACE" watch --since yesterday-ish)"
check "  ... with one line saying why" "socktrace: --since: not a time or a duration: yesterday-ish; see socktrace watch --help" "$(cat "$T/err")"
check "--connects with --closes is a usage error" "2" "$(status "$SOCKTRACE" watch --connects --closes)"
check "-p garbage is a usage error" "2" "$(status "$SOCKTRACE" watch -p nope)"
stop socat; stop http
done_testing
