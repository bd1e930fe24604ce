# socktrace run: preloads the library, follows the process tree, exits with
# the command's status, and summarises every socket on stderr. A real
# client (curl) against a real server (python3 http.server): curl's
# ephemeral port in the summary must be the one the server saw.
. "$(dirname "$0")/lib.sh"
if ! command -v curl >/dev/null; then skip "curl is not installed"; done_testing; exit; fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 >"$T/http.log" 2>&1 &
PIDS[http]=$!
wait_listen "$port"
: >"$T/http.log"
"$SOCKTRACE" run --json -o "$T/run.json" -- curl -s -o /dev/null "http://127.0.0.1:$port/"
check "run exits with curl's status" "0" "$?"
summary=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["processes"]:
    for s in p["sockets"]:
        if s["proto"] == "tcp":
            print(s["local"], s["peer"], s["state"], s["port_chosen_by_kernel"])' "$T/run.json")
check "the summary has curl's connection to the server, port chosen by the kernel" \
    "127.0.0.1:P 127.0.0.1:$port closed True" "$(sed -E 's/^127\.0\.0\.1:[0-9]+/127.0.0.1:P/' <<<"$summary")"
kill "${PIDS[http]}"; wait "${PIDS[http]}" 2>/dev/null; unset "PIDS[http]"

# http.server logs only the client's IP; with our own server traced, the
# port curl got must be the one the server's accept returned
start srv --traced "$EX/fork_server" 0 1
sport=$(said srv | sed -n 's/^PORT //p')
"$SOCKTRACE" run --json -o "$T/run2.json" -- curl -s -m 2 -o /dev/null "http://127.0.0.1:$sport/"
wait_for srv 'what=served'
served_peer=$(said srv | grep 'what=served' | sed -E 's/.* peer=([^ ]*) .*/\1/')
curl_local=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([s["local"] for p in d["processes"] for s in p["sockets"] if s["proto"] == "tcp"][0])' "$T/run2.json")
check "curl's ephemeral port in the summary equals the port the server saw" "$served_peer" "$curl_local"
finish srv

"$SOCKTRACE" run --quiet -- sh -c 'exit 7' 2>"$T/err"
check "exit status passed through" "7" "$?"
check "--quiet prints nothing" "" "$(cat "$T/err")"
"$SOCKTRACE" run -q -- sh -c 'kill -TERM $$'
check "death by signal N gives 128+N" "143" "$?"
"$SOCKTRACE" run -q -- /no/such/program 2>/dev/null
check "a missing command gives 127" "127" "$?"

# the whole tree: a shell that forks a traced client, which daemonises;
# the shell ends once the client has made its socket (READY; hang guard 60 s)
"$SOCKTRACE" run --json -o "$T/tree.json" -- sh -c "(\"$EX/bind_port_zero\" </dev/null >'$T/bpz.out' &) ;
    i=0; until grep -q READY '$T/bpz.out' 2>/dev/null || [ \$i -ge 1200 ]; do sleep 0.05; i=\$((i + 1)); done"
check "the tree includes a grandchild started in the background" "True" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(any("bind_port_zero" in " ".join(p["command"]) for p in d["processes"]))' "$T/tree.json")"
check "the summary text is a table on stderr" "1" \
    "$("$SOCKTRACE" run -- "$EX/bind_port_zero" </dev/null 2>&1 >/dev/null | grep -c '^PID  *FD  *PROTO')"
check "an existing LD_PRELOAD is kept" "1" \
    "$(LD_PRELOAD=libc.so.6 "$SOCKTRACE" run -q -- sh -c 'echo $LD_PRELOAD' | grep -c 'libsocktrace.so libc.so.6')"
# set-uid to another user: a secure execution, the loader drops LD_PRELOAD.
# As root, a copy of true given to uid 65534; otherwise a system set-uid
# root program (one set-uid to its own runner would be no secure execution)
suid=()
if [ "$(id -u)" = 0 ]; then
    cp /bin/true "$T/suid-true" && chown 65534 "$T/suid-true" && chmod u+s "$T/suid-true"
    suid=("$T/suid-true")
else
    for p in /bin/mount /usr/bin/mount /bin/su /usr/bin/su; do
        [ -u "$p" ] && [ "$(stat -c %u "$p")" != "$(id -u)" ] && { suid=("$p" --version); break; }
    done
fi
if [ ${#suid[@]} -gt 0 ]; then
    "$SOCKTRACE" run -q -- "${suid[@]}" >/dev/null 2>"$T/err"
    check_cmd "a set-uid program gets a one-line warning" grep -q 'set-uid' "$T/err"
else
    skip "no set-uid program of another user to run"
fi
if [ "$(id -u)" = 0 ]; then
    # root running a set-uid root program (su) is no secure execution: the
    # preload is loaded, so no warning, and its sockets are in the summary
    cp "$EX/bind_port_zero" "$T/suid-bind" && chmod u+s "$T/suid-bind"
    "$SOCKTRACE" run --json -- "$T/suid-bind" </dev/null >"$T/out" 2>"$T/err"
    check "set-uid root run by root: no warning" "0" "$(grep -c 'set-uid' "$T/err")"
    check "  ... and traced: its sockets in the summary" "True" "$(python3 -c '
import json, sys
# stdout or stderr: wherever run writes its JSON
text = open(sys.argv[1]).read() + open(sys.argv[2]).read()
d = json.loads(text[text.index("{\"schema_version\""):].splitlines()[0])
print(any(p["sockets"] for p in d["processes"] if "suid-bind" in "".join(p["process"]["command"] if "process" in p else p["command"])))' "$T/out" "$T/err")"
else
    skip "set-uid root run by root: not root"; skip "  ... traced"
fi
if command -v busybox >/dev/null && ! ldd "$(command -v busybox)" >/dev/null 2>&1; then
    "$SOCKTRACE" run -q -- busybox true 2>"$T/err"
    check_cmd "a static program gets a one-line warning" grep -q 'statically linked' "$T/err"
else
    printf 'int main(void){return 0;}' >"$T/s.c"
    if cc -static "$T/s.c" -o "$T/static" 2>/dev/null; then
        "$SOCKTRACE" run -q -- "$T/static" 2>"$T/err"
        check_cmd "a static program gets a one-line warning" grep -q 'statically linked' "$T/err"
    else
        skip "no static libc to build a static program"
    fi
fi
done_testing
