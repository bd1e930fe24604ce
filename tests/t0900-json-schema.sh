# Every verb's JSON against docs/socktrace.schema.json (python3-jsonschema),
# over traces of real programs: curl against a traced python3 http.server,
# nginx master and workers, a refused connect, a name lookup, a command
# line too long for the trace file. The numbers in it are held against what
# the programs themselves reported: curl's %{local_port}, the port the
# server printed, ss, Python's own getaddrinfo. The README's JSON section
# names exactly the fields the schema has.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3     # Debian's, with python3-jsonschema
SCHEMA=$ROOT/docs/socktrace.schema.json
if ! $PY -c 'import jsonschema' 2>/dev/null; then
    skip "python3-jsonschema is not installed (apt-get install python3-jsonschema)"; done_testing; exit
fi
# valid VERB FILE: FILE is VERB's JSON by the schema
valid() {
    if $PY "$ROOT/tests/helpers/json_schema_check.py" "$SCHEMA" "$1" "$2" >"$T/valid.out" 2>&1; then
        ok "$1 JSON ($(basename "$2")) validates against the schema"
    else
        not_ok "$1 JSON ($(basename "$2")) validates against the schema"
        sed 's/^/#   /' "$T/valid.out" | head -20
    fi
}
# q FILE EXPR: a Python expression over the JSON in FILE as d (lines: L);
# an empty FILE (the viewer printed nothing) is one line no check expects
q() {
    $PY -c 'import json, sys
t = open(sys.argv[1]).read()
if not t.strip(): print("NO OUTPUT in " + sys.argv[1]); sys.exit(1)
try: d = json.loads(t)
except ValueError: d = None
L = [json.loads(l) for l in t.splitlines() if l.startswith("{")]
print(eval(sys.argv[2]))' "$1" "$2"
}

check_cmd "the schema is a valid draft 2020-12 schema" $PY -c '
import json, sys, jsonschema
jsonschema.Draft202012Validator.check_schema(json.load(open(sys.argv[1])))' "$SCHEMA"

# the README section and the schema name the same fields
readme_fields() {
    sed -n '/^## JSON schema/,/^## /p' "$ROOT/README.md" | grep -o '"[a-z_0-9]*":' | tr -d '":' | sort -u
}
schema_fields() {
    $PY -c 'import json, sys
names = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.get("properties", {}).items():
            names.add(k)
        for v in o.values(): walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
walk(json.load(open(sys.argv[1])))
print("\n".join(sorted(names)))' "$SCHEMA"
}
check "every field the schema names is a key in the README's JSON section, and no other" \
    "$(schema_fields)" "$(readme_fields)"

# a traced python3 http.server on a port the kernel chose; it says which
spawn srv --traced $PY -u -m http.server 0 --bind 127.0.0.1 --directory "$T"
wait_for srv "Serving HTTP"
port=$(said srv | sed -n 's/.* port \([0-9]*\) .*/\1/p' | head -1)
srv=${PIDS[srv]}

# run --json: the JSON on stdout after curl's own output
"$SOCKTRACE" run --json -- curl -s -o /dev/null -w 'LOCAL %{local_port}\n' \
    "http://127.0.0.1:$port/" >"$T/run.out" 2>"$T/run.err"
cport=$(sed -n 's/^LOCAL //p' "$T/run.out")
grep -v '^LOCAL ' "$T/run.out" >"$T/run.json"
check "run --json: curl's line first, then one JSON object, on stdout" "LOCAL $cport
{" "$(head -1 "$T/run.out"; sed -n 2p "$T/run.out" | cut -c1)"
check "run --json: nothing of ours on stderr" "" "$(cat "$T/run.err")"
valid run "$T/run.json"
check "run --json: curl's socket has the local port curl reported and the server's port" \
    "127.0.0.1 $cport 127.0.0.1 $port True" \
    "$(q "$T/run.json" '" ".join(str(x) for s in d["processes"][0]["sockets"] if s["proto"] == "tcp" for x in (s["local_ip"], s["local_port"], s["peer_ip"], s["peer_port"], s["port_chosen_by_kernel"]))')"
curl_pid=$(q "$T/run.json" 'd["processes"][0]["pid"]')
check "run --json: command is curl's argv" "curl -s -o /dev/null -w LOCAL %{local_port}\n http://127.0.0.1:$port/ False" \
    "$(q "$T/run.json" '" ".join(d["processes"][0]["command"] + [str(d["processes"][0]["command_truncated"])])')"

# -o FILE: the summary into the file, stdout curl's alone
"$SOCKTRACE" run --json -o "$T/run-o.json" -- curl -s -o /dev/null -w 'LOCAL %{local_port}\n' \
    "http://127.0.0.1:$port/" >"$T/run-o.out" 2>"$T/run-o.err"
cport2=$(sed -n 's/^LOCAL //p' "$T/run-o.out")
check "run --json -o FILE: stdout holds only curl's line" "LOCAL $cport2" "$(cat "$T/run-o.out")"
valid run "$T/run-o.json"
check "run -o: the port in the file is the one curl reported" "$cport2" \
    "$(q "$T/run-o.json" '[s["local_port"] for s in d["processes"][0]["sockets"] if s["proto"] == "tcp"][0]')"
"$SOCKTRACE" run -o "$T/run-o.txt" -- curl -s -o /dev/null "http://127.0.0.1:$port/" 2>"$T/run-t.err"
check "run -o FILE (text): the summary in the file, none on stderr" "1 traced process," \
    "$(grep -o '1 traced process,' "$T/run-o.txt")$(cat "$T/run-t.err")"
check "run -o into a directory that does not exist: an error, exit 1, the command not run" \
    "1 0" "$("$SOCKTRACE" run -o "$T/nope/x" -- touch "$T/ran" 2>/dev/null; echo $? "$(ls "$T/ran" 2>/dev/null | wc -l)")"

# a refused connect: to a port nothing listens on (bound, never listening)
closed_port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$SOCKTRACE" run --json -o "$T/refused.json" -- curl -s "http://127.0.0.1:$closed_port/" 2>/dev/null
valid run "$T/refused.json"
check "refused: peer_port is the port tried, connect_error ECONNREFUSED, connected false" \
    "$closed_port ECONNREFUSED False" \
    "$(q "$T/refused.json" '" ".join(str(x) for s in d["processes"][0]["sockets"] if s["proto"] == "tcp" for x in (s["peer_port"], s["connect_error"], s["connected"]))')"

# events --json of curl: fd null only where there is none, fd2 never -1
"$SOCKTRACE" events "$curl_pid" --json >"$T/ev.jl"
valid events "$T/ev.jl"
check "events: connect's peer_port is the server's, its local_port curl's" "$port $cport" \
    "$(q "$T/ev.jl" '" ".join(str(x) for e in L if e["call"] == "connect" and e["peer_port"] for x in (e["peer_port"], e["local_port"]))')"
check "events: no fd or fd2 of -1 (null instead)" "0" "$(grep -c '"fd2\?":-1' "$T/ev.jl")"

# a name lookup: ret is getaddrinfo's 0, the count in addresses
"$SOCKTRACE" run --json -o "$T/gai.json" -- $PY -c '
import socket
r = socket.getaddrinfo("localhost", 80)
print("N", len([a for a in r if a[0] in (socket.AF_INET, socket.AF_INET6)]))' >"$T/gai.out"
gai_pid=$(q "$T/gai.json" 'd["processes"][0]["pid"]')
"$SOCKTRACE" events "$gai_pid" --json >"$T/gai.jl"
valid events "$T/gai.jl"
check "getaddrinfo event: ret 0, addresses = what Python got" "0 $(sed -n 's/^N //p' "$T/gai.out")" \
    "$(q "$T/gai.jl" '" ".join(str(x) for e in L if e["call"] == "getaddrinfo" for x in (e["ret"], e["addresses"]))')"

# show of the traced server: its listener on the port it printed
"$SOCKTRACE" show "$srv" --json >"$T/show.json"
valid show "$T/show.json"
check "show: the listener's local_port is the one the server printed (and ss has)" \
    "$port $port" \
    "$(q "$T/show.json" '[s["local_port"] for s in d["sockets"] if s["state"] == "listening"][0]') $(ss -Htlnp "sport = :$port" | grep -c "pid=$srv," | sed "s/^1$/$port/")"
"$SOCKTRACE" show "$srv" --all --json >"$T/show-all.json"
valid show "$T/show-all.json"
check "show --all: the accepted connections' peer ports include curl's" "True" \
    "$(q "$T/show-all.json" "$cport in [s['peer_port'] for s in d['sockets'] if s['origin'] == 'accept']")"

# an untraced process: the kernel's view
start plain $PY -u -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print("READY", s.getsockname()[1]); sys.stdin.read()'
pport=$(said plain | sed -n 's/^READY //p')
"$SOCKTRACE" show "${PIDS[plain]}" --json >"$T/kernel.json"
valid show_kernel "$T/kernel.json"
check "show of an untraced process: its listener's port from /proc, the one it printed" "$pport listening" \
    "$(q "$T/kernel.json" '" ".join(str(x) for s in d["sockets"] for x in (s["local_port"], s["state"]))')"

# a command line too long for the trace file, with a control character
long=$(head -c 5000 /dev/zero | tr '\0' x)
"$SOCKTRACE" run --json -o "$T/long.json" -- curl -s -o /dev/null -H "X-Long: $long" \
    "http://127.0.0.1:$port/$(printf 'a\001b')" 2>/dev/null
valid run "$T/long.json"
check "a 5,000-character argument: command_truncated, command holds the arguments before it" \
    "True curl -s -o /dev/null -H" \
    "$(q "$T/long.json" '" ".join([str(d["processes"][0]["command_truncated"])] + d["processes"][0]["command"])')"
start ctl --traced $PY -u -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print("READY"); sys.stdin.read()' $'a\001b'
"$SOCKTRACE" ps --json >"$T/ps.json"
valid ps "$T/ps.json"
"$SOCKTRACE" show "${PIDS[ctl]}" --json >"$T/ctl.json"
check "a control character in argv: ps and show write the same JSON string" \
    "$(q "$T/ctl.json" 'json.dumps(d["command"][-1])')" \
    "$(q "$T/ps.json" "[json.dumps(p['command'][-1]) for p in d['processes'] if p['pid'] == ${PIDS[ctl]}][0]")"
check "... which is the argument as given" '"a\u0001b"' "$(q "$T/ctl.json" 'json.dumps(d["command"][-1])')"

# nginx: master and workers hold the listener
if [ -x "$NGINX" ]; then
    nport=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    start_nginx "127.0.0.1:$nport"
    curl -s -o /dev/null "http://127.0.0.1:$nport/"
    "$SOCKTRACE" ports --json >"$T/ports.json"
    valid ports "$T/ports.json"
    ss_pids=$(ss -Htlnp "sport = :$nport" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -n | tr '\n' ' ')
    check "ports: the processes holding nginx's port are those ss names" "$ss_pids" \
        "$(q "$T/ports.json" "' '.join(str(p) for p in sorted({p['process']['pid'] for p in d['ports'] if p['socket']['local_port'] == $nport})) + ' '")"
    check "ports: its port_chosen_by_kernel is false (nginx asked for it)" "False" \
        "$(q "$T/ports.json" "any(p['socket']['port_chosen_by_kernel'] for p in d['ports'] if p['socket']['local_port'] == $nport)")"
    "$SOCKTRACE" ports --all --json >"$T/ports-all.json"
    valid ports "$T/ports-all.json"
    check "ports --all: curl (ended) is there, with state exited" "exited" \
        "$(q "$T/ports-all.json" "[e['process']['state'] for e in d['ephemeral'] if e['process']['pid'] == $curl_pid][0]")"
    check "ports --all: curl's destination is the server's port, its port range curl's" "$port $cport $cport" \
        "$(q "$T/ports-all.json" "' '.join(str(x) for e in d['ephemeral'] if e['process']['pid'] == $curl_pid for x in (e['destinations'][0]['peer_port'], e['lowest'], e['highest']))")"
    "$SOCKTRACE" export >"$T/export.jl"
    valid export "$T/export.jl"
    check "export: nginx's listener, with the port it was given" "True" \
        "$(q "$T/export.jl" "any(l['socket']['local_port'] == $nport and l['socket']['state'] == 'listening' for l in L)")"
    check "export: no socket of an ended process is said connected" "0" \
        "$(q "$T/export.jl" "sum(1 for l in L if l['process']['state'] == 'exited' and l['socket']['state'] != 'closed')")"
    "$SOCKTRACE" export --all >"$T/export-all.jl"
    valid export "$T/export-all.jl"
    check "export --all: curl's closed socket, local_port as curl reported" "True" \
        "$(q "$T/export-all.jl" "any(l['process']['pid'] == $curl_pid and l['socket']['local_port'] == $cport for l in L)")"
    stop nginx
else
    skip "nginx is not installed (apt-get install nginx-light): ports, export over nginx"
fi
done_testing
